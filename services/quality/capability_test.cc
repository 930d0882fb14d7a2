#include "services/quality/capability.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace takt::quality {
namespace {

// The textbook worked example (NIST/SEMATECH e-Handbook of Statistical
// Methods, 6.1.6): USL 20, LSL 8, mean 16, sigma 2 gives Cp = 1 and
// Cpk = min((20 - 16) / 6, (16 - 8) / 6) = 0.6667.
TEST(Capability, WorkedExample) {
  CapabilityResult r = Indices(16, 2, 2, 8, 20);
  EXPECT_NEAR(r.cp, 1.0, 1e-12);
  EXPECT_NEAR(r.cpk, 0.6667, 5e-5);
  EXPECT_NEAR(r.ppk, 0.6667, 5e-5);
}

using Groups = std::vector<std::vector<double>>;

kpi::Values MomentsOf(const Groups& groups, double nominal, double resolution) {
  kpi::Values sum(kMomentCount, 0);
  for (const auto& g : groups) kpi::AddInto(sum, SubgroupMoments(g, nominal, resolution, nullptr));
  return sum;
}

struct Direct {
  double mean, within, overall;
};
// Straight from the values, the long way.
Direct FromValues(const Groups& groups) {
  double n = 0, sum = 0;
  for (const auto& g : groups) {
    for (double x : g) {
      sum += x;
      n += 1;
    }
  }
  const double mean = sum / n;
  double ss_overall = 0, ss_within = 0, df = 0;
  for (const auto& g : groups) {
    double gm = 0;
    for (double x : g) gm += x;
    gm /= static_cast<double>(g.size());
    for (double x : g) {
      ss_overall += (x - mean) * (x - mean);
      ss_within += (x - gm) * (x - gm);
    }
    df += static_cast<double>(g.size()) - 1;
  }
  return {mean, std::sqrt(ss_within / df), std::sqrt(ss_overall / (n - 1))};
}

TEST(Capability, PooledPlantsAreNotTheAverageOfTheirIndices) {
  // Plant A runs centred and tight; plant B off-centre and wide.
  const Groups a = {{10.001, 9.999, 10.000}, {10.002, 10.000, 9.998}, {10.000, 10.001, 9.999}};
  const Groups b = {{10.010, 10.016, 10.004}, {10.020, 10.008, 10.014}, {10.012, 10.018, 10.006}};
  const Spec spec{10.0, 0.001, 9.97, 10.03, 3};
  auto ra = ComputeCapability(MomentsOf(a, 10.0, 0.001), spec);
  auto rb = ComputeCapability(MomentsOf(b, 10.0, 0.001), spec);
  kpi::Values pooled = MomentsOf(a, 10.0, 0.001);
  kpi::AddInto(pooled, MomentsOf(b, 10.0, 0.001));
  auto both = ComputeCapability(pooled, spec);
  ASSERT_TRUE(ra.ok() && rb.ok() && both.ok());

  Groups all = a;
  all.insert(all.end(), b.begin(), b.end());
  const Direct d = FromValues(all);
  EXPECT_NEAR(both->mean, d.mean, 1e-12);
  EXPECT_NEAR(both->sigma_within, d.within, 1e-9);
  EXPECT_NEAR(both->sigma_overall, d.overall, 1e-9);
  const double cpk = std::min(10.03 - d.mean, d.mean - 9.97) / (3 * d.within);
  const double ppk = std::min(10.03 - d.mean, d.mean - 9.97) / (3 * d.overall);
  EXPECT_NEAR(both->cpk, cpk, 1e-6);
  EXPECT_NEAR(both->ppk, ppk, 1e-6);
  EXPECT_EQ(both->n, 18);
  EXPECT_EQ(both->subgroups, 6);
  // The average of the plants' Cpk is another (wrong) number.
  EXPECT_GT(std::fabs((ra->cpk + rb->cpk) / 2 - both->cpk), 0.1);
  EXPECT_GT(std::fabs((ra->ppk + rb->ppk) / 2 - both->ppk), 0.1);
}

TEST(Capability, MomentsAreExactIntegersInResolutionSteps) {
  kpi::Values m = SubgroupMoments({10.003, 9.998, 10.001}, 10.0, 0.001, nullptr);
  EXPECT_EQ(m[kN], 3);
  EXPECT_EQ(m[kSumD], 3 - 2 + 1);
  EXPECT_EQ(m[kSumD2], 9 + 4 + 1);
  EXPECT_EQ(m[kSumQ], 3 * 14 - 2 * 2);
  EXPECT_EQ(m[kSumRange], 5);
  EXPECT_EQ(m[kSubgroups], 1);
}

TEST(Capability, IndividualsUseMovingRanges) {
  kpi::Values sum(kMomentCount, 0);
  double previous = 0;
  bool first = true;
  for (double x : {10.0, 10.2, 10.1, 10.3}) {
    const double mr = std::fabs(x - previous);
    kpi::AddInto(sum, SubgroupMoments({x}, 10.0, 0.1, first ? nullptr : &mr));
    previous = x;
    first = false;
  }
  auto r = ComputeCapability(sum, Spec{10.0, 0.1, 9.0, 11.0, 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->estimator, "MR-bar/d2(2)");
  EXPECT_NEAR(r->sigma_within, (0.5 / 3) / 1.128, 1e-9);
}

TEST(Capability, RefusesWhatItCannotPoolExactly) {
  kpi::Values m = MomentsOf({{10.0, 10.001, 10.002}}, 10.0, 0.001);
  EXPECT_EQ(ComputeCapability(m, Spec{10.0, 0.001, 9.9, 10.1, 5}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not subgroups of 5
  kpi::Values one = MomentsOf({{10.0}}, 10.0, 0.001);
  EXPECT_FALSE(ComputeCapability(one, Spec{10.0, 0.001, 9.9, 10.1, 1}).ok());
  kpi::Values overflowed(kMomentCount, 0);
  overflowed[kSumD2] = std::numeric_limits<int64_t>::max();
  overflowed[kN] = 10;
  EXPECT_FALSE(ComputeCapability(overflowed, Spec{}).ok());
}

}  // namespace
}  // namespace takt::quality
