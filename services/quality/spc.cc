#include "services/quality/spc.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace takt::quality {
namespace {

// d2 and d3 for n = 2..25 (the standard tables, e.g. ASTM E2587, Montgomery
// Appendix VI).
constexpr double kD2[] = {0,     0,     1.128, 1.693, 2.059, 2.326, 2.534, 2.704, 2.847,
                          2.970, 3.078, 3.173, 3.258, 3.336, 3.407, 3.472, 3.532, 3.588,
                          3.640, 3.689, 3.735, 3.778, 3.819, 3.858, 3.895, 3.931};
constexpr double kD3[] = {0,     0,     0.853, 0.888, 0.880, 0.864, 0.848, 0.833, 0.820,
                          0.808, 0.797, 0.787, 0.778, 0.770, 0.763, 0.756, 0.750, 0.744,
                          0.739, 0.734, 0.729, 0.724, 0.720, 0.716, 0.712, 0.708};

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

}  // namespace

double C4(int n) {
  const double m = n;
  return std::sqrt(2.0 / (m - 1)) * std::exp(std::lgamma(m / 2) - std::lgamma((m - 1) / 2));
}

absl::StatusOr<ChartConstants> ConstantsFor(int n) {
  if (n < 2 || n > kMaxSubgroupSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("subgroup size ", n, " has no chart constants (2..", kMaxSubgroupSize, ")"));
  }
  return ChartConstants{kD2[n], kD3[n], C4(n)};
}

bool IsVariables(v1::ChartType chart) {
  return chart == v1::XBAR_R || chart == v1::XBAR_S || chart == v1::I_MR;
}

std::string ChartName(v1::ChartType chart) {
  switch (chart) {
    case v1::XBAR_R: return "X-bar/R";
    case v1::XBAR_S: return "X-bar/S";
    case v1::I_MR: return "I-MR";
    case v1::P: return "p";
    case v1::NP: return "np";
    case v1::C: return "c";
    case v1::U: return "u";
    default: return "unspecified";
  }
}

std::string PrimaryName(v1::ChartType chart) {
  switch (chart) {
    case v1::XBAR_R:
    case v1::XBAR_S: return "xbar";
    case v1::I_MR: return "individuals";
    default: return ChartName(chart);
  }
}

std::string DispersionName(v1::ChartType chart) {
  switch (chart) {
    case v1::XBAR_R: return "range";
    case v1::XBAR_S: return "s";
    case v1::I_MR: return "moving_range";
    default: return "";
  }
}

std::string RuleName(int rule) {
  switch (rule) {
    case 1: return "one point beyond 3 sigma";
    case 2: return "two of three beyond 2 sigma, same side";
    case 3: return "four of five beyond 1 sigma, same side";
    case 4: return "eight in a row on one side of the centre";
    case 5: return "six in a row increasing or decreasing";
    case 6: return "fourteen in a row alternating up and down";
    case 7: return "fifteen in a row within 1 sigma";
    case 8: return "eight in a row beyond 1 sigma, both sides";
    default: return absl::StrCat("rule ", rule);
  }
}

Point VariablesPoint(v1::ChartType chart, const std::vector<double>& values,
                     const double* previous) {
  Point p;
  p.size = static_cast<double>(values.size());
  p.value = Mean(values);
  if (chart == v1::I_MR) {
    if (previous != nullptr && !values.empty()) {
      p.dispersion = std::fabs(values[0] - *previous);
      p.has_dispersion = true;
    }
    return p;
  }
  p.has_dispersion = values.size() >= 2;
  if (chart == v1::XBAR_R) {
    auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    p.dispersion = values.empty() ? 0 : *hi - *lo;
  } else {
    double ss = 0;
    for (double x : values) ss += (x - p.value) * (x - p.value);
    p.dispersion = values.size() < 2 ? 0 : std::sqrt(ss / static_cast<double>(values.size() - 1));
  }
  return p;
}

Point AttributesPoint(v1::ChartType chart, double inspected, double defective, double defects) {
  Point p;
  p.size = inspected;
  switch (chart) {
    case v1::P:
      p.count = defective;
      p.value = inspected > 0 ? defective / inspected : 0;
      break;
    case v1::NP:
      p.count = defective;
      p.value = defective;
      break;
    case v1::C:
      p.count = defects;
      p.value = defects;
      break;
    default:  // U
      p.count = defects;
      p.value = inspected > 0 ? defects / inspected : 0;
      break;
  }
  return p;
}

