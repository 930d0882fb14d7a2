#include "services/budgets/simulate.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/common/proto_time.h"
#include "services/budgets/budget_book.h"
#include "services/budgets/money.h"
#include "services/budgets/variance.h"
#include "services/scheduling/sim/simulator.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"

namespace takt::budgets {
namespace {

constexpr char kReporting[] = "USD";
constexpr char kEurUsd[] = "1.0825";

// The standard card of the i-th product: steel per unit and labour hours.
Decimal SteelPerUnit(size_t i) { return Decimal{(4 + static_cast<int64_t>(i % 5)) * kNanosPerUnit / 2}; }
Decimal HoursPerUnit(size_t i) { return Decimal{(5 + static_cast<int64_t>(i % 4)) * kNanosPerUnit / 100}; }
// Standard prices in minor units per unit.
const Decimal kSteelPrice{85 * kNanosPerUnit};     // 0.85 per kg
const Decimal kLabourRate{3200 * kNanosPerUnit};   // 32.00 per hour
const Decimal kVariableOh{1200 * kNanosPerUnit};   // 12.00 per standard hour
const Decimal kFixedOh{4500 * kNanosPerUnit};      // 45.00 per standard hour

int64_t CostOf(int64_t units, Decimal per_unit, Decimal price) {
  return Cost(Decimal{units * per_unit.nanos}, price).value_or(0);
}
Decimal Scaled(Decimal d, int64_t permille) { return Decimal{d.nanos / 1000 * permille}; }

std::string Amount(int64_t minor, const std::string& currency) {
  return FormatAmount(minor, MinorExponent(currency).value_or(2));
}

}  // namespace

BudgetsSimulation SimulateBudgets(const BudgetsSimOptions& o) {
  BudgetsSimulation out;
  sim::SimOptions so;
  so.facilities = o.facilities;
  so.days = o.days;
  so.seed = o.seed;
  so.start = o.start;
  const sim::Simulation plants = sim::Simulate(so);
  std::map<std::string, std::string> region_of;
  std::vector<std::string> products;
  for (const auto& d : plants.enterprise.definitions()) {
    if (d.has_facility()) out.facilities.push_back(d.facility().facility());
    if (d.has_region()) out.regions.push_back(d.region().region());
    if (d.has_move()) region_of[d.move().facility()] = d.move().region();
    if (d.has_product()) products.push_back(d.product().product());
  }
  // Good output per facility, month (of the UTC day) and product.
  std::map<std::tuple<std::string, absl::CivilMonth, std::string>, int64_t> good;
  for (const auto& batch : plants.batches) {
    for (const auto& obs : batch.observations()) {
      if (!obs.has_count()) continue;
      const absl::CivilMonth m(absl::ToCivilDay(ToTime(obs.source_time()), absl::UTCTimeZone()));
      good[{batch.facility(), m, obs.count().product()}] += obs.count().good();
    }
  }
  std::mt19937_64 rng(o.seed * 7919 + 11);
  const absl::CivilMonth first(o.start), last(o.start + (o.days - 1));
  for (size_t fi = 0; fi < out.facilities.size(); ++fi) {
    const std::string& f = out.facilities[fi];
    const std::string currency = region_of[f] == "emea" ? "EUR" : "USD";
    v1::ApplyBudgetRequest r;
    r.set_facility(f);
    r.set_request_id(absl::StrCat("bsim-record-", f));
    auto cmd = [&] { return r.add_commands(); };
    auto* ledger = cmd()->mutable_configure_ledger();
    ledger->set_currency(currency);
    ledger->set_reporting_currency(kReporting);
    for (auto [account, kind, price, variable] :
         {std::tuple{"steel", v1::DIRECT_MATERIAL, kSteelPrice, false},
          std::tuple{"labour", v1::DIRECT_LABOUR, kLabourRate, false},
          std::tuple{"variable-oh", v1::VARIABLE_OVERHEAD, kVariableOh, false},
          std::tuple{"fixed-oh", v1::FIXED_OVERHEAD, kFixedOh, false},
          std::tuple{"energy", v1::OTHER, Decimal{}, true},
          std::tuple{"maintenance", v1::MAINTENANCE, Decimal{}, false}}) {
      auto* a = cmd()->mutable_define_account();
      a->set_account(account);
      a->set_name(account);
      a->set_kind(kind);
      a->set_variable(variable);
      if (price.nanos > 0) a->set_standard_price(FormatDecimal(price));
    }
    auto* cc = cmd()->mutable_define_cost_centre();
    cc->set_cost_centre("body");
    cc->set_name("Body shop");
    for (size_t p = 0; p < products.size(); ++p) {
      auto* card = cmd()->mutable_set_standard_cost();
      card->set_product(products[p]);
      card->set_from_month(MonthText(first));
      auto* l = card->add_lines();
      l->set_account("steel");
      l->set_quantity_per_unit(FormatDecimal(SteelPerUnit(p)));
      l = card->add_lines();
      l->set_account("labour");
      l->set_quantity_per_unit(FormatDecimal(HoursPerUnit(p)));
    }
    v1::PostingBatch postings;
    postings.set_facility(f);
    postings.set_batch_id(1);
    int doc = 0;
    auto post = [&](absl::CivilMonth m, const std::string& account, int64_t minor, Decimal quantity,
                    const std::string& text) {
      v1::Posting* p = postings.add_postings();
      p->set_document(absl::StrFormat("%s-%s-%04d", f, MonthText(m), ++doc));
      p->set_account(account);
      p->set_cost_centre("body");
      const absl::CivilDay end = std::min(o.start + (o.days - 1), absl::CivilDay(m + 1) - 1);
      p->set_day(absl::FormatCivilTime(end));
      p->set_amount(Amount(minor, currency));
      if (quantity.nanos != 0) p->set_quantity(FormatDecimal(quantity));
      p->set_text(text);
      return p->document();
    };
    for (absl::CivilMonth m = first; m <= last; ++m) {
      const std::string month = MonthText(m);
      int64_t planned = 0, actual_units = 0, steel_budget = 0, labour_budget = 0, voh_budget = 0, foh_budget = 0;
      int64_t std_steel = 0, std_hours = 0;  // nanos for the actual output
      for (size_t p = 0; p < products.size(); ++p) {
        const int64_t units = good[{f, m, products[p]}];
        const int64_t plan = units + units / 20;  // planned 5 % more than made
        planned += plan;
        actual_units += units;
        steel_budget += CostOf(plan, SteelPerUnit(p), kSteelPrice);
        labour_budget += CostOf(plan, HoursPerUnit(p), kLabourRate);
        voh_budget += CostOf(plan, HoursPerUnit(p), kVariableOh);
        foh_budget += CostOf(plan, HoursPerUnit(p), kFixedOh);
        std_steel += units * SteelPerUnit(p).nanos;
        std_hours += units * HoursPerUnit(p).nanos;
      }
      if (planned == 0) continue;
      const int64_t energy_budget = planned * 9;  // 0.09 per planned unit
      const int64_t maintenance_budget = 250'000;
      for (auto [account, amount] :
           {std::pair{"steel", steel_budget}, std::pair{"labour", labour_budget}, std::pair{"variable-oh", voh_budget},
            std::pair{"fixed-oh", foh_budget}, std::pair{"energy", energy_budget},
            std::pair{"maintenance", maintenance_budget}}) {
        auto* b = cmd()->mutable_set_budget();
        b->set_version("original");
        b->set_month(month);
        b->set_cost_centre("body");
        b->set_account(account);
        b->set_amount(Amount(amount, currency));
      }
      auto* po = cmd()->mutable_set_planned_output();
      po->set_version("original");
      po->set_month(month);
      po->set_good_units(planned);
      if (currency != kReporting) {
        auto* rate = cmd()->mutable_set_exchange_rate();
        rate->set_month(month);
        rate->set_rate(kEurUsd);
      }
      // Actuals: at standard but for the planted causes.
      const int64_t price_permille = fi == 0 ? 1060 : 1000;   // steel bought 6 % dearer
      const int64_t usage_permille = fi == 1 ? 1040 : 1000;   // 4 % more steel used (scrap in the press)
      const int64_t hours_permille = fi == 2 ? 1120 : 1000;   // labour 12 % slower than standard
      const int64_t energy_permille = fi == 3 ? 1150 : 1000;  // energy 15 % over
      const Decimal steel_used = Scaled(Decimal{std_steel}, usage_permille);
      const int64_t steel_cost = Cost(steel_used, Scaled(kSteelPrice, price_permille)).value_or(0);
      const int64_t half = steel_cost / 2;
      post(m, "steel", half, Decimal{steel_used.nanos / 2}, "coil receipts");
      post(m, "steel", steel_cost - half, Decimal{steel_used.nanos - steel_used.nanos / 2}, "coil receipts");
      const Decimal hours = Scaled(Decimal{std_hours}, hours_permille);
      post(m, "labour", Cost(hours, kLabourRate).value_or(0), hours, "payroll");
      post(m, "variable-oh", Cost(hours, kVariableOh).value_or(0) + static_cast<int64_t>(rng() % 5000), {},
           "consumables");
      post(m, "fixed-oh", foh_budget + static_cast<int64_t>(rng() % 20000), {}, "depreciation, supervision");
      post(m, "energy", MulDiv(energy_budget, actual_units * energy_permille, planned * 1000).value_or(0), {},
           "utilities");
      // Maintenance posted to the wrong account first, reversed, reposted.
      const std::string wrong = post(m, "energy", maintenance_budget, {}, "die regrind (wrong account)");
      v1::Posting* reversal = postings.add_postings();
      *reversal = postings.postings(postings.postings_size() - 2);
      reversal->set_document(absl::StrCat(wrong, "-R"));
      reversal->set_amount(Amount(-maintenance_budget, currency));
      reversal->set_reverses(wrong);
      reversal->set_text("reversal: wrong account");
      post(m, "maintenance", maintenance_budget, {}, "die regrind");
    }
    auto* approve = cmd()->mutable_approve_budget();
    approve->set_version("original");
    approve->set_from_month(MonthText(first));
    approve->set_reason("plant budget approved");
    out.records.push_back(std::move(r));
    out.postings.push_back(std::move(postings));
  }
  return out;
}

int RunBudgetsSimulate(const BudgetsSimArgs& args, std::ostream& out, std::ostream& err) {
  BudgetsSimOptions o = args.options;
  auto start = cli::SimulationStart(args.start, o.days, "budgets simulate", err);
  if (!start) return 2;
  o.start = *start;
  const BudgetsSimulation s = SimulateBudgets(o);
  auto channel = cli::Connect(args.target, "budgets", err);
  if (!channel) return 2;
  auto stub = v1::BudgetsService::NewStub(channel);
  for (const auto& r : s.records) {
    grpc::ClientContext ctx;
    v1::ApplyBudgetResponse resp;
    grpc::Status st = stub->ApplyBudget(&ctx, r, &resp);
    if (!st.ok()) {
      return cli::Fail(err, absl::StrCat("budgets simulate: budget of ", r.facility(),
                                         " (run takt simulate with the same options first)"),
                       st);
    }
  }
  uint64_t accepted = 0, duplicates = 0;
  for (const auto& batch : s.postings) {
    grpc::ClientContext ctx;
    auto stream = stub->StreamPostings(&ctx);
    if (!stream->Write(batch)) break;
    v1::PostingAck ack;
    if (stream->Read(&ack)) {
      accepted += ack.accepted();
      duplicates += ack.duplicates();
      for (const auto& x : ack.rejected()) err << "takt: budgets simulate: posting rejected: " << x.reason() << "\n";
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return cli::Fail(err, "budgets simulate: postings", st);
  }
  out << "budgets: " << s.records.size() << " plant budgets, " << accepted << " postings recorded";
  if (duplicates > 0) out << " (" << duplicates << " already there)";
  out << "\n";
  const std::string from = MonthText(absl::CivilMonth(o.start));
  const std::string to = MonthText(absl::CivilMonth(o.start + (o.days - 1)));
  // The region summary, in the reporting currency.
  out << absl::StrFormat("Budget variances by region, %s to %s, in %s at budget rates (U unfavourable, F favourable):\n",
                         from, to, kReporting);
  out << absl::StrFormat("  %-18s %14s %14s %14s %16s\n", "region", "actual", "flexible", "static",
                         "vs flexible");
  for (const std::string& region : s.regions) {
    v1::VarianceRequest q;
    q.set_region(region);
    q.set_from_month(from);
    q.set_to_month(to);
    grpc::ClientContext ctx;
    v1::VarianceResponse r;
    grpc::Status st = stub->GetVariances(&ctx, q, &r);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("budgets simulate: variances of ", region), st);
    const int64_t v = r.total().actual() - r.total().flexible_budget();
    out << absl::StrFormat("  %-18s %14s %14s %14s %14s %s\n", region, Amount(r.total().actual(), kReporting),
                           Amount(r.total().flexible_budget(), kReporting),
                           Amount(r.total().static_budget(), kReporting), Amount(v < 0 ? -v : v, kReporting),
                           Direction(v));
  }
  // The three most unfavourable variances, with their cause.
  struct Worst {
    int64_t usd;
    std::string facility, account, cause, local;
  };
  std::vector<Worst> worst;
  for (const std::string& f : s.facilities) {
    v1::VarianceRequest q;
    q.set_facility(f);
    q.set_from_month(from);
    q.set_to_month(to);
    grpc::ClientContext ctx;
    v1::VarianceResponse r;
    grpc::Status st = stub->GetVariances(&ctx, q, &r);
    if (!st.ok()) return cli::Fail(err, absl::StrCat("budgets simulate: variances of ", f), st);
    const Decimal rate = r.currency() == kReporting ? Decimal{kNanosPerUnit} : *ParseDecimal(kEurUsd);
    for (const auto& l : r.total().lines()) {
      const char* causes[2] = {"spending", ""};
      switch (l.kind()) {
        case v1::DIRECT_MATERIAL: causes[0] = "material price"; causes[1] = "material usage"; break;
        case v1::DIRECT_LABOUR: causes[0] = "labour rate"; causes[1] = "labour efficiency"; break;
        case v1::VARIABLE_OVERHEAD: causes[0] = "overhead spending"; causes[1] = "overhead efficiency"; break;
        case v1::FIXED_OVERHEAD: causes[0] = "fixed overhead spending"; causes[1] = "production volume"; break;
        default: break;
      }
      for (int k = 0; k < 2; ++k) {
        const int64_t v = k == 0 ? l.price_variance() : l.quantity_variance();
        if (v <= 0 || *causes[k] == 0) continue;
        const int64_t usd = Convert(v, r.currency(), kReporting, rate).value_or(0);
        worst.push_back({usd, f, l.account(), causes[k], absl::StrCat(Amount(v, r.currency()), " ", r.currency())});
      }
    }
  }
  std::sort(worst.begin(), worst.end(), [](const Worst& a, const Worst& b) { return a.usd > b.usd; });
  out << "Most unfavourable variances:\n";
  for (size_t i = 0; i < worst.size() && i < 3; ++i) {
    out << absl::StrFormat("  %-14s %-12s %-20s %12s %s U%s\n", worst[i].facility, worst[i].account, worst[i].cause,
                           Amount(worst[i].usd, kReporting), kReporting,
                           absl::EndsWith(worst[i].local, kReporting) ? "" : absl::StrCat(" (", worst[i].local, ")"));
  }
  return 0;
}

}  // namespace takt::budgets
