#include "services/budgets/budget_book.h"

#include "gtest/gtest.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::budgets {
namespace {

namespace ev1 = ::takt::enterprise::v1;

template <typename M>
void Put(model::EnterpriseModel& m, const M& desired) {
  auto events = m.Decide(desired);
  ASSERT_TRUE(events.ok()) << events.status();
  for (const auto& e : *events) ASSERT_TRUE(m.Apply(e).ok());
}

class BudgetBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ev1::FacilityDefined f;
    f.set_facility("plant");
    f.mutable_calendar()->set_time_zone("UTC");
    Put(model_, f);
    ev1::AreaDefined a;
    a.set_facility("plant");
    a.set_area("body");
    Put(model_, a);
    ev1::WorkCenterDefined w;
    w.set_facility("plant");
    w.set_area("body");
    w.set_work_center("press");
    Put(model_, w);
    ev1::ProductDefined p;
    p.set_product("jacket");
    p.set_planned_run_time_per_item_us(60'000'000);
    Put(model_, p);
  }
  // Decides and applies; the number of events.
  absl::StatusOr<size_t> Do(const v1::BudgetCommand& c) {
    auto events = DecideBudget(book_, c, model_, "plant", {"controller", absl::Now()});
    if (!events.ok()) return events.status();
    for (const auto& e : *events) {
      if (absl::Status s = book_.Apply(e); !s.ok()) return s;
    }
    return events->size();
  }
  static v1::BudgetCommand Ledger(const std::string& currency, const std::string& reporting = "") {
    v1::BudgetCommand c;
    c.mutable_configure_ledger()->set_currency(currency);
    c.mutable_configure_ledger()->set_reporting_currency(reporting);
    return c;
  }
  static v1::BudgetCommand Account(const std::string& id, v1::AccountKind kind, const std::string& price) {
    v1::BudgetCommand c;
    auto* a = c.mutable_define_account();
    a->set_account(id);
    a->set_name(id);
    a->set_kind(kind);
    a->set_standard_price(price);
    return c;
  }
  static v1::BudgetCommand CostCentre(const std::string& id) {
    v1::BudgetCommand c;
    c.mutable_define_cost_centre()->set_cost_centre(id);
    return c;
  }
  static v1::BudgetCommand Budget(const std::string& version, const std::string& month, const std::string& cc,
                                  const std::string& account, const std::string& amount) {
    v1::BudgetCommand c;
    auto* b = c.mutable_set_budget();
    b->set_version(version);
    b->set_month(month);
    b->set_cost_centre(cc);
    b->set_account(account);
    b->set_amount(amount);
    return c;
  }
  static v1::BudgetCommand Approve(const std::string& version, const std::string& from) {
    v1::BudgetCommand c;
    c.mutable_approve_budget()->set_version(version);
    c.mutable_approve_budget()->set_from_month(from);
    c.mutable_approve_budget()->set_reason("board meeting");
    return c;
  }
  void Basics() {
    ASSERT_EQ(*Do(Ledger("EUR", "USD")), 1u);
    ASSERT_EQ(*Do(Account("cloth", v1::DIRECT_MATERIAL, "3000")), 1u);
    ASSERT_EQ(*Do(Account("assembly-labour", v1::DIRECT_LABOUR, "2000")), 1u);
    ASSERT_EQ(*Do(Account("energy", v1::OTHER, "")), 1u);
    ASSERT_EQ(*Do(CostCentre("press")), 1u);
    ASSERT_EQ(*Do(CostCentre("body")), 1u);
  }

  model::EnterpriseModel model_;
  BudgetBook book_;
};

