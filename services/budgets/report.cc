// VarianceReport (budgets.h): per month and account, the standard-costing
// variances of variance.h.
//
//  - The static budget of a month is the approved version's (none approved:
//    zero), summed over cost centres; its planned output likewise.
//  - SQ of a material account = sum over products of good units x the
//    quantity per unit on the product's card in force that month; SH of a
//    labour account likewise. Overheads are absorbed per standard labour
//    hour: their SH is the sum of every labour line's SH, their AH the
//    hours posted on the labour accounts.
//  - Maintenance, scrap and other accounts flex with good output when
//    `variable`, else are fixed.
//  - Cost per good unit = actual / good units (half to even); cost of poor
//    quality = scrap and rework units x their product's standard unit cost
//    (materials, labour and overheads at standard).
//  - Reporting currency: each month's actual and static budget converted
//    at that month's budget rate (one rounding per month); a month without
//    a rate fails the report (FAILED_PRECONDITION naming it) unless the two
//    currencies are the same.
#include <functional>
#include <initializer_list>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "services/budgets/budgets.h"
#include "services/budgets/variance.h"

namespace takt::budgets {
namespace {

absl::Status Add(int64_t& sum, int64_t amount) {
  if (!AddTo(sum, amount)) return absl::OutOfRangeError("a report total leaves the int64 range");
  return absl::OkStatus();
}

CostKind KindOf(v1::AccountKind k) {
  switch (k) {
    case v1::DIRECT_MATERIAL:
      return CostKind::kDirectMaterial;
    case v1::DIRECT_LABOUR:
      return CostKind::kDirectLabour;
    case v1::VARIABLE_OVERHEAD:
      return CostKind::kVariableOverhead;
    case v1::FIXED_OVERHEAD:
      return CostKind::kFixedOverhead;
    default:
      return CostKind::kOther;
  }
}

absl::Status AddLine(v1::VarianceLine& into, const v1::VarianceLine& line) {
  int64_t v;
  auto sum = [&](int64_t a, int64_t b, void (v1::VarianceLine::*set)(int64_t)) -> absl::Status {
    v = a;
    TAKT_RETURN_IF_ERROR(Add(v, b));
    (into.*set)(v);
    return absl::OkStatus();
  };
  TAKT_RETURN_IF_ERROR(sum(into.actual(), line.actual(), &v1::VarianceLine::set_actual));
  TAKT_RETURN_IF_ERROR(sum(into.flexible_budget(), line.flexible_budget(), &v1::VarianceLine::set_flexible_budget));
  TAKT_RETURN_IF_ERROR(sum(into.static_budget(), line.static_budget(), &v1::VarianceLine::set_static_budget));
  TAKT_RETURN_IF_ERROR(sum(into.price_variance(), line.price_variance(), &v1::VarianceLine::set_price_variance));
  TAKT_RETURN_IF_ERROR(
      sum(into.quantity_variance(), line.quantity_variance(), &v1::VarianceLine::set_quantity_variance));
  TAKT_RETURN_IF_ERROR(
      sum(into.flexible_variance(), line.flexible_variance(), &v1::VarianceLine::set_flexible_variance));
  TAKT_RETURN_IF_ERROR(sum(into.volume_variance(), line.volume_variance(), &v1::VarianceLine::set_volume_variance));
  TAKT_RETURN_IF_ERROR(sum(into.static_variance(), line.static_variance(), &v1::VarianceLine::set_static_variance));
  auto quantity = [&](const std::string& a, const std::string& b) -> absl::StatusOr<std::string> {
    Decimal x = a.empty() ? Decimal{} : *ParseDecimal(a);
    Decimal y = b.empty() ? Decimal{} : *ParseDecimal(b);
    TAKT_RETURN_IF_ERROR(Add(x.nanos, y.nanos));
    return FormatDecimal(x);
  };
  TAKT_ASSIGN_OR_RETURN(std::string aq, quantity(into.actual_quantity(), line.actual_quantity()));
  TAKT_ASSIGN_OR_RETURN(std::string sq, quantity(into.standard_quantity(), line.standard_quantity()));
  into.set_actual_quantity(aq);
  into.set_standard_quantity(sq);
  return absl::OkStatus();
}

// Good units x a per-unit decimal, as a decimal.
absl::StatusOr<int64_t> Scale(int64_t units, Decimal per_unit) { return MulDiv(units, per_unit.nanos, 1); }

}  // namespace

absl::StatusOr<v1::VarianceResponse> VarianceReport(const BudgetBook& book, const ActualByMonth& actual,
                                                    const OutputByMonth& output, absl::CivilMonth from,
                                                    absl::CivilMonth to, bool by_month) {
  v1::VarianceResponse response;
  response.set_currency(book.currency());
  response.set_reporting_currency(book.reporting_currency());
  response.set_approved_version(book.ApprovedVersion(to));
  v1::VarianceReport* total = response.mutable_total();
  std::map<std::string, v1::VarianceLine> total_lines;
  int64_t total_output = 0;
  for (absl::CivilMonth m = from; m <= to; ++m) {
    const std::string version = book.ApprovedVersion(m);
    v1::VarianceReport month;
    month.set_month(MonthText(m));
    month.set_planned_output(version.empty() ? 0 : book.PlannedOutput(version, m));
    // Standard quantities allowed for the month's good output, per account,
    // and the month's cost of poor quality.
    std::map<std::string, int64_t> standard;  // account -> nanos
    int64_t standard_hours = 0;               // nanos, every labour line
    int64_t good = 0;
    int64_t poor_quality = 0;
    for (auto it = output.lower_bound({m, ""}); it != output.end() && it->first.first == m; ++it) {
      const std::string& product = it->first.second;
      const Output& o = it->second;
      TAKT_RETURN_IF_ERROR(Add(good, o.good));
      const std::vector<StandardQuantity>* card = book.StandardCard(product, m);
      if (card == nullptr) continue;  // no standard: its cost shows as actual only
      for (const StandardQuantity& line : *card) {
        TAKT_ASSIGN_OR_RETURN(int64_t q, Scale(o.good, line.per_unit));
        TAKT_RETURN_IF_ERROR(Add(standard[line.account], q));
        const v1::AccountDefined* a = book.FindAccount(line.account);
        if (a != nullptr && a->kind() == v1::DIRECT_LABOUR) TAKT_RETURN_IF_ERROR(Add(standard_hours, q));
      }
      TAKT_ASSIGN_OR_RETURN(std::optional<int64_t> unit_cost, book.StandardUnitCost(product, m));
      int64_t defective = o.scrap;
      TAKT_RETURN_IF_ERROR(Add(defective, o.rework));
      TAKT_ASSIGN_OR_RETURN(int64_t cost, MulDiv(defective, unit_cost.value_or(0), 1));
      TAKT_RETURN_IF_ERROR(Add(poor_quality, cost));
    }
    month.set_actual_output(good);
    month.set_cost_of_poor_quality(poor_quality);
    // Actual hours: every labour account's posted quantity.
    int64_t actual_hours = 0;
    for (const auto& [id, a] : book.accounts()) {
      if (a.kind() != v1::DIRECT_LABOUR) continue;
      if (auto it = actual.find({m, id}); it != actual.end()) {
        TAKT_RETURN_IF_ERROR(Add(actual_hours, it->second.quantity_nanos));
      }
    }
    int64_t month_actual = 0, month_flexible = 0, month_static = 0;
    for (const auto& [id, a] : book.accounts()) {
      CostLine line;
      line.kind = KindOf(a.kind());
      line.variable = a.variable();
      const Actual* posted = nullptr;
      if (auto it = actual.find({m, id}); it != actual.end()) posted = &it->second;
      line.actual = posted ? posted->amount : 0;
      line.static_budget = version.empty() ? 0 : book.AccountBudget(version, m, id);
      line.standard_price = book.StandardPrice(id);
      line.planned_output = month.planned_output();
      line.actual_output = good;
      switch (line.kind) {
        case CostKind::kDirectMaterial:
        case CostKind::kDirectLabour:
          line.actual_quantity = Decimal{posted ? posted->quantity_nanos : 0};
          line.standard_quantity = Decimal{standard[id]};
          break;
        case CostKind::kVariableOverhead:
        case CostKind::kFixedOverhead:
          line.actual_quantity = Decimal{actual_hours};
          line.standard_quantity = Decimal{standard_hours};
          break;
        case CostKind::kOther:
          break;
      }
      if (line.actual == 0 && line.static_budget == 0 && line.standard_quantity.nanos == 0 &&
          line.actual_quantity.nanos == 0) {
        continue;  // nothing happened on this account this month
      }
      auto v = ComputeVariances(line);
      if (!v.ok()) return absl::Status(v.status().code(), absl::StrCat(id, " in ", MonthText(m), ": ", v.status().message()));
      v1::VarianceLine* out = month.add_lines();
      out->set_account(id);
      out->set_kind(a.kind());
      out->set_actual(v->actual);
      out->set_flexible_budget(v->flexible_budget);
      out->set_static_budget(v->static_budget);
      out->set_price_variance(v->price);
      out->set_quantity_variance(v->quantity);
      out->set_flexible_variance(v->flexible_variance);
      out->set_volume_variance(v->volume_variance);
      out->set_static_variance(v->static_variance);
      if (line.kind != CostKind::kOther) {
        out->set_actual_quantity(FormatDecimal(line.actual_quantity));
        out->set_standard_quantity(FormatDecimal(line.standard_quantity));
      }
      TAKT_RETURN_IF_ERROR(Add(month_actual, v->actual));
      TAKT_RETURN_IF_ERROR(Add(month_flexible, v->flexible_budget));
      TAKT_RETURN_IF_ERROR(Add(month_static, v->static_budget));
      v1::VarianceLine& t = total_lines[id];
      t.set_account(id);
      t.set_kind(a.kind());
      TAKT_RETURN_IF_ERROR(AddLine(t, *out));
    }
    month.set_actual(month_actual);
    month.set_flexible_budget(month_flexible);
    month.set_static_budget(month_static);
    if (good > 0) {
      TAKT_ASSIGN_OR_RETURN(int64_t per_unit, MulDiv(month_actual, 1, good));
      month.set_cost_per_good_unit(per_unit);
    }
    // The reporting currency at the month's budget rate.
    if (book.reporting_currency() == book.currency()) {
      month.set_actual_reporting(month_actual);
      month.set_static_budget_reporting(month_static);
    } else if (month_actual != 0 || month_static != 0) {
      std::optional<Decimal> rate = book.ExchangeRate(m);
      if (!rate) {
        return absl::FailedPreconditionError(absl::StrCat("no budget rate ", book.currency(), " -> ",
                                                          book.reporting_currency(), " for ", MonthText(m),
                                                          " (set_exchange_rate)"));
      }
      TAKT_ASSIGN_OR_RETURN(int64_t a, Convert(month_actual, book.currency(), book.reporting_currency(), *rate));
      TAKT_ASSIGN_OR_RETURN(int64_t s, Convert(month_static, book.currency(), book.reporting_currency(), *rate));
      month.set_actual_reporting(a);
      month.set_static_budget_reporting(s);
    }
    // The FX effect: the actual at the month's actual rate against the
    // budget rate.
    month.set_actual_at_actual_rate(month.actual_reporting());
    if (book.reporting_currency() != book.currency() && month_actual != 0) {
      if (std::optional<Decimal> actual_rate = book.ActualRate(m)) {
        TAKT_ASSIGN_OR_RETURN(int64_t a,
                              Convert(month_actual, book.currency(), book.reporting_currency(), *actual_rate));
        month.set_actual_at_actual_rate(a);
      } else {
        month.set_fx_months_without_actual_rate(1);
      }
    }
    month.set_fx_effect(month.actual_at_actual_rate() - month.actual_reporting());
    // The total.
    TAKT_RETURN_IF_ERROR(Add(total_output, good));
    int64_t x;
    x = total->planned_output();
    TAKT_RETURN_IF_ERROR(Add(x, month.planned_output()));
    total->set_planned_output(x);
    for (auto [get, set] : std::initializer_list<std::pair<int64_t (v1::VarianceReport::*)() const,
                                                           void (v1::VarianceReport::*)(int64_t)>>{
             {&v1::VarianceReport::actual, &v1::VarianceReport::set_actual},
             {&v1::VarianceReport::flexible_budget, &v1::VarianceReport::set_flexible_budget},
             {&v1::VarianceReport::static_budget, &v1::VarianceReport::set_static_budget},
             {&v1::VarianceReport::cost_of_poor_quality, &v1::VarianceReport::set_cost_of_poor_quality},
             {&v1::VarianceReport::actual_reporting, &v1::VarianceReport::set_actual_reporting},
             {&v1::VarianceReport::static_budget_reporting, &v1::VarianceReport::set_static_budget_reporting},
             {&v1::VarianceReport::actual_at_actual_rate, &v1::VarianceReport::set_actual_at_actual_rate},
             {&v1::VarianceReport::fx_effect, &v1::VarianceReport::set_fx_effect}}) {
      x = (total->*get)();
      TAKT_RETURN_IF_ERROR(Add(x, (month.*get)()));
      (total->*set)(x);
    }
    total->set_fx_months_without_actual_rate(total->fx_months_without_actual_rate() +
                                             month.fx_months_without_actual_rate());
    if (by_month) *response.add_months() = std::move(month);
  }
  total->set_actual_output(total_output);
  if (total_output > 0) {
    TAKT_ASSIGN_OR_RETURN(int64_t per_unit, MulDiv(total->actual(), 1, total_output));
    total->set_cost_per_good_unit(per_unit);
  }
  for (auto& [id, line] : total_lines) *total->add_lines() = std::move(line);
  return response;
}

namespace {

// Applies `fn` to every amount of a report (its lines' too): every int64
// field but the output counts.
absl::Status ForEachAmount(google::protobuf::Message& m, const std::function<absl::Status(int64_t&)>& fn) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated() && f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        TAKT_RETURN_IF_ERROR(ForEachAmount(*r->MutableRepeatedMessage(&m, f, k), fn));
      }
    } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT64 &&
               f->name() != "planned_output" && f->name() != "actual_output" &&
               f->name() != "cost_per_good_unit") {
      int64_t v = r->GetInt64(m, f);
      TAKT_RETURN_IF_ERROR(fn(v));
      r->SetInt64(&m, f, v);
    }
  }
  return absl::OkStatus();
}

