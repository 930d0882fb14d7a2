#include "services/budgets/savings.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "services/budgets/cli.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::budgets {
namespace {

namespace ev1 = ::takt::enterprise::v1;

// A plant in USD: steel at 0.85 USD/kg (85 cents), labour 32.00/h, overheads
// 12.00 (variable) and 45.00 (fixed) per standard hour; a bracket takes
// 2 kg and 0.5 h: standard unit cost 2 x 85 + 0.5 x 3200 + 0.5 x 1200 +
// 0.5 x 4500 = 4620 cents.
constexpr char kRecord[] = R"(
facility: plant
commands:
  - configure_ledger: {currency: USD}
  - define_account: {account: steel, name: Steel, kind: DIRECT_MATERIAL, standard_price: "85", unit: kg}
  - define_account: {account: labour, name: Labour, kind: DIRECT_LABOUR, standard_price: "3200", unit: h}
  - define_account: {account: voh, name: Variable overhead, kind: VARIABLE_OVERHEAD, standard_price: "1200"}
  - define_account: {account: foh, name: Fixed overhead, kind: FIXED_OVERHEAD, standard_price: "4500"}
  - define_account: {account: energy, name: Energy, kind: OTHER, variable: true}
  - set_standard_cost:
      product: bracket
      from_month: "2026-01"
      lines: [{account: steel, quantity_per_unit: "2"}, {account: labour, quantity_per_unit: "0.5"}]
)";

const absl::CivilDay kDay1(2026, 3, 1);

class SavingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ev1::FacilityDefined f;
    f.set_facility("plant");
    f.mutable_calendar()->set_time_zone("UTC");
    Put(f);
    ev1::ProductDefined p;
    p.set_product("bracket");
    p.set_planned_run_time_per_item_us(60'000'000);
    Put(p);
    ASSERT_TRUE(Apply(kRecord).ok());
  }
  template <typename M>
  void Put(const M& desired) {
    auto events = model_.Decide(desired);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const auto& e : *events) ASSERT_TRUE(model_.Apply(e).ok());
  }
  // Decides and applies every command of a YAML record; the events recorded.
  absl::StatusOr<size_t> Apply(const std::string& yaml) {
    auto request = BudgetFromYaml(yaml);
    if (!request.ok()) return request.status();
    size_t n = 0;
    for (const auto& c : request->commands()) {
      auto events = DecideBudget(book_, c, model_, "plant", origin_);
      if (!events.ok()) return events.status();
      for (const auto& e : *events) {
        if (absl::Status s = book_.Apply(e); !s.ok()) return s;
      }
      n += events->size();
    }
    return n;
  }
  absl::StatusOr<size_t> Command(const std::string& one) {
    return Apply(absl::StrCat("facility: plant\ncommands:\n  - ", one, "\n"));
  }
  void Propose(const std::string& id, const std::string& kpi, const std::string& account) {
    ASSERT_EQ(*Command(absl::StrCat("propose_initiative: {initiative: ", id, ", title: T, method: KAIZEN, owner: eng-1, "
                                    "target_kpi: ", kpi, account.empty() ? "" : ", account: " + account,
                                    ", baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
                                    "planned_start: '2026-03-11', planned_savings_per_month: '3100.00'}")),
              1u);
  }
  void Run(const std::string& id) {
    ASSERT_EQ(*Command(absl::StrCat("approve_initiative: {initiative: ", id, ", approved_by: ctl-1, reason: ok}")),
              1u);
    ASSERT_EQ(*Command(absl::StrCat("start_initiative: {initiative: ", id, ", day: '2026-03-11'}")), 1u);
  }
  void Make(absl::CivilDay day, int64_t good, int64_t scrap) { output_[{day, "bracket"}] = {good, scrap, 0}; }
  void Post(absl::CivilDay day, const std::string& account, int64_t amount, int64_t quantity_units,
            const std::string& product = "") {
    Actual& a = actual_[{day, account, product}];
    a.amount += amount;
    a.quantity_nanos += quantity_units * kNanosPerUnit;
    ++a.postings;
  }
  absl::StatusOr<v1::InitiativeSavings> Measure(const std::string& id, absl::CivilDay from, absl::CivilDay to) {
    const Initiative* i = book_.initiatives().Find(id);
    if (i == nullptr) return absl::NotFoundError(id);
    return MeasureSavings(book_, "plant", *i, actual_, output_, from, to);
  }

  model::EnterpriseModel model_;
  BudgetBook book_;
  es::CommandOrigin origin_{"service:controlling", absl::FromCivil(absl::CivilDay(2026, 4, 15), absl::UTCTimeZone())};
  ActualByDay actual_;
  OutputByDay output_;
};

