#include "services/budgets/variance.h"

#include "gtest/gtest.h"

namespace takt::budgets {
namespace {

// Amounts in cents; quantities and prices as decimals.
Decimal D(const char* text) { return *ParseDecimal(text); }
constexpr int64_t kUsd = 100;

// Horngren, Datar and Rajan's Webb Company (Cost Accounting, ch. 7 and 8),
// recomputed by hand: jackets budgeted at 12,000 units, 10,000 made and sold.
// Standards per jacket: 2 square yards of cloth at $30, 0.8 labour hours at
// $20, variable overhead 0.4 machine hours at $30, fixed overhead $276,000
// a month absorbed over 4,800 budgeted machine hours ($57.50 per hour).
TEST(VarianceTest, DirectMaterialPriceAndUsage) {
  CostLine m;
  m.kind = CostKind::kDirectMaterial;
  m.actual = 621'600 * kUsd;          // 22,200 sq yd bought and used at $28
  m.actual_quantity = D("22200");
  m.standard_quantity = D("20000");   // 2 x 10,000 jackets
  m.standard_price = D("3000");       // $30.00 in cents per sq yd
  m.static_budget = 720'000 * kUsd;   // 2 x 12,000 x $30
  auto v = ComputeVariances(m);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->price, -44'400 * kUsd);        // (28 - 30) x 22,200: favourable
  EXPECT_EQ(v->quantity, 66'000 * kUsd);      // (22,200 - 20,000) x 30: unfavourable
  EXPECT_EQ(v->flexible_budget, 600'000 * kUsd);
  EXPECT_EQ(v->flexible_variance, 21'600 * kUsd);
  EXPECT_EQ(v->volume_variance, -120'000 * kUsd);  // 2,000 jackets fewer than planned
  EXPECT_EQ(v->static_variance, -98'400 * kUsd);
  EXPECT_STREQ(Direction(v->price), "F");
  EXPECT_STREQ(Direction(v->quantity), "U");
}

TEST(VarianceTest, DirectLabourRateAndEfficiency) {
  CostLine l;
  l.kind = CostKind::kDirectLabour;
  l.actual = 198'000 * kUsd;           // 9,000 hours at $22
  l.actual_quantity = D("9000");
  l.standard_quantity = D("8000");     // 0.8 x 10,000
  l.standard_price = D("2000");
  l.static_budget = 192'000 * kUsd;    // 0.8 x 12,000 x $20
  auto v = ComputeVariances(l);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->price, 18'000 * kUsd);      // rate: (22 - 20) x 9,000 U
  EXPECT_EQ(v->quantity, 20'000 * kUsd);   // efficiency: (9,000 - 8,000) x 20 U
  EXPECT_EQ(v->flexible_variance, 38'000 * kUsd);
  EXPECT_EQ(v->volume_variance, -32'000 * kUsd);
}

TEST(VarianceTest, OverheadSpendingEfficiencyAndProductionVolume) {
  CostLine voh;
  voh.kind = CostKind::kVariableOverhead;
  voh.actual = 130'500 * kUsd;
  voh.actual_quantity = D("4600");     // machine hours
  voh.standard_quantity = D("4000");   // 0.4 x 10,000
  voh.standard_price = D("3000");
  voh.static_budget = 144'000 * kUsd;  // 0.4 x 12,000 x $30
  auto v = ComputeVariances(voh);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->price, -7'500 * kUsd);     // spending: 130,500 - 4,600 x 30, F
  EXPECT_EQ(v->quantity, 18'000 * kUsd);  // efficiency: 600 hours x 30, U
  EXPECT_EQ(v->flexible_variance, 10'500 * kUsd);

  CostLine foh;
  foh.kind = CostKind::kFixedOverhead;
  foh.actual = 285'000 * kUsd;
  foh.standard_quantity = D("4000");
  foh.standard_price = D("5750");         // $57.50 absorbed per machine hour
  foh.static_budget = 276'000 * kUsd;
  v = ComputeVariances(foh);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->price, 9'000 * kUsd);       // spending U
  EXPECT_EQ(v->quantity, 46'000 * kUsd);   // production volume: 276,000 - 230,000, U
  EXPECT_EQ(v->flexible_budget, v->static_budget);
  EXPECT_EQ(v->volume_variance, 0);
  // Spending + production volume = under-absorbed overhead: 285,000 - 230,000.
  EXPECT_EQ(v->price + v->quantity, 55'000 * kUsd);
}

TEST(VarianceTest, OtherAccountsFlexWhenVariableAndNotWhenFixed) {
  CostLine energy;
  energy.kind = CostKind::kOther;
  energy.variable = true;
  energy.actual = 52'000 * kUsd;
  energy.static_budget = 60'000 * kUsd;
  energy.planned_output = 12'000;
  energy.actual_output = 10'000;
  auto v = ComputeVariances(energy);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->flexible_budget, 50'000 * kUsd);
  EXPECT_EQ(v->price, 2'000 * kUsd);
  EXPECT_EQ(v->volume_variance, -10'000 * kUsd);
  EXPECT_EQ(v->static_variance, -8'000 * kUsd);
  energy.variable = false;
  v = ComputeVariances(energy);
  EXPECT_EQ(v->flexible_budget, 60'000 * kUsd);
  EXPECT_EQ(v->price, -8'000 * kUsd);
  energy.variable = true;
  energy.planned_output = -1;
  EXPECT_EQ(ComputeVariances(energy).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VarianceTest, RoundedOnceAndTheVariancesAddUpExactly) {
  CostLine m;
  m.kind = CostKind::kDirectMaterial;
  m.actual = 1'000'001;
  m.actual_quantity = D("333.333333333");
  m.standard_quantity = D("333.333333");
  m.standard_price = D("3000.5");
  m.static_budget = 999'999;
  auto v = ComputeVariances(m);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->price + v->quantity, v->flexible_variance);
  EXPECT_EQ(v->flexible_variance + v->volume_variance, v->static_variance);
  CostLine huge = m;
  huge.actual_quantity = D("9000000000");
  huge.standard_price = D("9000000000");
  EXPECT_EQ(ComputeVariances(huge).status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace takt::budgets
