// File: unit_timeline.h
// -----------------------------------------------------------------------------
// Turns a work unit's observations into ISO 22400 element deltas per
// facility-local hour. A state holds from its change until the next change,
// so an interval is attributed when the next change closes it; the last,
// still open interval is not counted yet.
//
// Observations may arrive late and in any order. A change inserted between
// two known ones re-attributes only that stretch, and the timeline returns
// the exact delta (old attribution subtracted, new one added). Because
// elements are additive, the sums after any arrival order equal the sums of
// the final timeline: rollups fed in log order agree with a recomputation
// from sorted raw events.
//
// State -> elements (ISO 22400-2 with its nuance that minor stops and
// breakdowns are delays, ADET, and idle-without-order is ADOT):
//   running          APT, PBT; operating time (TBF, TTF)
//   setup            AUST, PBT; operating time (TBF, TTF)
//   delayed          ADET, PBT
//   down (failure)   ADET, PBT, TTR; entering it counts one failure (FE)
//   idle (no order)  ADOT, PBT
//   planned downtime PDT (outside PBT)
#ifndef TAKT_LIBS_KPI_UNIT_TIMELINE_H_
#define TAKT_LIBS_KPI_UNIT_TIMELINE_H_

#include <map>

#include "absl/time/time.h"
#include "libs/kpi/calendar.h"
#include "libs/kpi/elements.h"

namespace takt::kpi {

enum class UnitState {
  kRunning,
  kSetup,
  kDelayed,
  kDown,
  kIdle,
  kPlannedDowntime,
};

// takt::kpi::kMaxStateSpan
//
// A state holds until the unit's next change, but at most this long: a unit
// silent for longer is unaccounted (in no element) from then until its next
// change. It bounds what one event can cost to fold (at most 745 hour rows),
// however far apart two observations are; likewise an order's execution
// time. Gateways that report less often than monthly resend the current
// state (a heartbeat).
inline constexpr absl::Duration kMaxStateSpan = absl::Hours(31 * 24);

// Element deltas keyed by the start of the facility-local hour.
using HourlyDelta = std::map<absl::Time, ElementSums>;

// Delay and failure time per reason code (downtime Pareto), per hour:
// microseconds lost and stoppages started.
struct ReasonSums {
  int64_t micros = 0;
  int64_t stoppages = 0;
  bool operator==(const ReasonSums&) const = default;
};
using ReasonDelta = std::map<std::pair<absl::Time, std::string>, ReasonSums>;

// takt::kpi::DeltaSink
//
// Where a timeline adds the deltas an observation causes: element sums per
// facility-local hour and, for delays and failures, microseconds and
// stoppages per hour and reason. A projection adds straight into its
// batch's sums through one, with no map per observation; the old
// attribution is added with a minus sign and the new one with a plus, so
// entries that cancel are left at zero (skip them when writing).
class DeltaSink {
 public:
  virtual ~DeltaSink() = default;
  // The sums of `hour` (the start of a facility-local hour), to add into.
  // The reference is used before the next call.
  virtual ElementSums& Hour(absl::Time hour) = 0;
  // The reason sums of `hour`, or null when the caller keeps no reasons.
  virtual ReasonSums* Reason(absl::Time hour, const std::string& reason) = 0;
};

class UnitTimeline {
 public:
  explicit UnitTimeline(const FacilityCalendar* calendar) : calendar_(calendar) {}
  // A calendar with a later change appended (FacilityCalendar::ChangedFrom).
  void set_calendar(const FacilityCalendar* calendar) { calendar_ = calendar; }

  // Records that the unit entered `state` at `t` (replacing a change already
  // recorded at exactly `t`) and returns the element delta it causes. For
  // delays and failures `reason` names the cause; the per-reason delta goes
  // to `reasons` when given.
  HourlyDelta ChangeState(absl::Time t, UnitState state, const std::string& reason = "",
                          ReasonDelta* reasons = nullptr);
  // The same, adding the delta into `sink`.
  void ChangeState(absl::Time t, UnitState state, const std::string& reason, DeltaSink& sink);

  // Records that an order started (`started`) or ended on the unit at `t`
  // and returns the AOET delta: order execution time is attributed per hour
  // from a start to the next order change, once that change is known.
  HourlyDelta OrderChange(absl::Time t, bool started);
  void OrderChange(absl::Time t, bool started, DeltaSink& sink);
  void RestoreOrder(absl::Time t, bool started) { orders_[t] = started; }

  // Restores a change already accounted for (from storage): no delta.
  void Restore(absl::Time t, UnitState state, const std::string& reason = "") {
    changes_[t] = Change{state, reason};
  }

  // The delta of a production count at `t` with planned run time per item
  // `pri`.
  HourlyDelta Count(absl::Time t, int64_t good, int64_t scrap, int64_t rework,
                    absl::Duration pri) const;
  void Count(absl::Time t, int64_t good, int64_t scrap, int64_t rework, absl::Duration pri,
             DeltaSink& sink) const;

  // Elements of the whole timeline so far (closed intervals), per hour.
  HourlyDelta Totals() const;
  ReasonDelta ReasonTotals() const;

  size_t changes() const { return changes_.size(); }

 private:
  struct Change {
    UnitState state;
    std::string reason;
  };
  using Changes = std::map<absl::Time, Change>;
  // Adds `sign` x the contribution of the intervals starting at changes in
  // [first, last) and the failures entered at them.
  void Contribute(Changes::const_iterator first, Changes::const_iterator last, int sign,
                  DeltaSink& out) const;
  void AddInterval(absl::Time from, absl::Time to, const Change& change, int sign,
                   DeltaSink& out) const;

  void ContributeOrders(std::map<absl::Time, bool>::const_iterator first,
                        std::map<absl::Time, bool>::const_iterator last, int sign,
                        DeltaSink& out) const;

  const FacilityCalendar* calendar_;
  Changes changes_;
  std::map<absl::Time, bool> orders_;  // true: an order started
};

// Adds b into a, dropping hours whose delta is all zero.
void Merge(HourlyDelta& a, const HourlyDelta& b);

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_UNIT_TIMELINE_H_
