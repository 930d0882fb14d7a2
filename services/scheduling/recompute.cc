#include "services/scheduling/recompute.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/verifier.h"
#include "libs/kpi/unit_timeline.h"  // kMaxStateSpan: the rule, not the code
#include "services/scheduling/ingest.h"
#include "services/scheduling/rollup_projection.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::scheduling {
namespace {

using kpi::Element;
namespace sv1 = ::takt::scheduling::v1;

struct StateAt {
  sv1::UnitState state = sv1::UNIT_STATE_UNSPECIFIED;
  std::string reason;
};

struct UnitFacts {
  std::map<absl::Time, StateAt> changes;  // later events at the same instant win
  std::map<absl::Time, bool> orders;      // true: an order started
};

struct PlannedOrder {
  std::optional<absl::Time> due, planned_start, planned_end, completed;
  bool cancelled = false;
};

// Microseconds of [a, b) inside [from, to), instants taken to the
// microsecond below (the elements' definition).
int64_t Overlap(absl::Time a, absl::Time b, absl::Time from, absl::Time to) {
  const absl::Time lo = std::max(a, from), hi = std::min(b, to);
  return hi > lo ? absl::ToUnixMicros(hi) - absl::ToUnixMicros(lo) : 0;
}

bool In(absl::Time t, absl::Time from, absl::Time to) { return t >= from && t < to; }

template <typename M>
bool Parse(const eventlog::v1::Envelope& e, M* m) {
  return e.event_type() == M::descriptor()->full_name() && m->ParseFromString(e.payload());
}

}  // namespace

absl::StatusOr<rollup::Recomputed> RecomputeElements(eventlog::EventLog& log, const std::string& facility,
                                             const std::set<std::string>* units, absl::Time from,
                                             absl::Time to, uint64_t upto_shop_floor,
                                             uint64_t upto_plan) {
  rollup::Recomputed out;
  auto skip = [&](const std::string& u) { return units != nullptr && !units->count(u); };
  std::map<std::string, UnitFacts> timelines;  // by unit
  kpi::ElementSums& s = out.sums;
  TAKT_RETURN_IF_ERROR(eventlog::ReadVerified(log, {kSchedulingContext, facility}, upto_shop_floor,
                                [&](const eventlog::v1::Envelope& e) {
    ++out.events_read;
    const absl::Time at = ToTime(e.occurred_time());
    sv1::UnitStateChanged change;
    sv1::ProductionCounted count;
    sv1::OrderStarted started;
    sv1::OrderEnded ended;
    if (Parse(e, &change)) {
      if (skip(change.work_unit())) return;
      timelines[change.work_unit()].changes[at] = StateAt{change.state(), change.reason_code()};
    } else if (Parse(e, &count)) {
      if (skip(count.work_unit())) return;
      if (!In(at, from, to)) return;
      // Checked like the projection's sums: an overflow is kOverflowed.
      const int64_t pri = count.planned_run_time_per_item_us();
      const int64_t pq = kpi::AddChecked(kpi::AddChecked(count.good(), count.scrap()), count.rework());
      s[Element::kPq] = kpi::AddChecked(s[Element::kPq], pq);
      s[Element::kGq] = kpi::AddChecked(s[Element::kGq], count.good());
      s[Element::kSq] = kpi::AddChecked(s[Element::kSq], count.scrap());
      s[Element::kRq] = kpi::AddChecked(s[Element::kRq], count.rework());
      s[Element::kPriPq] = kpi::AddChecked(s[Element::kPriPq], kpi::MulChecked(pq, pri));
      s[Element::kPriGq] = kpi::AddChecked(s[Element::kPriGq], kpi::MulChecked(count.good(), pri));
    } else if (Parse(e, &started)) {
      if (skip(started.work_unit())) return;
      timelines[started.work_unit()].orders[at] = true;
    } else if (Parse(e, &ended)) {
      if (skip(ended.work_unit())) return;
      timelines[ended.work_unit()].orders[at] = false;
    } else {
      return;
    }
    ++out.events_used;
  }));
  for (const auto& [id, u] : timelines) {
    for (auto it = u.changes.begin(); it != u.changes.end(); ++it) {
      auto next = std::next(it);
      if (next == u.changes.end()) break;  // still open
      const int64_t us =
          Overlap(it->first, std::min(next->first, it->first + kpi::kMaxStateSpan), from, to);
      switch (it->second.state) {
        case sv1::UNIT_STATE_RUNNING:
        case sv1::UNIT_STATE_SETUP:
          s[it->second.state == sv1::UNIT_STATE_RUNNING ? Element::kApt : Element::kAust] += us;
          s[Element::kPbt] += us;
          s[Element::kTbf] += us;
          s[Element::kTtf] += us;
          break;
        case sv1::UNIT_STATE_DELAYED:
          s[Element::kAdet] += us;
          s[Element::kPbt] += us;
          break;
        case sv1::UNIT_STATE_DOWN:
          s[Element::kAdet] += us;
          s[Element::kPbt] += us;
          s[Element::kTtr] += us;
          break;
        case sv1::UNIT_STATE_IDLE:
          s[Element::kAdot] += us;
          s[Element::kPbt] += us;
          break;
        case sv1::UNIT_STATE_PLANNED_DOWNTIME:
          s[Element::kPdt] += us;
          break;
        default:
          break;
      }
      if (next->second.state == sv1::UNIT_STATE_DOWN && it->second.state != sv1::UNIT_STATE_DOWN &&
          In(next->first, from, to)) {
        s[Element::kFe] += 1;
      }
    }
    for (auto it = u.orders.begin(); it != u.orders.end(); ++it) {
      auto next = std::next(it);
      if (next == u.orders.end()) break;  // still running
      if (it->second) {
        s[Element::kAoet] +=
            Overlap(it->first, std::min(next->first, it->first + kpi::kMaxStateSpan), from, to);
      }
    }
  }
  if (upto_plan == 0) return out;
  // Work orders of the facility, from its planning stream.
  std::map<std::string, PlannedOrder> orders;
  TAKT_RETURN_IF_ERROR(eventlog::ReadVerified(log, {kSchedulingContext, PlanStream(facility)}, upto_plan,
                                [&](const eventlog::v1::Envelope& e) {
    ++out.events_read;
    sv1::WorkOrderCreated created;
    sv1::ScheduleCommitted committed;
    sv1::WorkOrderCompleted completed;
    sv1::WorkOrderCancelled cancelled;
    sv1::ProductionCountCorrected correction;
    if (Parse(e, &correction)) {
      // Counts as corrected: the difference, where the count occurred.
      if (skip(correction.work_unit())) return;
      if (!In(ToTime(correction.counted_time()), from, to)) return;
      const auto& p = correction.previous();
      const auto& c = correction.corrected();
      const int64_t good = c.good() - p.good();
      const int64_t pq = good + (c.scrap() - p.scrap()) + (c.rework() - p.rework());
      s[Element::kPq] += pq;
      s[Element::kGq] += good;
      s[Element::kSq] += c.scrap() - p.scrap();
      s[Element::kRq] += c.rework() - p.rework();
      s[Element::kPriPq] += pq * correction.planned_run_time_per_item_us();
      s[Element::kPriGq] += good * correction.planned_run_time_per_item_us();
    } else if (Parse(e, &created)) {
      if (created.has_due_time()) orders[created.work_order()].due = ToTime(created.due_time());
    } else if (Parse(e, &committed)) {
      for (const auto& o : committed.schedule().orders()) {
        orders[o.work_order()].planned_start = ToTime(o.planned_start());
        orders[o.work_order()].planned_end = ToTime(o.planned_end());
      }
    } else if (Parse(e, &completed)) {
      orders[completed.work_order()].completed = ToTime(completed.completed_time());
    } else if (Parse(e, &cancelled)) {
      orders[cancelled.work_order()].cancelled = true;
    } else {
      return;
    }
    ++out.events_used;
  }));
  for (const auto& [id, o] : orders) {
    if (o.cancelled || units != nullptr) continue;  // work orders count for the facility
    if (o.planned_end && In(*o.planned_end, from, to)) {
      s[Element::kOrdersScheduled] += 1;
      const bool in_window = o.completed && *o.completed <= *o.planned_end &&
                             (!o.planned_start || *o.completed >= *o.planned_start);
      if (in_window) s[Element::kOrdersInWindow] += 1;
    }
    if (o.completed && In(*o.completed, from, to)) {
      s[Element::kOrdersCompleted] += 1;
      if (o.due) {
        s[Element::kOrdersWithDue] += 1;
        s[*o.completed <= *o.due ? Element::kOrdersOnTime : Element::kOrdersLate] += 1;
        s[Element::kLateness] += absl::ToInt64Microseconds(*o.completed - *o.due);
      }
    }
  }
  return out;
}

