#include "libs/kpi/registry.h"

#include "libs/kpi/family.h"

namespace takt::kpi {
namespace {

using E = Element;
constexpr double kPercent = 100.0;
constexpr double kMicrosPerHour = 3.6e9;

std::vector<KpiDef> MakeRegistry() {
  const std::vector<E> aubt = {E::kApt, E::kAust, E::kAdet};
  const std::vector<E> aupt = {E::kApt, E::kAust};
  return {
      {"oee", "OEE index", "%", Better::kHigher, "ISO 22400-2:2014 KPI 6 (OEE index)",
       "Availability x Effectiveness x Quality ratio = PRI*GQ / PBT",
       {{{E::kPriGq}, {E::kPbt}}}, kPercent},
      {"availability", "Availability", "%", Better::kHigher, "ISO 22400-2:2014 KPI 8",
       "APT / PBT", {{{E::kApt}, {E::kPbt}}}, kPercent},
      {"effectiveness", "Effectiveness", "%", Better::kHigher, "ISO 22400-2:2014 KPI 9",
       "PRI*PQ / APT", {{{E::kPriPq}, {E::kApt}}}, kPercent},
      {"quality_ratio", "Quality ratio", "%", Better::kHigher, "ISO 22400-2:2014 KPI 10",
       "GQ / PQ, time-weighted: PRI*GQ / PRI*PQ (equals GQ/PQ for one product; keeps "
       "A x E x Q = OEE for mixed products)",
       {{{E::kPriGq}, {E::kPriPq}}}, kPercent},
      {"nee", "NEE index", "%", Better::kHigher, "ISO 22400-2:2014 KPI 7",
       "(AUPT / PBT) x Effectiveness x Quality ratio = (APT+AUST)/PBT x PRI*GQ/APT",
       {{aupt, {E::kPbt}}, {{E::kPriGq}, {E::kApt}}}, kPercent},
      {"utilization_efficiency", "Utilization efficiency", "%", Better::kHigher,
       "ISO 22400-2:2014 KPI 5", "APT / AUBT, AUBT = APT + AUST + ADET",
       {{{E::kApt}, aubt}}, kPercent},
      {"allocation_efficiency", "Allocation efficiency", "%", Better::kHigher,
       "ISO 22400-2:2014 KPI 4", "AUBT / PBT", {{aubt, {E::kPbt}}}, kPercent},
      {"setup_ratio", "Setup ratio", "%", Better::kLower, "ISO 22400-2:2014 KPI 11",
       "AUST / AUPT, AUPT = APT + AUST", {{{E::kAust}, aupt}}, kPercent},
      {"technical_efficiency", "Technical efficiency", "%", Better::kHigher,
       "ISO 22400-2:2014 KPI 12", "APT / (APT + ADET)",
       {{{E::kApt}, {E::kApt, E::kAdet}}}, kPercent},
      {"throughput_rate", "Throughput rate", "items/h", Better::kHigher,
       "ISO 22400-2:2014 KPI 3", "PQ / AOET", {{{E::kPq}, {E::kAoet}}}, kMicrosPerHour},
      {"scrap_ratio", "Scrap ratio", "%", Better::kLower, "ISO 22400-2:2014 KPI 16", "SQ / PQ",
       {{{E::kSq}, {E::kPq}}}, kPercent},
      {"rework_ratio", "Rework ratio", "%", Better::kLower, "ISO 22400-2:2014 KPI 17",
       "RQ / PQ", {{{E::kRq}, {E::kPq}}}, kPercent},
      {"mtbf", "Mean operating time between failures", "h", Better::kHigher,
       "ISO 22400-2:2014 KPI 31", "sum TBF / FE", {{{E::kTbf}, {E::kFe}}},
       1.0 / kMicrosPerHour},
      {"mttf", "Mean time to failure", "h", Better::kHigher, "ISO 22400-2:2014 KPI 32",
       "sum TTF / FE", {{{E::kTtf}, {E::kFe}}}, 1.0 / kMicrosPerHour},
      {"mttr", "Mean time to restoration", "h", Better::kLower, "ISO 22400-2:2014 KPI 33",
       "sum TTR / FE", {{{E::kTtr}, {E::kFe}}}, 1.0 / kMicrosPerHour},
      // Schedule and delivery (not in ISO 22400-2; order-based definitions).
      {"schedule_adherence", "Schedule adherence", "%", Better::kHigher,
       "order-based schedule adherence (usersolutions.com, kpilibrary.com)",
       "orders completed within their planned window / orders scheduled",
       {{{E::kOrdersInWindow}, {E::kOrdersScheduled}}}, kPercent},
      {"on_time_completion", "On-time completion", "%", Better::kHigher,
       "on-time delivery against due dates", "orders completed by their due date / orders "
       "completed that had one", {{{E::kOrdersOnTime}, {E::kOrdersWithDue}}}, kPercent},
      {"mean_lateness", "Mean lateness", "h", Better::kLower,
       "mean lateness L = C - d (negative: early)",
       "sum (completion - due) / orders completed that had a due date",
       {{{E::kLateness}, {E::kOrdersWithDue}}}, 1.0 / kMicrosPerHour},
      {"late_orders", "Late orders", "orders", Better::kLower, "number of tardy jobs",
       "orders completed after their due date", {{{E::kOrdersLate}, {}}}, 1.0},
  };
}

int64_t Sum(const int64_t* values, size_t n, const std::vector<int>& elements) {
  int64_t total = 0;
  for (int e : elements) {
    if (e >= 0 && static_cast<size_t>(e) < n) total = AddChecked(total, values[e]);
  }
  return total;
}

std::optional<double> EvaluateOver(const KpiDef& kpi, const int64_t* values, size_t n) {
  double value = kpi.scale;
  for (const Factor& f : kpi.factors) {
    // No denominator: a plain sum (a count).
    const int64_t den = f.denominator.empty() ? 1 : Sum(values, n, f.denominator);
    if (den == 0) return std::nullopt;
    value *= static_cast<double>(Sum(values, n, f.numerator)) / static_cast<double>(den);
  }
  return value;
}

}  // namespace

std::string_view ElementName(Element e) {
  static constexpr std::string_view kNames[] = {
      "PBT", "APT", "AUST", "ADET", "ADOT", "PDT", "PRI*PQ", "PRI*GQ", "PQ",
      "GQ",  "SQ",  "RQ",   "FE",   "TBF",  "TTR", "TTF",    "AOET",
      "ORDERS_SCHEDULED", "ORDERS_IN_WINDOW", "ORDERS_COMPLETED", "ORDERS_WITH_DUE",
      "ORDERS_ON_TIME", "ORDERS_LATE", "LATENESS"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == kElementCount);
  return kNames[static_cast<int>(e)];
}

bool IsTimeElement(Element e) {
  switch (e) {
    case Element::kPq:
    case Element::kGq:
    case Element::kSq:
    case Element::kRq:
    case Element::kFe:
    case Element::kOrdersScheduled:
    case Element::kOrdersInWindow:
    case Element::kOrdersCompleted:
    case Element::kOrdersWithDue:
    case Element::kOrdersOnTime:
    case Element::kOrdersLate:
      return false;
    default:
      return true;
  }
}

const std::vector<KpiDef>& Registry() {
  static const std::vector<KpiDef>* registry = new std::vector<KpiDef>(MakeRegistry());
  return *registry;
}

const KpiDef* FindKpi(std::string_view id) {
  for (const KpiDef& k : Registry()) {
    if (k.id == id) return &k;
  }
  for (const FamilyRegistration* f : Families()) {
    for (const KpiDef& k : f->kpis) {
      if (k.id == id) return &k;
    }
  }
  return nullptr;
}

std::optional<double> Evaluate(const KpiDef& kpi, const ElementSums& sums) {
  return EvaluateOver(kpi, sums.v.data(), sums.v.size());
}

std::optional<double> Evaluate(const KpiDef& kpi, const std::vector<int64_t>& values) {
  return EvaluateOver(kpi, values.data(), values.size());
}

}  // namespace takt::kpi
