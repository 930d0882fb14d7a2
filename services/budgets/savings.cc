#include "services/budgets/savings.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/status_macros.h"
#include "services/budgets/money.h"

namespace takt::budgets {
namespace {

// A KPI as numerator over denominator, summed over days.
struct Sums {
  int64_t num = 0;  // scrap units; AQ or AH nanos; cost in minor units
  int64_t den = 0;  // units made; SQ or SH nanos; good units
  int64_t postings = 0;
};
struct Facts {
  Sums total;
  std::map<std::string, Sums> products;  // SCRAP_RATIO only
  std::set<std::string> without_card;    // MATERIAL_USAGE, LABOUR_EFFICIENCY: output no SQ allows
};

absl::Status Add(int64_t& sum, int64_t v) {
  if (!AddTo(sum, v)) return absl::OutOfRangeError("an initiative's sum leaves the int64 range");
  return absl::OkStatus();
}

bool InScope(const Initiative& i, const std::string& product) {
  return i.proposal.product().empty() || i.proposal.product() == product;
}

// The facts of days [a, b] for the initiative's KPI.
absl::StatusOr<Facts> Collect(const BudgetBook& book, const Initiative& i, const ActualByDay& actual,
                              const OutputByDay& output, absl::CivilDay a, absl::CivilDay b) {
  Facts f;
  const v1::TargetKpi kpi = i.proposal.target_kpi();
  const std::string& account = i.proposal.account();
  for (auto it = output.lower_bound({a, ""}); it != output.end() && it->first.first <= b; ++it) {
    const auto& [day, product] = it->first;
    if (!InScope(i, product)) continue;
    const Output& o = it->second;
    switch (kpi) {
      case v1::SCRAP_RATIO: {
        int64_t made = o.good;
        TAKT_RETURN_IF_ERROR(Add(made, o.scrap));
        Sums& p = f.products[product];
        TAKT_RETURN_IF_ERROR(Add(p.num, o.scrap));
        TAKT_RETURN_IF_ERROR(Add(p.den, made));
        TAKT_RETURN_IF_ERROR(Add(f.total.num, o.scrap));
        TAKT_RETURN_IF_ERROR(Add(f.total.den, made));
        break;
      }
      case v1::MATERIAL_USAGE:
      case v1::LABOUR_EFFICIENCY: {
        const std::vector<StandardQuantity>* card = book.StandardCard(product, absl::CivilMonth(day));
        if (card == nullptr) {
          if (o.good != 0) f.without_card.insert(product);
          break;
        }
        for (const StandardQuantity& line : *card) {
          if (line.account != account) continue;
          TAKT_ASSIGN_OR_RETURN(int64_t q, MulDiv(o.good, line.per_unit.nanos, 1));
          TAKT_RETURN_IF_ERROR(Add(f.total.den, q));
        }
        break;
      }
      default:
        TAKT_RETURN_IF_ERROR(Add(f.total.den, o.good));
        break;
    }
  }
  if (kpi == v1::SCRAP_RATIO) return f;
  for (auto it = actual.lower_bound({a, "", ""}); it != actual.end() && std::get<0>(it->first) <= b; ++it) {
    if (std::get<1>(it->first) != account || !InScope(i, std::get<2>(it->first))) continue;
    const Actual& x = it->second;
    TAKT_RETURN_IF_ERROR(Add(f.total.num, kpi == v1::COST_PER_GOOD_UNIT ? x.amount : x.quantity_nanos));
    TAKT_RETURN_IF_ERROR(Add(f.total.postings, x.postings));
  }
  return f;
}

// num / den as a decimal with six places ("" when den is 0); cost per good
// unit in major units of `exponent`.
std::string Ratio(const Sums& s, v1::TargetKpi kpi, int exponent) {
  if (s.den == 0) return "";
  int64_t scale = 1'000'000;  // a cost per unit in major units: fewer micros per minor unit
  if (kpi == v1::COST_PER_GOOD_UNIT) {
    for (int k = 0; k < exponent; ++k) scale /= 10;
  }
  auto micros = MulDiv(s.num, scale, s.den);
  if (!micros.ok() || *micros > INT64_MAX / 1000 || *micros < INT64_MIN / 1000) return "";
  return FormatDecimal(Decimal{*micros * 1000});
}

// The saving of one month's measured facts against the baseline.
absl::StatusOr<int64_t> Value(const BudgetBook& book, const Initiative& i, const Facts& base, const Facts& now,
                              absl::CivilMonth m, std::set<std::string>& notes) {
  const v1::TargetKpi kpi = i.proposal.target_kpi();
  if (kpi == v1::SCRAP_RATIO) {
    int64_t value = 0;
    for (const auto& [product, s] : now.products) {
      if (s.den == 0) continue;
      auto b = base.products.find(product);
      if (b == base.products.end() || b->second.den == 0) {
        notes.insert(absl::StrCat("product ", product, " made nothing in the baseline window"));
        continue;
      }
      TAKT_ASSIGN_OR_RETURN(std::optional<int64_t> unit_cost, book.StandardUnitCost(product, m));
      if (!unit_cost) {
        notes.insert(absl::StrCat("product ", product, " has no standard cost card for ", MonthText(m)));
        continue;
      }
      // (scrap_b / made_b x made - scrap) x unit cost
      //   = (scrap_b x made - scrap x made_b) x unit cost / made_b, rounded once, half to even.
      const absl::int128 numerator =
          (absl::int128(b->second.num) * s.den - absl::int128(s.num) * b->second.den) * *unit_cost;
      const absl::int128 den = b->second.den;
      absl::int128 q = numerator / den, r = numerator % den;
      if (r < 0) {
        q -= 1;
        r += den;
      }
      if (r * 2 > den || (r * 2 == den && (q & 1) != 0)) q += 1;
      if (q > absl::int128(INT64_MAX) || q < absl::int128(INT64_MIN)) {
        return absl::OutOfRangeError("a saving leaves the int64 range");
      }
      TAKT_RETURN_IF_ERROR(Add(value, static_cast<int64_t>(q)));
    }
    return value;
  }
  if (base.total.den == 0 || base.total.postings == 0) return 0;  // no baseline rate: noted by the caller
  if (now.total.den == 0) {
    // Nothing made (or allowed) but cost or quantity posted: all of it is
    // beyond the baseline's rate.
    if (now.total.num == 0) return 0;
    if (kpi == v1::COST_PER_GOOD_UNIT) return -now.total.num;
    return Cost(Decimal{-now.total.num}, book.StandardPrice(i.proposal.account()));
  }
  if (now.total.postings == 0) {
    notes.insert(absl::StrCat("no postings of ", i.proposal.account(), " on the measured days of ", MonthText(m),
                              " (not valued)"));
    return 0;
  }
  TAKT_ASSIGN_OR_RETURN(int64_t expected, MulDiv(base.total.num, now.total.den, base.total.den));
  int64_t diff = expected;
  TAKT_RETURN_IF_ERROR(Add(diff, -now.total.num));
  if (kpi == v1::COST_PER_GOOD_UNIT) return diff;
  return Cost(Decimal{diff}, book.StandardPrice(i.proposal.account()));
}

absl::StatusOr<int64_t> Planned(const Initiative& i, absl::CivilMonth m, absl::CivilDay first, absl::CivilDay last) {
  const absl::CivilDay month_first(m), month_last = absl::CivilDay(m + 1) - 1;
  const absl::CivilDay a = std::max(first, month_first), b = std::min(last, month_last);
  if (b < a) return 0;
  return MulDiv(i.proposal.planned_savings_per_month(), b - a + 1, month_last - month_first + 1);
}

std::string Rule(const Initiative& i, const BudgetBook& book, const Facts& base, const Facts& measured) {
  const auto& p = i.proposal;
  const int exponent = MinorExponent(book.currency()).value_or(2);
  const std::string b = Ratio(base.total, p.target_kpi(), exponent);
  const std::string now = Ratio(measured.total, p.target_kpi(), exponent);
  const v1::AccountDefined* a = book.FindAccount(p.account());
  const std::string unit = a != nullptr && !a->unit().empty() ? a->unit() : "unit";
  switch (p.target_kpi()) {
    case v1::SCRAP_RATIO:
      return absl::StrCat("per product and month: (baseline scrap ratio x units made - scrap) x standard unit cost; "
                          "scrap ratio ", b, " in the baseline, ", now, " measured over ", measured.total.den,
                          " units made");
    case v1::MATERIAL_USAGE:
    case v1::LABOUR_EFFICIENCY:
      return absl::StrCat("per month: (baseline ", p.target_kpi() == v1::MATERIAL_USAGE ? "AQ/SQ" : "AH/SH",
                          " x standard quantity - actual quantity) x standard price ",
                          FormatDecimal(book.StandardPrice(p.account())), " minor units per ", unit, "; ratio ", b,
                          " in the baseline, ", now, " measured; actual ", FormatDecimal({measured.total.num}), " ",
                          unit, " against ", FormatDecimal({measured.total.den}), " allowed");
    case v1::COST_PER_GOOD_UNIT:
      return absl::StrCat("per month: baseline cost per good unit x good units - actual cost of ", p.account(),
                          "; ", b, " ", book.currency(), " per unit in the baseline, ", now, " measured over ",
                          measured.total.den, " good units");
    default:
      return "";
  }
}

}  // namespace

absl::StatusOr<v1::InitiativeSavings> MeasureSavings(const BudgetBook& book, const std::string& facility,
                                                     const Initiative& i, const ActualByDay& actual,
                                                     const OutputByDay& output, absl::CivilDay from,
                                                     absl::CivilDay to) {
  const auto& p = i.proposal;
  v1::InitiativeSavings out;
  out.set_facility(facility);
  out.set_initiative(p.initiative());
  out.set_title(p.title());
  out.set_method(p.method());
  out.set_owner(p.owner());
  out.set_stage(i.stage);
  out.set_target_kpi(p.target_kpi());
  out.set_account(p.account());
  out.set_product(p.product());
  out.set_baseline_from(p.baseline_from());
  out.set_baseline_to(p.baseline_to());
  if (i.started) out.set_started(absl::FormatCivilTime(*i.started));
  out.set_currency(book.currency());
  const int exponent = MinorExponent(book.currency()).value_or(2);

  TAKT_ASSIGN_OR_RETURN(Facts base, Collect(book, i, actual, output, i.baseline_from, i.baseline_to));
  out.set_baseline_value(Ratio(base.total, p.target_kpi(), exponent));

  // The days planned savings accrue and the days measured.
  const absl::CivilDay stop = i.cancelled ? std::min(to, *i.cancelled - 1) : to;
  const bool plans = i.stage != v1::PROPOSED && !(i.stage == v1::CANCELLED && i.approved_by.empty());
  const absl::CivilDay plan_first = std::max(from, i.started ? *i.started : i.planned_start);
  const absl::CivilDay measure_first = i.started ? std::max(from, *i.started) : to + 1;
  std::set<std::string> notes;
  if (base.total.den == 0) {
    notes.insert("nothing was made in the baseline window");
  } else if (p.target_kpi() != v1::SCRAP_RATIO && base.total.postings == 0) {
    notes.insert(absl::StrCat("no postings of ", p.account(), " in the baseline window"));
  }
  if (!i.started) notes.insert("not started");
  Facts measured_all;
  int64_t planned = 0, measured = 0, confirmed = 0;
  for (absl::CivilMonth m(from); m <= absl::CivilMonth(to); ++m) {
    v1::MonthSavings month;
    month.set_month(MonthText(m));
    if (plans) {
      TAKT_ASSIGN_OR_RETURN(int64_t v, Planned(i, m, plan_first, stop));
      month.set_planned(v);
    }
    const absl::CivilDay a = std::max(measure_first, absl::CivilDay(m));
    const absl::CivilDay b = std::min(stop, absl::CivilDay(m + 1) - 1);
    if (a <= b && base.total.den > 0) {
      TAKT_ASSIGN_OR_RETURN(Facts now, Collect(book, i, actual, output, a, b));
      month.set_measured_value(Ratio(now.total, p.target_kpi(), exponent));
      TAKT_ASSIGN_OR_RETURN(int64_t v, Value(book, i, base, now, m, notes));
      month.set_measured(v);
      for (const std::string& p : now.without_card) {
        notes.insert(absl::StrCat("product ", p, " has no standard cost card: its output allows no quantity"));
      }
      TAKT_RETURN_IF_ERROR(Add(measured_all.total.num, now.total.num));
      TAKT_RETURN_IF_ERROR(Add(measured_all.total.den, now.total.den));
      TAKT_RETURN_IF_ERROR(Add(measured_all.total.postings, now.total.postings));
    }
    if (auto c = i.confirmed.find(m); c != i.confirmed.end() && m <= absl::CivilMonth(stop)) {
      month.set_confirmed(c->second.amount());
    }
    TAKT_RETURN_IF_ERROR(Add(planned, month.planned()));
    TAKT_RETURN_IF_ERROR(Add(measured, month.measured()));
    TAKT_RETURN_IF_ERROR(Add(confirmed, month.confirmed()));
    if (month.planned() != 0 || month.measured() != 0 || month.confirmed() != 0 || !month.measured_value().empty()) {
      *out.add_months() = std::move(month);
    }
  }
  if (i.started && measure_first > stop) notes.insert("no measured days in the range");
  out.set_measured_value(Ratio(measured_all.total, p.target_kpi(), exponent));
  out.set_planned(planned);
  out.set_measured(measured);
  out.set_confirmed(confirmed);
  out.set_rule(Rule(i, book, base, measured_all));
  out.set_not_measured(absl::StrJoin(notes, "; "));
  return out;
}

}  // namespace takt::budgets
