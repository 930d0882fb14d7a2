// File: capability.h
// -----------------------------------------------------------------------------
// Process capability from additive moments, so that a region's Cp/Cpk is
// computed over the pooled data of its plants, never as an average of the
// plants' indices.
//
// The rollups keep, per characteristic and facility-hour, integer moments
// of the deviations d = round((x - nominal) / resolution) (family
// "capability", families.h): n, sum d, sum d^2, subgroups, sum of
// within-subgroup Q = n_i sum d^2 - (sum d)^2, sum of ranges, and for
// individuals the count and sum of moving ranges. Sums of integers are
// exact, so any scope and period adds up to the same moments as one pass
// over the raw values.
//
// Estimators (what `sigma_within` means):
//   n >= 2  pooled standard deviation Sp = sqrt(sum_i sum_j (x_ij - xbar_i)^2
//           / sum_i (n_i - 1)) = sqrt((sum Q / n) / (N - k)) for constant n;
//   n = 1   MR-bar / d2(2), d2(2) = 1.128 (moving ranges within a plant).
// sigma_overall is the sample standard deviation of all values,
// sqrt((N sum d^2 - (sum d)^2) / (N (N - 1))) steps.
// Cp = (USL - LSL) / 6 sigma_within, Cpk = min(USL - mean, mean - LSL) /
// 3 sigma_within; Pp and Ppk the same with sigma_overall.
#ifndef TAKT_SERVICES_QUALITY_CAPABILITY_H_
#define TAKT_SERVICES_QUALITY_CAPABILITY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/kpi/family.h"

namespace takt::quality {

// The capability family's elements, in order.
enum Moment : int {
  kN = 0,
  kSumD,
  kSumD2,
  kSubgroups,
  kSumQ,
  kSumRange,
  kMovingRanges,
  kSumMovingRange,
  kMomentCount
};

// The integer deviation of x from nominal in resolution steps.
int64_t Steps(double x, double nominal, double resolution);

// The moments of one subgroup (and its moving range, for individuals).
kpi::Values SubgroupMoments(const std::vector<double>& values, double nominal, double resolution,
                            const double* moving_range);

struct Spec {
  double nominal = 0, resolution = 1, lower = 0, upper = 0;
  int subgroup_size = 1;
};

struct CapabilityResult {
  int64_t n = 0, subgroups = 0;
  double mean = 0, sigma_within = 0, sigma_overall = 0;
  double cp = 0, cpk = 0, pp = 0, ppk = 0;
  std::string estimator;
};

// FAILED_PRECONDITION without at least two values (or, for n = 1, one
// moving range), or when the moments overflowed.
absl::StatusOr<CapabilityResult> ComputeCapability(const kpi::Values& moments, const Spec& spec);

// The indices from an estimate of the mean and the sigmas (the textbook
// formulas, for checking worked examples).
CapabilityResult Indices(double mean, double sigma_within, double sigma_overall, double lower,
                         double upper);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_CAPABILITY_H_