// Adds the int64 fields of `from` into `into` (all of them, counts too).
absl::Status AddFields(google::protobuf::Message& into, const google::protobuf::Message& from) {
  const auto* d = into.GetDescriptor();
  const auto* r = into.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->is_repeated() || f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_INT64) continue;
    int64_t v = r->GetInt64(into, f);
    TAKT_RETURN_IF_ERROR(Add(v, r->GetInt64(from, f)));
    r->SetInt64(&into, f, v);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ToReportingCurrency(const BudgetBook& book, absl::CivilMonth m, v1::VarianceReport& report) {
  if (book.reporting_currency() == book.currency()) return absl::OkStatus();
  std::optional<Decimal> rate = book.ExchangeRate(m);
  if (!rate) {
    return absl::FailedPreconditionError(absl::StrCat("no budget rate ", book.currency(), " -> ",
                                                      book.reporting_currency(), " for ", MonthText(m)));
  }
  const int64_t reported_actual = report.actual_reporting(), reported_static = report.static_budget_reporting(),
                at_actual_rate = report.actual_at_actual_rate(), fx_effect = report.fx_effect();
  TAKT_RETURN_IF_ERROR(ForEachAmount(report, [&](int64_t& v) -> absl::Status {
    TAKT_ASSIGN_OR_RETURN(v, Convert(v, book.currency(), book.reporting_currency(), *rate));
    return absl::OkStatus();
  }));
  // Those were in the reporting currency already.
  report.set_actual_reporting(reported_actual);
  report.set_static_budget_reporting(reported_static);
  report.set_actual_at_actual_rate(at_actual_rate);
  report.set_fx_effect(fx_effect);
  return absl::OkStatus();
}

absl::Status AddReport(v1::VarianceReport& into, const v1::VarianceReport& from) {
  TAKT_RETURN_IF_ERROR(AddFields(into, from));
  into.set_fx_months_without_actual_rate(into.fx_months_without_actual_rate() + from.fx_months_without_actual_rate());
  into.set_months_with_attended_hours(into.months_with_attended_hours() + from.months_with_attended_hours());
  for (const v1::VarianceLine& line : from.lines()) {
    v1::VarianceLine* target = nullptr;
    for (auto& l : *into.mutable_lines()) {
      if (l.account() == line.account()) target = &l;
    }
    if (target == nullptr) {
      target = into.add_lines();
      target->set_account(line.account());
      target->set_kind(line.kind());
    }
    TAKT_RETURN_IF_ERROR(AddLine(*target, line));
  }
  return absl::OkStatus();
}

void FinishReport(v1::VarianceReport& report) {
  report.set_cost_per_good_unit(0);
  if (report.actual_output() > 0) {
    report.set_cost_per_good_unit(MulDiv(report.actual(), 1, report.actual_output()).value_or(0));
  }
}

}  // namespace takt::budgets
