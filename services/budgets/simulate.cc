#include "services/budgets/simulate.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/common/proto_time.h"
#include "libs/kpi/calendar.h"
#include "libs/model/enterprise_model.h"
#include "services/budgets/cli.h"
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
  std::map<std::string, enterprise::v1::Calendar> calendars;
  std::vector<std::string> products;
  for (const auto& d : plants.enterprise.definitions()) {
    if (d.has_facility()) {
      out.facilities.push_back(d.facility().facility());
      calendars[d.facility().facility()] = d.facility().calendar();
    }
    if (d.has_region()) out.regions.push_back(d.region().region());
    if (d.has_move()) region_of[d.move().facility()] = d.move().region();
    if (d.has_product()) products.push_back(d.product().product());
  }
  // Good output per facility, facility-local production day and product
  // (as the budgets service attributes scheduling's counts).
  std::map<std::tuple<std::string, absl::CivilDay, std::string>, int64_t> good;
  std::map<std::string, kpi::FacilityCalendar> calendar_of;
  for (const auto& [f, c] : calendars) {
    if (auto calendar = model::MakeCalendar(c); calendar.ok()) calendar_of.emplace(f, *std::move(calendar));
  }
  std::set<std::tuple<std::string, std::string, uint64_t>> counted;  // resent batches count once
  for (const auto& batch : plants.batches) {
    auto calendar = calendar_of.find(batch.facility());
    if (calendar == calendar_of.end()) continue;
    for (const auto& obs : batch.observations()) {
      if (!obs.has_count() || !counted.insert({batch.facility(), obs.source_id(), obs.source_sequence()}).second) continue;
      const absl::CivilDay day = calendar->second.ProductionDay(ToTime(obs.source_time()));
      good[{batch.facility(), day, obs.count().product()}] += obs.count().good();
    }
  }
  std::mt19937_64 rng(o.seed * 7919 + 11);
  const absl::CivilMonth first(o.start), last(o.start + (o.days - 1));
  // Two initiatives from the second third of the period: the press-die
  // kaizen in the second plant removes its extra steel usage; the compressed
  // air leak hunt in the fourth does not move its energy per unit.
  const absl::CivilDay baseline_to = o.start + std::max(0, o.days / 3 - 1);
  const absl::CivilDay initiatives_start = baseline_to + 1;
  const bool with_initiatives = o.days >= 2;
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
    auto post = [&](absl::CivilDay day, const std::string& account, int64_t minor, Decimal quantity,
                    const std::string& text) {
      v1::Posting* p = postings.add_postings();
      p->set_document(absl::StrFormat("%s-%s-%05d", f, absl::FormatCivilTime(day), ++doc));
      p->set_account(account);
      p->set_cost_centre("body");
      p->set_day(absl::FormatCivilTime(day));
      p->set_amount(Amount(minor, currency));
      if (quantity.nanos != 0) p->set_quantity(FormatDecimal(quantity));
      p->set_text(text);
      return p->document();
    };
    int64_t steel_standard_cost = 0, energy_budget_total = 0;  // for the initiatives' plans
    for (absl::CivilMonth m = first; m <= last; ++m) {
      const std::string month = MonthText(m);
      const absl::CivilDay month_first = std::max(o.start, absl::CivilDay(m));
      const absl::CivilDay month_last = std::min(o.start + (o.days - 1), absl::CivilDay(m + 1) - 1);
      int64_t planned = 0, actual_units = 0, steel_budget = 0, labour_budget = 0, voh_budget = 0, foh_budget = 0;
      for (size_t p = 0; p < products.size(); ++p) {
        int64_t units = 0;
        for (absl::CivilDay d = month_first; d <= month_last; ++d) units += good[{f, d, products[p]}];
        const int64_t plan = units + units / 20;  // planned 5 % more than made
        planned += plan;
        actual_units += units;
        steel_budget += CostOf(plan, SteelPerUnit(p), kSteelPrice);
        labour_budget += CostOf(plan, HoursPerUnit(p), kLabourRate);
        voh_budget += CostOf(plan, HoursPerUnit(p), kVariableOh);
        foh_budget += CostOf(plan, HoursPerUnit(p), kFixedOh);
        steel_standard_cost += CostOf(units, SteelPerUnit(p), kSteelPrice);
      }
      if (planned == 0) continue;
      const int64_t energy_budget = planned * 9;  // 0.09 per planned unit
      energy_budget_total += energy_budget;
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
      // Actuals, day by day: at standard but for the planted causes.
      for (absl::CivilDay d = month_first; d <= month_last; ++d) {
        int64_t std_steel = 0, std_hours = 0, units = 0;  // nanos for the day's good output
        for (size_t p = 0; p < products.size(); ++p) {
          const int64_t n = good[{f, d, products[p]}];
          units += n;
          std_steel += n * SteelPerUnit(p).nanos;
          std_hours += n * HoursPerUnit(p).nanos;
        }
        if (units == 0) continue;
        const bool kaizen = with_initiatives && d >= initiatives_start;
        const int64_t price_permille = fi == 0 ? 1060 : 1000;                // steel bought 6 % dearer
        const int64_t usage_permille = fi == 1 && !kaizen ? 1040 : 1000;     // 4 % more steel (scrap in the press)
        const int64_t hours_permille = fi == 2 ? 1120 : 1000;                // labour 12 % slower than standard
        const int64_t energy_permille = fi == 3 ? 1150 : 1000;               // energy 15 % over
        const Decimal steel_used = Scaled(Decimal{std_steel}, usage_permille);
        const int64_t steel_cost = Cost(steel_used, Scaled(kSteelPrice, price_permille)).value_or(0);
        post(d, "steel", steel_cost, steel_used, "coil issues to the press line");
        const Decimal hours = Scaled(Decimal{std_hours}, hours_permille);
        post(d, "labour", Cost(hours, kLabourRate).value_or(0), hours, "payroll");
        post(d, "variable-oh", Cost(hours, kVariableOh).value_or(0) + static_cast<int64_t>(rng() % 200), {},
             "consumables");
        post(d, "energy", MulDiv(energy_budget, units * energy_permille, planned * 1000).value_or(0), {},
             "utilities");
      }
      post(month_last, "fixed-oh", foh_budget + static_cast<int64_t>(rng() % 20000), {},
           "depreciation, supervision");
      // Maintenance posted to the wrong account first, reversed, reposted.
      const std::string wrong = post(month_last, "energy", maintenance_budget, {}, "die regrind (wrong account)");
      v1::Posting* reversal = postings.add_postings();
      *reversal = postings.postings(postings.postings_size() - 2);
      reversal->set_document(absl::StrCat(wrong, "-R"));
      reversal->set_amount(Amount(-maintenance_budget, currency));
      reversal->set_reverses(wrong);
      reversal->set_text("reversal: wrong account");
      post(month_last, "maintenance", maintenance_budget, {}, "die regrind");
    }
    auto* approve = cmd()->mutable_approve_budget();
    approve->set_version("original");
    approve->set_from_month(MonthText(first));
    approve->set_reason("plant budget approved");
    if (with_initiatives && (fi == 1 || fi == 3)) {
      // Planned savings a month: 3 % of the steel at standard, 10 % of the
      // energy budget (over the simulated days, scaled to 30 days).
      const int64_t planned = fi == 1 ? steel_standard_cost * 3 * 30 / (100 * o.days)
                                      : energy_budget_total * 10 * 30 / (100 * o.days);
      auto* p = cmd()->mutable_propose_initiative();
      p->set_initiative(fi == 1 ? "press-die-kaizen" : "air-leak-hunt");
      p->set_title(fi == 1 ? "Press die setting kaizen: less steel scrapped at the press"
                           : "Compressed air leak hunt");
      p->set_method(fi == 1 ? v1::KAIZEN : v1::LEAN);
      p->set_owner(fi == 1 ? "eng-017" : "eng-023");
      p->set_target_kpi(fi == 1 ? v1::MATERIAL_USAGE : v1::COST_PER_GOOD_UNIT);
      p->set_account(fi == 1 ? "steel" : "energy");
      p->set_baseline_from(absl::FormatCivilTime(o.start));
      p->set_baseline_to(absl::FormatCivilTime(baseline_to));
      p->set_planned_start(absl::FormatCivilTime(initiatives_start));
      p->set_planned_savings_per_month(Amount(planned / 100 * 100, currency));
      auto* a = cmd()->mutable_approve_initiative();
      a->set_initiative(p->initiative());
      a->set_approved_by("ctl-004");
      a->set_reason("plant controller: business case checked");
      auto* s = cmd()->mutable_start_initiative();
      s->set_initiative(p->initiative());
      s->set_day(absl::FormatCivilTime(initiatives_start));
    }
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
  // Improvement savings, planned against measured, by region.
  v1::SavingsRequest q;
  q.set_from_day(absl::FormatCivilTime(o.start));
  q.set_to_day(absl::FormatCivilTime(o.start + (o.days - 1)));
  grpc::ClientContext ctx;
  v1::SavingsResponse savings;
  grpc::Status st = stub->GetSavings(&ctx, q, &savings);
  if (!st.ok()) return cli::Fail(err, "budgets simulate: savings", st);
  PrintSavings(savings, q.from_day(), q.to_day(), out);
  return 0;
}

}  // namespace takt::budgets
