// File: spc.h
// -----------------------------------------------------------------------------
// Statistical process control, pure: control-chart constants, control
// limits from a baseline window, and the run rules evaluated point by point.
//
// Charts (v1::ChartType) and their limits from a baseline of k subgroups:
//   X-bar/R  centre x-double-bar, limits +- A2 R-bar; R chart D3 R-bar, D4 R-bar.
//            sigma-within = R-bar / d2(n). R-bar is the mean of the subgroup
//            ranges (never a global max minus min).
//   X-bar/S  centre x-double-bar, limits +- A3 S-bar; S chart B3 S-bar, B4 S-bar.
//            sigma-within = S-bar / c4(n).
//   I-MR     centre x-bar, limits +- 3 MR-bar / d2(2); MR chart 0, D4(2) MR-bar.
//   p        p-bar = sum defective / sum inspected; point i: +- 3 sqrt(p-bar(1-p-bar)/n_i).
//   np       n p-bar +- 3 sqrt(n p-bar (1 - p-bar)).
//   c        c-bar +- 3 sqrt(c-bar).
//   u        u-bar = sum defects / sum units; point i: +- 3 sqrt(u-bar / n_i).
// with A2 = 3 / (d2 sqrt n), D3,4 = 1 -+ 3 d3 / d2 (D3 >= 0), A3 = 3 / (c4 sqrt n),
// B3,4 = 1 -+ 3 sqrt(1 - c4^2) / c4 (B3 >= 0); c4(n) = sqrt(2/(n-1)) G(n/2) / G((n-1)/2).
// Lower limits of counts, fractions and dispersions are clipped at 0.
//
// Run rules on the primary chart, each point standardised by its own
// sigma (zones A/B/C at 3/2/1 sigma):
//   1  one point beyond 3 sigma                              (Western Electric 1)
//   2  two of three in a row beyond 2 sigma, same side       (WE 2)
//   3  four of five in a row beyond 1 sigma, same side       (WE 3)
//   4  eight in a row on one side of the centre              (WE 4)
//   5  six in a row steadily increasing or decreasing        (Nelson 3; optional)
//   6  fourteen in a row alternating up and down             (Nelson 4; optional)
//   7  fifteen in a row within 1 sigma, either side          (Nelson 7; optional)
//   8  eight in a row beyond 1 sigma, both sides             (Nelson 8; optional)
// The dispersion chart (R, S, MR) is checked against rule 1 only. Rule 1
// fires at every point beyond the limits; a pattern rule fires at the point
// that completes it and again only once it has stopped holding (one signal
// per run, not one per point of a long run).
#ifndef TAKT_SERVICES_QUALITY_SPC_H_
#define TAKT_SERVICES_QUALITY_SPC_H_

#include <array>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "takt/quality/v1/events.pb.h"

namespace takt::quality {

inline constexpr int kMaxSubgroupSize = 25;
inline constexpr int kFirstOptionalRule = 5;
inline constexpr int kLastRule = 8;

struct ChartConstants {
  double d2 = 0, d3 = 0, c4 = 0;
};
// For subgroups of n = 2..kMaxSubgroupSize; INVALID_ARGUMENT otherwise.
absl::StatusOr<ChartConstants> ConstantsFor(int n);
// c4(n) for n >= 2.
double C4(int n);

bool IsVariables(v1::ChartType chart);
// "X-bar/R", "p", ...
std::string ChartName(v1::ChartType chart);
// The primary and dispersion charts' names in events: "xbar"/"range", ...
std::string PrimaryName(v1::ChartType chart);
std::string DispersionName(v1::ChartType chart);
std::string RuleName(int rule);

// One plotted point.
struct Point {
  uint64_t sequence = 0;   // in the facility's measurement stream
  absl::Time time;         // source time
  double value = 0;        // X-bar, x, p, np, c or u
  double dispersion = 0;   // R, S or MR
  bool has_dispersion = false;  // I-MR's first point has no moving range
  double size = 0;         // n (variables), units inspected (attributes)
  double count = 0;        // defective units (p, np) or defects (c, u)
};

// The point of a subgroup of values: mean and range (X-bar/R), mean and
// standard deviation (X-bar/S), the value and its moving range (I-MR,
// with `previous` when there is one).
Point VariablesPoint(v1::ChartType chart, const std::vector<double>& values,
                     const double* previous);
// The point of an attribute inspection.
Point AttributesPoint(v1::ChartType chart, double inspected, double defective, double defects);

// Limits from a baseline (at least two points; I-MR at least two with a
// moving range). FAILED_PRECONDITION when too few or all identical.
absl::StatusOr<v1::LimitsApproved> ComputeLimits(v1::ChartType chart, int subgroup_size,
                                                 const std::vector<Point>& baseline);

// The limits of one point (p and u depend on its size).
struct Band {
  double center = 0, upper = 0, lower = 0, sigma = 0;
};
Band PrimaryBand(const v1::LimitsApproved& limits, const Point& point);
Band DispersionBand(const v1::LimitsApproved& limits);

// takt::quality::RuleEngine
//
// The run-rule state of one characteristic's chart: the last points of
// the current limits revision.
class RuleEngine {
 public:
  struct Fired {
    int rule = 0;
    bool dispersion = false;  // the R/S/MR chart
    int length = 0;           // points of the pattern, ending at this one
  };
  // Evaluates the point under `limits`; `extra` are the enabled optional
  // rules (5..8). A new limits revision starts a new run.
  std::vector<Fired> Add(const Point& point, const v1::LimitsApproved& limits,
                         const std::vector<uint32_t>& extra);
  // The last `length` points evaluated, oldest first (a pattern's points).
  std::vector<Point> Last(int length) const;

 private:
  struct Seen {
    Point point;
    double z = 0;
    bool zoned = false;  // sigma > 0
  };
  uint32_t revision_ = 0;
  std::deque<Seen> window_;                 // at most 15
  std::array<bool, kLastRule + 1> active_{};  // pattern rules holding at the last point
};

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_SPC_H_