absl::StatusOr<v1::LimitsApproved> ComputeLimits(v1::ChartType chart, int subgroup_size,
                                                 const std::vector<Point>& baseline) {
  if (baseline.size() < 2) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the baseline window holds ", baseline.size(),
        " subgroups; limits need at least 2 (20 to 25 is the usual practice)"));
  }
  v1::LimitsApproved l;
  l.set_chart(chart);
  l.set_baseline_subgroups(static_cast<uint32_t>(baseline.size()));
  const double k = static_cast<double>(baseline.size());
  double sum_value = 0, sum_disp = 0, disp_points = 0, sum_count = 0, sum_size = 0;
  for (const Point& p : baseline) {
    sum_value += p.value;
    if (p.has_dispersion) {
      sum_disp += p.dispersion;
      disp_points += 1;
    }
    sum_count += p.count;
    sum_size += p.size;
  }
  const double center = sum_value / k;
  switch (chart) {
    case v1::XBAR_R:
    case v1::XBAR_S: {
      auto c = ConstantsFor(subgroup_size);
      if (!c.ok()) return c.status();
      const double n = subgroup_size;
      const double bar = sum_disp / disp_points;
      double a, lo, hi, sigma;
      if (chart == v1::XBAR_R) {
        sigma = bar / c->d2;
        a = 3.0 / (c->d2 * std::sqrt(n));
        lo = std::max(0.0, 1 - 3 * c->d3 / c->d2);
        hi = 1 + 3 * c->d3 / c->d2;
      } else {
        sigma = bar / c->c4;
        a = 3.0 / (c->c4 * std::sqrt(n));
        const double b = 3 * std::sqrt(1 - c->c4 * c->c4) / c->c4;
        lo = std::max(0.0, 1 - b);
        hi = 1 + b;
      }
      l.set_center(center);
      l.set_upper(center + a * bar);
      l.set_lower(center - a * bar);
      l.set_dispersion_center(bar);
      l.set_dispersion_upper(hi * bar);
      l.set_dispersion_lower(lo * bar);
      l.set_sigma_within(sigma);
      break;
    }
    case v1::I_MR: {
      if (disp_points < 1) {
        return absl::FailedPreconditionError("the baseline window has no moving range");
      }
      const double mr = sum_disp / disp_points;
      const double sigma = mr / kD2[2];
      l.set_center(center);
      l.set_upper(center + 3 * sigma);
      l.set_lower(center - 3 * sigma);
      l.set_dispersion_center(mr);
      l.set_dispersion_upper((1 + 3 * kD3[2] / kD2[2]) * mr);
      l.set_dispersion_lower(0);
      l.set_sigma_within(sigma);
      break;
    }
    case v1::P:
    case v1::U: {
      if (sum_size <= 0) return absl::FailedPreconditionError("the baseline inspected no units");
      const double bar = sum_count / sum_size;
      l.set_center(bar);
      // Shown for the mean subgroup size; each point has its own (PrimaryBand).
      const double n = sum_size / k;
      const double s = chart == v1::P ? std::sqrt(bar * (1 - bar) / n) : std::sqrt(bar / n);
      l.set_upper(chart == v1::P ? std::min(1.0, bar + 3 * s) : bar + 3 * s);
      l.set_lower(std::max(0.0, bar - 3 * s));
      l.set_sigma_within(s);
      break;
    }
    case v1::NP: {
      if (sum_size <= 0) return absl::FailedPreconditionError("the baseline inspected no units");
      const double pbar = sum_count / sum_size;
      const double n = sum_size / k;
      const double s = std::sqrt(n * pbar * (1 - pbar));
      l.set_center(n * pbar);
      l.set_upper(n * pbar + 3 * s);
      l.set_lower(std::max(0.0, n * pbar - 3 * s));
      l.set_sigma_within(s);
      break;
    }
    case v1::C: {
      const double s = std::sqrt(center);
      l.set_center(center);
      l.set_upper(center + 3 * s);
      l.set_lower(std::max(0.0, center - 3 * s));
      l.set_sigma_within(s);
      break;
    }
    default:
      return absl::InvalidArgumentError("chart type is not set");
  }
  if (!std::isfinite(l.upper()) || !std::isfinite(l.lower()) || l.upper() <= l.lower()) {
    return absl::FailedPreconditionError(
        "the baseline window shows no variation (every point the same): limits would be empty");
  }
  return l;
}

Band PrimaryBand(const v1::LimitsApproved& limits, const Point& point) {
  Band b{limits.center(), limits.upper(), limits.lower(), (limits.upper() - limits.center()) / 3};
  const double bar = limits.center();
  if ((limits.chart() == v1::P || limits.chart() == v1::U) && point.size > 0) {
    b.sigma = limits.chart() == v1::P ? std::sqrt(bar * (1 - bar) / point.size)
                                      : std::sqrt(bar / point.size);
    b.upper = bar + 3 * b.sigma;
    if (limits.chart() == v1::P) b.upper = std::min(1.0, b.upper);
    b.lower = std::max(0.0, bar - 3 * b.sigma);
  }
  return b;
}