rollup::ProductionFold ProductionFold() {
  rollup::ProductionFold fold;
  fold.context = kSchedulingContext;
  fold.projection = [](eventlog::EventLog* log, rollup::RollupStore* store,
                       rollup::CalendarLookup calendars, rollup::CalendarChanges changes,
                       rollup::ZoneMissing zone_missing) {
    ProjectionOptions o;
    o.context = kSchedulingContext;
    o.calendar_changes = std::move(changes);
    o.zone_missing = std::move(zone_missing);
    return std::unique_ptr<rollup::ContextProjection>(
        std::make_unique<Projection>(log, store, std::move(calendars), o));
  };
  fold.recompute = [](eventlog::EventLog& log, const std::string& facility,
                      const std::set<std::string>* units, absl::Time from, absl::Time to,
                      const eventlog::Cursor& cursor) -> absl::StatusOr<rollup::Recomputed> {
    // The last sequence the projection had applied of each stream.
    auto last_of = [&](const std::string& stream) -> uint64_t {
      auto it = cursor.find(stream);
      return it == cursor.end() || it->second == 0 ? 0 : it->second - 1;
    };
    const uint64_t shop_floor = last_of(facility);
    const uint64_t plan = last_of(PlanStream(facility));
    TAKT_ASSIGN_OR_RETURN(rollup::Recomputed r,
                          RecomputeElements(log, facility, units, from, to, shop_floor, plan));
    r.positions[absl::StrCat(kSchedulingContext, "/", facility)] = shop_floor;
    r.positions[absl::StrCat(kSchedulingContext, "/", PlanStream(facility))] = plan;
    return r;
  };
  return fold;
}

}  // namespace takt::scheduling