TEST_F(BudgetBookTest, ResendsChangeNothingAndCurrenciesNeverChange) {
  Basics();
  EXPECT_EQ(*Do(Ledger("EUR", "USD")), 0u);
  EXPECT_EQ(*Do(Account("cloth", v1::DIRECT_MATERIAL, "3000")), 0u);
  EXPECT_EQ(*Do(CostCentre("press")), 0u);
  EXPECT_EQ(Do(Ledger("USD")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Do(Account("cloth", v1::DIRECT_LABOUR, "3000")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*Do(Account("cloth", v1::DIRECT_MATERIAL, "3100")), 1u);  // a new standard price
  EXPECT_EQ(book_.StandardPrice("cloth").nanos, 3100 * kNanosPerUnit);
  EXPECT_EQ(book_.currency(), "EUR");
  EXPECT_EQ(book_.reporting_currency(), "USD");
}

TEST_F(BudgetBookTest, BudgetsByVersionMonthAndCostCentreWithApproval) {
  Basics();
  ASSERT_EQ(*Do(Budget("original", "2026-03", "press", "cloth", "720000.00")), 1u);
  ASSERT_EQ(*Do(Budget("original", "2026-03", "body", "cloth", "1000.50")), 1u);
  EXPECT_EQ(*Do(Budget("original", "2026-03", "press", "cloth", "720000")), 0u);  // same amount
  EXPECT_EQ(book_.AccountBudget("original", absl::CivilMonth(2026, 3), "cloth"), 72'100'050);
  EXPECT_EQ(book_.ApprovedVersion(absl::CivilMonth(2026, 3)), "");
  ASSERT_EQ(*Do(Approve("original", "2026-01")), 1u);
  EXPECT_EQ(book_.ApprovedVersion(absl::CivilMonth(2026, 3)), "original");
  EXPECT_EQ(book_.ApprovedVersion(absl::CivilMonth(2025, 12)), "");
  // An approved version is frozen; a reforecast takes over from its month.
  auto frozen = Do(Budget("original", "2026-03", "press", "cloth", "1"));
  EXPECT_EQ(frozen.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(frozen.status().message().find("reforecast"), std::string::npos);
  ASSERT_EQ(*Do(Budget("reforecast-1", "2026-06", "press", "cloth", "650000")), 1u);
  ASSERT_EQ(*Do(Approve("reforecast-1", "2026-06")), 1u);
  EXPECT_EQ(book_.ApprovedVersion(absl::CivilMonth(2026, 5)), "original");
  EXPECT_EQ(book_.ApprovedVersion(absl::CivilMonth(2026, 9)), "reforecast-1");
  EXPECT_EQ(Do(Approve("never-budgeted", "2026-01")).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BudgetBookTest, BadInputNamesTheFieldAndRecordsNothing) {
  EXPECT_EQ(Do(Budget("original", "2026-03", "press", "cloth", "1")).status().code(),
            absl::StatusCode::kFailedPrecondition);  // no ledger yet
  EXPECT_EQ(Do(Ledger("EURO")).status().code(), absl::StatusCode::kNotFound);
  Basics();
  auto s = Do(Budget("original", "2026-13", "press", "cloth", "1")).status();
  EXPECT_NE(s.message().find("month: '2026-13' is not a month"), std::string::npos) << s;
  s = Do(Budget("original", "2026-03", "paint", "cloth", "1")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  s = Do(Budget("original", "2026-03", "press", "cloth", "1.005")).status();
  EXPECT_NE(s.message().find("more than 2 decimals"), std::string::npos) << s;
  EXPECT_EQ(Do(Budget("original", "2026-03", "press", "cloth", "10000000000000.01")).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(Do(CostCentre("saw-1")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Do(Account("glue", v1::DIRECT_MATERIAL, "")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Account("rent", v1::OTHER, "5")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Account("x", v1::ACCOUNT_KIND_UNSPECIFIED, "")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(Account("../x", v1::OTHER, "")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Do(v1::BudgetCommand()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(book_.HasBudget("original"));
}

TEST_F(BudgetBookTest, StandardCardsAndRatesFromAMonthOn) {
  Basics();
  v1::BudgetCommand card;
  auto* s = card.mutable_set_standard_cost();
  s->set_product("jacket");
  s->set_from_month("2026-01");
  auto* l = s->add_lines();
  l->set_account("cloth");
  l->set_quantity_per_unit("2");
  l = s->add_lines();
  l->set_account("assembly-labour");
  l->set_quantity_per_unit("0.8");
  ASSERT_EQ(*Do(card), 1u);
  EXPECT_EQ(*Do(card), 0u);
  s->set_from_month("2026-02");
  EXPECT_EQ(*Do(card), 0u);  // the card in force from February is already this one
  s->mutable_lines(0)->set_quantity_per_unit("1.9");
  ASSERT_EQ(*Do(card), 1u);
  EXPECT_EQ((*book_.StandardCard("jacket", absl::CivilMonth(2026, 1)))[0].per_unit.nanos, 2 * kNanosPerUnit);
  EXPECT_EQ((*book_.StandardCard("jacket", absl::CivilMonth(2026, 7)))[0].per_unit.nanos, 1'900'000'000);
  EXPECT_EQ(book_.StandardCard("jacket", absl::CivilMonth(2025, 12)), nullptr);
  s->mutable_lines(0)->set_account("energy");
  EXPECT_EQ(Do(card).status().code(), absl::StatusCode::kInvalidArgument);
  s->set_product("sofa");
  EXPECT_EQ(Do(card).status().code(), absl::StatusCode::kNotFound);

  v1::BudgetCommand rate;
  rate.mutable_set_exchange_rate()->set_month("2026-03");
  rate.mutable_set_exchange_rate()->set_rate("1.0842");
  ASSERT_EQ(*Do(rate), 1u);
  EXPECT_EQ(*Do(rate), 0u);
  EXPECT_EQ(book_.ExchangeRate(absl::CivilMonth(2026, 3))->nanos, 1'084'200'000);
  EXPECT_FALSE(book_.ExchangeRate(absl::CivilMonth(2026, 4)).has_value());
  rate.mutable_set_exchange_rate()->set_rate("0");
  EXPECT_EQ(Do(rate).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::budgets