Band DispersionBand(const v1::LimitsApproved& limits) {
  return Band{limits.dispersion_center(), limits.dispersion_upper(), limits.dispersion_lower(),
              0};
}

std::vector<RuleEngine::Fired> RuleEngine::Add(const Point& point,
                                               const v1::LimitsApproved& limits,
                                               const std::vector<uint32_t>& extra) {
  std::vector<Fired> fired;
  if (limits.revision() != revision_) {
    revision_ = limits.revision();
    window_.clear();
    active_.fill(false);
  }
  if (limits.revision() == 0) return fired;  // no approved limits: nothing to test
  const Band band = PrimaryBand(limits, point);
  Seen seen{point, 0, band.sigma > 0};
  if (seen.zoned) seen.z = (point.value - band.center) / band.sigma;
  window_.push_back(seen);
  if (window_.size() > 15) window_.pop_front();

  // Rule 1, on both sides of the limits (a point can be beyond the upper
  // limit even where the limit is clipped).
  if (point.value > band.upper || point.value < band.lower) fired.push_back({1, false, 1});
  if (IsVariables(limits.chart()) && point.has_dispersion &&
      (point.dispersion > limits.dispersion_upper() ||
       (limits.dispersion_lower() > 0 && point.dispersion < limits.dispersion_lower()))) {
    fired.push_back({1, true, 1});
  }

  const int size = static_cast<int>(window_.size());
  auto at = [&](int back) -> const Seen& { return window_[size - 1 - back]; };
  // The last `len` points, all zoned, of which at least `need` are beyond
  // `k` sigma on the side of the newest one (which must be one of them).
  // (Fewer than `len` points since the limits took effect count too: two
  // beyond 2 sigma as the first two points of a revision are a signal.)
  auto beyond = [&](int len, int need, double k) {
    const int n = std::min(size, len);
    const Seen& last = at(0);
    if (!last.zoned || std::fabs(last.z) <= k) return 0;
    const double side = last.z > 0 ? 1 : -1;
    int count = 0;
    for (int i = 0; i < n; ++i) {
      if (!at(i).zoned) return 0;
      if (side * at(i).z > k) ++count;
    }
    return count >= need ? n : 0;
  };
  auto run = [&](int len, auto&& holds) {
    if (size < len) return 0;
    for (int i = 0; i < len; ++i) {
      if (!holds(i)) return 0;
    }
    return len;
  };
  auto enabled = [&](int rule) {
    return rule <= 4 || std::find(extra.begin(), extra.end(), static_cast<uint32_t>(rule)) !=
                            extra.end();
  };
  std::array<int, kLastRule + 1> length{};
  length[2] = beyond(3, 2, 2.0);
  length[3] = beyond(5, 4, 1.0);
  {
    const bool up = at(0).zoned && at(0).z > 0;
    length[4] = run(8, [&](int i) { return at(i).zoned && (up ? at(i).z > 0 : at(i).z < 0); });
  }
  {
    const bool rising = size >= 2 && at(0).point.value > at(1).point.value;
    length[5] = run(6, [&](int i) {
      if (i == 5) return true;
      return rising ? at(i).point.value > at(i + 1).point.value
                    : at(i).point.value < at(i + 1).point.value;
    });
  }
  length[6] = run(14, [&](int i) {
    if (i >= 12) return true;
    const double d0 = at(i).point.value - at(i + 1).point.value;
    const double d1 = at(i + 1).point.value - at(i + 2).point.value;
    return d0 * d1 < 0;
  });
  length[7] = run(15, [&](int i) { return at(i).zoned && std::fabs(at(i).z) < 1; });
  {
    const int l = run(8, [&](int i) { return at(i).zoned && std::fabs(at(i).z) > 1; });
    bool above = false, below = false;
    for (int i = 0; l > 0 && i < 8; ++i) (at(i).z > 0 ? above : below) = true;
    length[8] = above && below ? l : 0;
  }
  for (int rule = 2; rule <= kLastRule; ++rule) {
    const bool holds = length[rule] > 0;
    if (holds && !active_[rule] && enabled(rule)) fired.push_back({rule, false, length[rule]});
    active_[rule] = holds;
  }
  return fired;
}

std::vector<Point> RuleEngine::Last(int length) const {
  std::vector<Point> out;
  const int size = static_cast<int>(window_.size());
  for (int i = std::max(0, size - length); i < size; ++i) out.push_back(window_[i].point);
  return out;
}

}  // namespace takt::quality
