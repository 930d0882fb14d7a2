#include "services/quality/spc.h"

#include <vector>

#include "gtest/gtest.h"

namespace takt::quality {
namespace {

TEST(ChartConstants, MatchTheTables) {
  auto c5 = ConstantsFor(5);
  ASSERT_TRUE(c5.ok());
  EXPECT_DOUBLE_EQ(c5->d2, 2.326);
  EXPECT_NEAR(c5->c4, 0.9400, 5e-5);
  EXPECT_NEAR(C4(2), 0.7979, 5e-5);
  EXPECT_NEAR(C4(10), 0.9727, 5e-5);
  EXPECT_NEAR(C4(25), 0.9896, 5e-5);
  EXPECT_FALSE(ConstantsFor(1).ok());
  EXPECT_FALSE(ConstantsFor(26).ok());
}

Point P(double value, double dispersion, bool has = true) {
  Point p;
  p.value = value;
  p.dispersion = dispersion;
  p.has_dispersion = has;
  return p;
}

// Montgomery, Introduction to Statistical Quality Control, piston-ring
// inside diameters: x-double-bar 74.001, R-bar 0.023, n = 5 gives the
// X-bar chart 73.988..74.014 and the R chart 0..0.049.
TEST(Limits, XbarRMatchesTheTextbookPistonRings) {
  auto l = ComputeLimits(v1::XBAR_R, 5, {P(74.000, 0.022), P(74.002, 0.024)});
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_NEAR(l->center(), 74.001, 1e-9);
  EXPECT_NEAR(l->upper(), 74.014, 5e-4);
  EXPECT_NEAR(l->lower(), 73.988, 5e-4);
  EXPECT_NEAR(l->dispersion_center(), 0.023, 1e-12);
  EXPECT_NEAR(l->dispersion_upper(), 0.049, 5e-4);
  EXPECT_DOUBLE_EQ(l->dispersion_lower(), 0);
}

// Four subgroups of five, by hand: means 10.00, 10.01, 9.99, 10.01 and
// ranges 0.04, 0.06, 0.06, 0.04, so x-double-bar = 10.0025 and R-bar =
// 0.05 (the mean of the ranges; the data's max - min is 0.08).
// A2 = 3 / (2.326 sqrt 5) = 0.576801, D4 = 1 + 3 (0.864) / 2.326 = 2.114359.
TEST(Limits, XbarRFromSubgroupsByHand) {
  const std::vector<std::vector<double>> groups = {{10.02, 9.98, 10.00, 10.01, 9.99},
                                                   {10.03, 10.00, 9.97, 10.02, 10.03},
                                                   {9.99, 9.96, 10.00, 9.98, 10.02},
                                                   {10.01, 10.00, 10.04, 10.00, 10.00}};
  std::vector<Point> points;
  for (const auto& g : groups) points.push_back(VariablesPoint(v1::XBAR_R, g, nullptr));
  EXPECT_NEAR(points[1].dispersion, 0.06, 1e-12);
  auto l = ComputeLimits(v1::XBAR_R, 5, points);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_NEAR(l->center(), 10.0025, 1e-12);
  EXPECT_NEAR(l->dispersion_center(), 0.05, 1e-12);
  EXPECT_NEAR(l->upper(), 10.0025 + 0.576801 * 0.05, 1e-6);
  EXPECT_NEAR(l->lower(), 10.0025 - 0.576801 * 0.05, 1e-6);
  EXPECT_NEAR(l->dispersion_upper(), 2.114359 * 0.05, 1e-6);
  EXPECT_NEAR(l->sigma_within(), 0.05 / 2.326, 1e-12);
}

TEST(Limits, XbarSUsesSbarOverC4) {
  const std::vector<std::vector<double>> groups = {{1, 2, 3, 4}, {2, 3, 4, 5}, {1, 3, 5, 7}};
  std::vector<Point> points;
  for (const auto& g : groups) points.push_back(VariablesPoint(v1::XBAR_S, g, nullptr));
  // s = 1.290994, 1.290994, 2.581989; S-bar = 1.721326; c4(4) = 0.921318.
  auto l = ComputeLimits(v1::XBAR_S, 4, points);
  ASSERT_TRUE(l.ok());
  const double sbar = (2 * 1.2909944 + 2.5819889) / 3;
  EXPECT_NEAR(l->dispersion_center(), sbar, 1e-6);
  EXPECT_NEAR(l->sigma_within(), sbar / 0.921318, 1e-5);
  EXPECT_NEAR(l->upper() - l->center(), 3 * sbar / (0.921318 * 2), 1e-5);
  // B4(4) = 2.266.
  EXPECT_NEAR(l->dispersion_upper() / sbar, 2.266, 1e-3);
}

TEST(Limits, IndividualsUseTheMeanMovingRange) {
  std::vector<Point> points;
  double previous = 0;
  for (double x : {10.0, 12.0, 11.0, 13.0}) {
    points.push_back(VariablesPoint(v1::I_MR, {x}, points.empty() ? nullptr : &previous));
    previous = x;
  }
  EXPECT_FALSE(points[0].has_dispersion);
  auto l = ComputeLimits(v1::I_MR, 1, points);
  ASSERT_TRUE(l.ok());
  const double mr = 5.0 / 3;  // |12-10|, |11-12|, |13-11|
  EXPECT_NEAR(l->center(), 11.5, 1e-12);
  EXPECT_NEAR(l->upper(), 11.5 + 3 * mr / 1.128, 1e-9);
  EXPECT_NEAR(l->dispersion_upper() / mr, 3.267, 2e-3);  // D4(2)
}

TEST(Limits, AttributeChartsAndVaryingSampleSizes) {
  // p: 6 defective of 100, 4 of 200 -> p-bar = 10/300.
  auto p = ComputeLimits(v1::P, 0, {AttributesPoint(v1::P, 100, 6, 0), AttributesPoint(v1::P, 200, 4, 0)});
  ASSERT_TRUE(p.ok());
  const double pbar = 10.0 / 300;
  EXPECT_NEAR(p->center(), pbar, 1e-12);
  const Band b100 = PrimaryBand(*p, AttributesPoint(v1::P, 100, 0, 0));
  const Band b200 = PrimaryBand(*p, AttributesPoint(v1::P, 200, 0, 0));
  EXPECT_NEAR(b100.upper, pbar + 3 * std::sqrt(pbar * (1 - pbar) / 100), 1e-12);
  EXPECT_LT(b200.upper, b100.upper);  // more units, tighter limits
  EXPECT_DOUBLE_EQ(b100.lower, 0);
  // c: c-bar = 4 -> 4 +- 6, clipped at 0.
  auto c = ComputeLimits(v1::C, 0, {AttributesPoint(v1::C, 1, 0, 3), AttributesPoint(v1::C, 1, 0, 5)});
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->center(), 4);
  EXPECT_DOUBLE_EQ(c->upper(), 10);
  EXPECT_DOUBLE_EQ(c->lower(), 0);
  // u: 12 defects on 8 units, 4 on 8 -> u-bar = 1.
  auto u = ComputeLimits(v1::U, 0, {AttributesPoint(v1::U, 8, 0, 12), AttributesPoint(v1::U, 8, 0, 4)});
  ASSERT_TRUE(u.ok());
  EXPECT_DOUBLE_EQ(u->center(), 1);
  EXPECT_NEAR(u->upper(), 1 + 3 * std::sqrt(1.0 / 8), 1e-12);
  // np: 50 per inspection, 2 and 4 defective -> p-bar 0.06, centre 3.
  auto np = ComputeLimits(v1::NP, 50, {AttributesPoint(v1::NP, 50, 2, 0), AttributesPoint(v1::NP, 50, 4, 0)});
  ASSERT_TRUE(np.ok());
  EXPECT_NEAR(np->center(), 3, 1e-12);
  EXPECT_NEAR(np->upper(), 3 + 3 * std::sqrt(50 * 0.06 * 0.94), 1e-12);
}

TEST(Limits, TooFewOrFlatBaselinesAreRefused) {
  EXPECT_EQ(ComputeLimits(v1::XBAR_R, 5, {P(1, 0.1)}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ComputeLimits(v1::XBAR_R, 5, {P(1, 0), P(1, 0)}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Limits centred on 0 with sigma 1 (an individuals chart: upper 3).
v1::LimitsApproved Unit(uint32_t revision = 1) {
  v1::LimitsApproved l;
  l.set_chart(v1::I_MR);
  l.set_revision(revision);
  l.set_center(0);
  l.set_upper(3);
  l.set_lower(-3);
  l.set_dispersion_center(1.128);
  l.set_dispersion_upper(3.686);
  return l;
}

// The rules that fired at each point of `values`.
std::vector<std::vector<int>> Fire(const std::vector<double>& values, std::vector<uint32_t> extra = {},
                                  const v1::LimitsApproved& limits = Unit()) {
  RuleEngine engine;
  std::vector<std::vector<int>> out;
  for (double v : values) {
    Point p;
    p.value = v;
    std::vector<int> rules;
    for (const auto& f : engine.Add(p, limits, extra)) {
      if (!f.dispersion) rules.push_back(f.rule);
    }
    out.push_back(rules);
  }
  return out;
}

std::vector<int> Last(const std::vector<double>& values, std::vector<uint32_t> extra = {}) {
  return Fire(values, std::move(extra)).back();
}

std::vector<double> Repeat(int n, double v) { return std::vector<double>(n, v); }
std::vector<double> Alternate(int n, double a, double b) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(i % 2 == 0 ? a : b);
  return out;
}

TEST(Rules, OneBeyondThreeSigma) {
  EXPECT_EQ(Last({0.1, 3.1}), std::vector<int>{1});
  EXPECT_EQ(Last({0.1, -3.1}), std::vector<int>{1});
  EXPECT_TRUE(Last({0.1, 2.9}).empty());
}

TEST(Rules, TwoOfThreeBeyondTwoSigmaSameSide) {
  EXPECT_EQ(Last({2.5, 0, 2.5}), std::vector<int>{2});
  EXPECT_TRUE(Last({2.5, 0, -2.5}).empty());  // opposite sides
  EXPECT_TRUE(Last({2.5, 0, 1.9}).empty());
  EXPECT_EQ(Last({2.5, 2.5}), std::vector<int>{2});  // the first two points of a revision
}

TEST(Rules, FourOfFiveBeyondOneSigmaSameSide) {
  EXPECT_EQ(Last({1.5, 1.5, 0, 1.5, 1.5}), std::vector<int>{3});
  EXPECT_TRUE(Last({1.5, 1.5, 0, 0, 1.5}).empty());
}

TEST(Rules, EightOnOneSideFiresOncePerRun) {
  auto fired = Fire(Repeat(10, 0.5));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(fired[i], i == 7 ? std::vector<int>{4} : std::vector<int>{}) << "point " << i;
  }
  auto near = Repeat(7, 0.5);
  near.push_back(-0.5);
  EXPECT_TRUE(Last(near).empty());
}

TEST(Rules, SixInARowTrendIsOptional) {
  const std::vector<double> trend = {-1.0, -0.6, -0.2, 0.2, 0.6, 1.0};
  EXPECT_EQ(Last(trend, {5}), std::vector<int>{5});
  EXPECT_TRUE(Last(trend).empty());  // not enabled
  EXPECT_TRUE(Last({-1.0, -0.6, -0.2, 0.2, 0.6, 0.6}, {5}).empty());  // a flat step breaks it
}

TEST(Rules, FourteenAlternating) {
  EXPECT_EQ(Last(Alternate(14, 0.5, -0.5), {6}), std::vector<int>{6});
  EXPECT_TRUE(Last(Alternate(13, 0.5, -0.5), {6}).empty());
}

TEST(Rules, FifteenWithinOneSigma) {
  EXPECT_EQ(Last(Alternate(15, 0.5, -0.5), {7}), std::vector<int>{7});
  auto near = Alternate(14, 0.5, -0.5);
  near.push_back(1.2);
  EXPECT_TRUE(Last(near, {7}).empty());
}

TEST(Rules, EightBeyondOneSigmaOnBothSides) {
  EXPECT_EQ(Last(Alternate(8, 1.5, -1.5), {8}), std::vector<int>{8});
  auto near = Alternate(7, 1.5, -1.5);
  near.push_back(0.5);
  EXPECT_TRUE(Last(near, {8}).empty());
  EXPECT_TRUE(Last(Repeat(8, 1.5), {8}) != std::vector<int>{8});  // one side only: not rule 8
}

TEST(Rules, NewLimitsStartANewRunAndNoLimitsTestNothing) {
  RuleEngine engine;
  Point p;
  p.value = 0.5;
  for (int i = 0; i < 7; ++i) engine.Add(p, Unit(1), {});
  EXPECT_TRUE(engine.Add(p, Unit(2), {}).empty());  // would be the 8th under revision 1
  p.value = 100;
  EXPECT_TRUE(RuleEngine().Add(p, v1::LimitsApproved(), {}).empty());
}

TEST(Rules, DispersionChartChecksRuleOne) {
  RuleEngine engine;
  Point p;
  p.value = 0;
  p.dispersion = 4.0;
  p.has_dispersion = true;
  auto fired = engine.Add(p, Unit(), {});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_TRUE(fired[0].dispersion);
  EXPECT_EQ(fired[0].rule, 1);
}

}  // namespace
}  // namespace takt::quality
