#include "services/quality/capability.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"

namespace takt::quality {

int64_t Steps(double x, double nominal, double resolution) {
  return static_cast<int64_t>(std::llround((x - nominal) / resolution));
}

kpi::Values SubgroupMoments(const std::vector<double>& values, double nominal, double resolution,
                            const double* moving_range) {
  kpi::Values m(kMomentCount, 0);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (double x : values) {
    const int64_t d = Steps(x, nominal, resolution);
    m[kN] += 1;
    m[kSumD] += d;
    m[kSumD2] += d * d;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  if (values.empty()) return m;
  m[kSubgroups] = 1;
  m[kSumQ] = m[kN] * m[kSumD2] - m[kSumD] * m[kSumD];
  m[kSumRange] = hi - lo;
  if (moving_range != nullptr) {
    m[kMovingRanges] = 1;
    m[kSumMovingRange] = static_cast<int64_t>(std::llround(*moving_range / resolution));
  }
  return m;
}

CapabilityResult Indices(double mean, double sigma_within, double sigma_overall, double lower,
                         double upper) {
  CapabilityResult r;
  r.mean = mean;
  r.sigma_within = sigma_within;
  r.sigma_overall = sigma_overall;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  r.cp = sigma_within > 0 ? (upper - lower) / (6 * sigma_within) : nan;
  r.cpk = sigma_within > 0 ? std::min(upper - mean, mean - lower) / (3 * sigma_within) : nan;
  r.pp = sigma_overall > 0 ? (upper - lower) / (6 * sigma_overall) : nan;
  r.ppk = sigma_overall > 0 ? std::min(upper - mean, mean - lower) / (3 * sigma_overall) : nan;
  return r;
}

absl::StatusOr<CapabilityResult> ComputeCapability(const kpi::Values& m, const Spec& spec) {
  if (m.size() != kMomentCount) {
    return absl::InternalError(absl::StrCat("capability moments have ", m.size(), " values"));
  }
  for (int64_t v : m) {
    if (v == std::numeric_limits<int64_t>::max() || v == std::numeric_limits<int64_t>::min()) {
      return absl::FailedPreconditionError("capability moments overflowed for this scope");
    }
  }
  const int64_t n = m[kN];
  if (n < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat("capability needs at least 2 values; the period has ", n));
  }
  const double res = spec.resolution;
  const double mean = spec.nominal + res * static_cast<double>(m[kSumD]) / static_cast<double>(n);
  // N sum d^2 - (sum d)^2, exact in 128 bits.
  const absl::int128 spread =
      absl::int128(n) * m[kSumD2] - absl::int128(m[kSumD]) * m[kSumD];
  const double overall =
      res * std::sqrt(static_cast<double>(spread) / (static_cast<double>(n) * (n - 1)));
  double within = 0;
  std::string estimator;
  if (spec.subgroup_size <= 1) {
    if (m[kMovingRanges] < 1) {
      return absl::FailedPreconditionError("capability of individuals needs a moving range");
    }
    within = res * static_cast<double>(m[kSumMovingRange]) /
             static_cast<double>(m[kMovingRanges]) / 1.128;
    estimator = "MR-bar/d2(2)";
  } else {
    const int64_t k = m[kSubgroups];
    if (k < 1 || n != k * spec.subgroup_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          n, " values in ", k, " subgroups are not subgroups of ", spec.subgroup_size,
          " (a plant measures this characteristic with another subgroup size)"));
    }
    const double ss = static_cast<double>(m[kSumQ]) / spec.subgroup_size;
    within = res * std::sqrt(ss / static_cast<double>(n - k));
    estimator = "pooled standard deviation";
  }
  CapabilityResult r = Indices(mean, within, overall, spec.lower, spec.upper);
  r.n = n;
  r.subgroups = m[kSubgroups];
  r.estimator = estimator;
  return r;
}

}  // namespace takt::quality