TEST_F(SavingsTest, TheLifecycleIsEnforcedAndResendsChangeNothing) {
  Propose("k1", "MATERIAL_USAGE", "steel");
  // The same proposal again is a resend; another under the id is refused.
  EXPECT_EQ(*Command("propose_initiative: {initiative: k1, title: T, method: KAIZEN, owner: eng-1, target_kpi: "
                     "MATERIAL_USAGE, account: steel, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
                     "planned_start: '2026-03-11', planned_savings_per_month: '3100'}"),
            0u);
  EXPECT_EQ(Command("propose_initiative: {initiative: k1, title: T, method: KAIZEN, owner: eng-1, target_kpi: "
                    "MATERIAL_USAGE, account: steel, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
                    "planned_start: '2026-03-11', planned_savings_per_month: '9999'}")
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  // Not started before it is approved; the owner cannot approve it.
  EXPECT_EQ(Command("start_initiative: {initiative: k1, day: '2026-03-11'}").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Command("approve_initiative: {initiative: k1, approved_by: eng-1, reason: mine}").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(*Command("approve_initiative: {initiative: k1, approved_by: ctl-1, reason: ok}"), 1u);
  EXPECT_EQ(*Command("approve_initiative: {initiative: k1, approved_by: ctl-1, reason: ok}"), 0u);
  // Measurement cannot start inside the baseline.
  auto inside = Command("start_initiative: {initiative: k1, day: '2026-03-10'}");
  EXPECT_EQ(inside.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(inside.status().message(), "baseline")) << inside.status();
  EXPECT_EQ(*Command("start_initiative: {initiative: k1, day: '2026-03-11'}"), 1u);
  EXPECT_EQ(*Command("start_initiative: {initiative: k1, day: '2026-03-11'}"), 0u);
  // Confirmed savings: by someone other than the owner, within the running time;
  // a second confirmation of the month supersedes and names the first.
  EXPECT_EQ(Command("confirm_savings: {initiative: k1, month: '2026-03', amount: '10', approved_by: eng-1, "
                    "reason: r}")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Command("confirm_savings: {initiative: k1, month: '2026-02', amount: '10', approved_by: ctl-1, "
                    "reason: r}")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*Command("confirm_savings: {initiative: k1, month: '2026-03', amount: '10', approved_by: ctl-1, "
                     "reason: controller review}"),
            1u);
  EXPECT_EQ(*Command("confirm_savings: {initiative: k1, month: '2026-03', amount: '12.50', approved_by: ctl-1, "
                     "reason: controller review}"),
            1u);
  const Initiative* k1 = book_.initiatives().Find("k1");
  ASSERT_NE(k1, nullptr);
  EXPECT_EQ(k1->confirmed.at(absl::CivilMonth(2026, 3)).amount(), 1250);
  EXPECT_EQ(k1->confirmed.at(absl::CivilMonth(2026, 3)).previous_amount(), 1000);
  EXPECT_EQ(*Command("realise_initiative: {initiative: k1, day: '2026-03-20', reason: die standard changed}"), 1u);
  EXPECT_EQ(k1->stage, v1::REALISED);
  EXPECT_EQ(Command("cancel_initiative: {initiative: k1, day: '2026-03-25', reason: r}").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Command("approve_initiative: {initiative: nope, approved_by: ctl-1, reason: ok}").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SavingsTest, BadProposalsNameTheFieldAndRecordNothing) {
  struct Case {
    std::string fields;
    std::string says;
  };
  const std::string ok_windows =
      "baseline_from: '2026-03-01', baseline_to: '2026-03-10', planned_start: '2026-03-11', "
      "planned_savings_per_month: '1'";
  for (const Case& c : std::vector<Case>{
           {"target_kpi: MATERIAL_USAGE, account: labour, " + ok_windows, "DIRECT_MATERIAL"},
           {"target_kpi: LABOUR_EFFICIENCY, account: steel, " + ok_windows, "DIRECT_LABOUR"},
           {"target_kpi: SCRAP_RATIO, account: steel, " + ok_windows, "no account"},
           {"target_kpi: COST_PER_GOOD_UNIT, " + ok_windows, "needs an account"},
           {"target_kpi: COST_PER_GOOD_UNIT, account: nope, " + ok_windows, "'nope'"},
           {"target_kpi: SCRAP_RATIO, product: widget, " + ok_windows, "product 'widget'"},
           {"target_kpi: SCRAP_RATIO, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
            "planned_start: '2026-03-10', planned_savings_per_month: '1'",
            "planned_start"},
           {"target_kpi: SCRAP_RATIO, baseline_from: '2024-01-01', baseline_to: '2026-03-10', "
            "planned_start: '2026-03-11', planned_savings_per_month: '1'",
            "at most 366"},
           {"target_kpi: SCRAP_RATIO, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
            "planned_start: '2026-03-11', planned_savings_per_month: '1.001'",
            "planned_savings_per_month"},
           {"target_kpi: SCRAP_RATIO, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
            "planned_start: '2026-03-11', planned_savings_per_month: '-5'",
            "planned_savings_per_month"},
           {"target_kpi: SCRAP_RATIO, baseline_from: '2026-02-30', baseline_to: '2026-03-10', "
            "planned_start: '2026-03-11', planned_savings_per_month: '1'",
            "baseline_from"},
       }) {
    auto r = Command(absl::StrCat("propose_initiative: {initiative: x, title: T, method: LEAN, owner: eng-1, ",
                                  c.fields, "}"));
    ASSERT_FALSE(r.ok()) << c.fields;
    EXPECT_TRUE(absl::StrContains(r.status().message(), c.says)) << c.fields << ": " << r.status();
  }
  EXPECT_EQ(Command("propose_initiative: {initiative: x, method: LEAN, owner: eng-1, target_kpi: SCRAP_RATIO, " +
                    ok_windows + "}")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // no title
  EXPECT_EQ(Command("propose_initiative: {initiative: x, title: T, owner: eng-1, target_kpi: SCRAP_RATIO, " +
                    ok_windows + "}")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // no method
  EXPECT_TRUE(book_.initiatives().all().empty());
}

// Baseline: 10 days, 1,040 kg of steel against 1,000 kg allowed (1.04).
// Measured: 250 good units (500 kg allowed) used 500 kg: at the baseline's
// rate they would have used 520 kg; 20 kg x 85 cents = 17.00 USD.
TEST_F(SavingsTest, MaterialUsageIsValuedAtTheStandardPrice) {
  Propose("k1", "MATERIAL_USAGE", "steel");
  Run("k1");
  Make(kDay1, 300, 0);
  Make(kDay1 + 9, 200, 0);  // 500 good: 1,000 kg allowed
  Post(kDay1, "steel", 88'400, 1040);
  Make(kDay1 + 12, 250, 0);
  Post(kDay1 + 12, "steel", 42'500, 500);
  auto s = Measure("k1", kDay1, kDay1 + 30);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->baseline_value(), "1.04");
  EXPECT_EQ(s->measured_value(), "1");
  EXPECT_EQ(s->measured(), 1700);
  EXPECT_TRUE(s->not_measured().empty()) << s->not_measured();
  EXPECT_TRUE(absl::StrContains(s->rule(), "standard price 85")) << s->rule();
  // Planned: 3,100.00 a month from the 11th: 21 of March's 31 days.
  EXPECT_EQ(s->planned(), 210'000);
  ASSERT_EQ(s->months_size(), 1);
  EXPECT_EQ(s->months(0).month(), "2026-03");
  // Worse than the baseline is a loss, not hidden.
  Post(kDay1 + 12, "steel", 8'500, 100);
  EXPECT_EQ(Measure("k1", kDay1, kDay1 + 30)->measured(), -6800);  // (520 - 600) kg x 85
}

// 5 % scrap in the baseline, 2 % measured on 1,000 made: 30 brackets kept,
// at the standard unit cost of 46.20 USD: 1,386.00 USD.
TEST_F(SavingsTest, ScrapRatioIsValuedAtTheStandardUnitCost) {
  Propose("s1", "SCRAP_RATIO", "");
  Run("s1");
  Make(kDay1 + 2, 950, 50);
  Make(kDay1 + 15, 980, 20);
  auto s = Measure("s1", kDay1 + 10, kDay1 + 20);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->baseline_value(), "0.05");
  EXPECT_EQ(s->measured_value(), "0.02");
  EXPECT_EQ(s->measured(), 138'600);
  EXPECT_EQ(s->planned(), 110'000);  // 11th to 21st: 11 of 31 days of 3,100.00
}

// Energy: 10 cents per good unit in the baseline; 200 units cost 18.00
// instead of 20.00.
TEST_F(SavingsTest, CostPerGoodUnitAndMonthsWithoutPostings) {
  Propose("e1", "COST_PER_GOOD_UNIT", "energy");
  Run("e1");
  Make(kDay1, 100, 0);
  Post(kDay1, "energy", 1000, 0);
  Make(kDay1 + 12, 200, 0);
  Post(kDay1 + 12, "energy", 1800, 0);
  auto s = Measure("e1", kDay1, kDay1 + 30);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->baseline_value(), "0.1");
  EXPECT_EQ(s->measured(), 200);
  // April: production but no energy posted yet: not valued (postings lag),
  // and said so rather than shown as a 100 % saving.
  Make(absl::CivilDay(2026, 4, 3), 500, 0);
  s = Measure("e1", kDay1, absl::CivilDay(2026, 4, 30));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->measured(), 200);
  EXPECT_TRUE(absl::StrContains(s->not_measured(), "no postings of energy")) << s->not_measured();
  // Postings that name a product count only for an initiative on it.
  ASSERT_EQ(*Command("propose_initiative: {initiative: e2, title: T, method: LEAN, owner: eng-1, target_kpi: "
                     "COST_PER_GOOD_UNIT, account: energy, product: bracket, baseline_from: '2026-03-01', "
                     "baseline_to: '2026-03-10', planned_start: '2026-03-11', planned_savings_per_month: '0'}"),
            1u);
  auto e2 = Measure("e2", kDay1, kDay1 + 30);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(e2->measured(), 0);
  EXPECT_TRUE(absl::StrContains(e2->not_measured(), "no postings of energy in the baseline")) << e2->not_measured();
  EXPECT_EQ(e2->planned(), 0);  // proposed only: nothing planned yet
}

TEST_F(SavingsTest, CancellationStopsPlannedAndMeasuredSavings) {
  Propose("k1", "MATERIAL_USAGE", "steel");
  Run("k1");
  Make(kDay1, 500, 0);
  Post(kDay1, "steel", 88'400, 1040);
  Make(kDay1 + 12, 250, 0);
  Post(kDay1 + 12, "steel", 42'500, 500);
  Make(kDay1 + 20, 250, 0);
  Post(kDay1 + 20, "steel", 42'500, 500);
  EXPECT_EQ(Measure("k1", kDay1, kDay1 + 30)->measured(), 3400);
  EXPECT_EQ(Command("cancel_initiative: {initiative: k1, day: '2026-03-11', reason: r}").status().code(),
            absl::StatusCode::kInvalidArgument);  // not after the start
  ASSERT_EQ(*Command("cancel_initiative: {initiative: k1, day: '2026-03-16', reason: supplier change}"), 1u);
  auto s = Measure("k1", kDay1, kDay1 + 30);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->stage(), v1::CANCELLED);
  EXPECT_EQ(s->measured(), 1700);    // the 21st is after the cancellation
  EXPECT_EQ(s->planned(), 50'000);   // 11th to 15th: 5 of 31 days of 3,100.00
}

TEST_F(SavingsTest, ApproversAreWhoCallsAndConfirmationsFollowTheCalendar) {
  Propose("k1", "MATERIAL_USAGE", "steel");
  // An authenticated owner cannot approve their own initiative under another name,
  // and a person approves as themself.
  origin_.actor = "person:eng-1";
  EXPECT_EQ(Command("approve_initiative: {initiative: k1, approved_by: ctl-1, reason: ok}").status().code(),
            absl::StatusCode::kPermissionDenied);
  origin_.actor = "person:ctl-2";
  auto other = Command("approve_initiative: {initiative: k1, approved_by: ctl-1, reason: ok}");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(other.status().message(), "not the caller")) << other.status();
  EXPECT_EQ(*Command("approve_initiative: {initiative: k1, approved_by: ctl-2, reason: ok}"), 1u);
  ASSERT_EQ(*Command("start_initiative: {initiative: k1, day: '2026-03-11'}"), 1u);
  // Now is 2026-04-15: April has not ended.
  auto early = Command("confirm_savings: {initiative: k1, month: '2026-04', amount: '5', approved_by: ctl-2, reason: r}");
  EXPECT_EQ(early.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(early.status().message(), "has not ended")) << early.status();
  ASSERT_EQ(*Command("confirm_savings: {initiative: k1, month: '2026-03', amount: '5', approved_by: ctl-2, reason: r}"),
            1u);
  // Cancelling inside a confirmed month would leave savings confirmed for days it did not run.
  EXPECT_EQ(Command("cancel_initiative: {initiative: k1, day: '2026-03-20', reason: r}").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*Command("cancel_initiative: {initiative: k1, day: '2026-04-01', reason: r}"), 1u);
}

TEST_F(SavingsTest, UnmeasurableBaselinesAndMonthsWithoutOutput) {
  // Energy per unit of the bracket, but the baseline's energy names no product:
  // no baseline rate, nothing valued (not the whole cost shown as a loss).
  ASSERT_EQ(*Command("propose_initiative: {initiative: e2, title: T, method: LEAN, owner: eng-1, target_kpi: "
                     "COST_PER_GOOD_UNIT, account: energy, product: bracket, baseline_from: '2026-03-01', "
                     "baseline_to: '2026-03-10', planned_start: '2026-03-11', planned_savings_per_month: '0'}"),
            1u);
  Run("e2");
  Make(kDay1, 100, 0);
  Post(kDay1, "energy", 1000, 0);
  Make(kDay1 + 12, 200, 0);
  Post(kDay1 + 12, "energy", 1800, 0, "bracket");
  auto e2 = Measure("e2", kDay1, kDay1 + 30);
  ASSERT_TRUE(e2.ok()) << e2.status();
  EXPECT_EQ(e2->measured(), 0);
  EXPECT_TRUE(absl::StrContains(e2->not_measured(), "no postings of energy in the baseline")) << e2->not_measured();
  // A month with steel issued but nothing good made: all of it beyond the baseline.
  Propose("k1", "MATERIAL_USAGE", "steel");
  Run("k1");
  Post(kDay1, "steel", 88'400, 1040);
  Make(kDay1 + 1, 500, 0);
  Make(kDay1 + 12, 0, 40);
  Post(kDay1 + 12, "steel", 8'500, 100);
  auto k1 = Measure("k1", kDay1, kDay1 + 30);
  ASSERT_TRUE(k1.ok()) << k1.status();
  EXPECT_EQ(k1->measured(), -8'500);  // (1.04 x 0 - 100) kg x 85
}

// Planned savings pro rata, rounded half to even once: 1,000.03 a month for
// 15 of April's 30 days is 50,001.5 cents: 50,002 (truncation would give
// 50,001); 1,000.01 gives 50,000.5: 50,000 (half up would give 50,001).
TEST_F(SavingsTest, PlannedSavingsRoundHalfToEven) {
  for (auto [amount, cents] : {std::pair{"1000.03", 50'002}, std::pair{"1000.01", 50'000}}) {
    const std::string id = absl::StrCat("p", cents);
    ASSERT_EQ(*Command(absl::StrCat("propose_initiative: {initiative: ", id, ", title: T, method: LEAN, owner: eng-1, "
                                    "target_kpi: SCRAP_RATIO, baseline_from: '2026-03-01', baseline_to: '2026-03-10', "
                                    "planned_start: '2026-04-16', planned_savings_per_month: '", amount, "'}")),
              1u);
    ASSERT_EQ(*Command(absl::StrCat("approve_initiative: {initiative: ", id, ", approved_by: ctl-1, reason: ok}")), 1u);
    auto s = Measure(id, absl::CivilDay(2026, 4, 1), absl::CivilDay(2026, 4, 30));
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->planned(), cents) << amount;
  }
}

TEST_F(SavingsTest, OneLabourAccountTakesThePlantsAttendedHours) {
  ASSERT_EQ(*Command("define_account: {account: labour, name: Labour, kind: DIRECT_LABOUR, standard_price: '3200', "
                     "unit: h, hours_from_attendance: true}"),
            1u);
  EXPECT_EQ(Command("define_account: {account: assembly, name: Assembly, kind: DIRECT_LABOUR, standard_price: "
                    "'3000', unit: h, hours_from_attendance: true}")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace takt::budgets
