// File: rollup_projection.h
// -----------------------------------------------------------------------------
// The scheduling context's projection into the rollups (the production
// family, ISO 22400): consumes its events from the log and keeps
// the RollupStore's hourly element sums. Each batch's deltas, the unit state
// changes they came from and the new log cursor are one WriteBatch, so a
// crash at any point resumes at the stored cursor with matching state, and a
// rebuild from an empty store gives identical rows.
#ifndef TAKT_SERVICES_SCHEDULING_ROLLUP_PROJECTION_H_
#define TAKT_SERVICES_SCHEDULING_ROLLUP_PROJECTION_H_

#include <set>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/kpi/calendar.h"
#include "libs/kpi/unit_timeline.h"
#include "services/rollups/contribution.h"
#include "services/scheduling/order_facts.h"
#include "services/rollups/rollup_store.h"

namespace takt::scheduling {

using rollup::CalendarChanges;
using rollup::CalendarLookup;
using rollup::RollupStore;

struct ProjectionOptions {
  std::string context = "scheduling";  // kSchedulingContext
  size_t max_events_per_batch = 20000;
  bool sync = false;  // the log is the durable copy; state and cursor stay atomic
  // Work orders are counted on the day of a planned end or completion that
  // may lie after a calendar change decided later. When a facility's latest
  // change is new to the projection and a stored order of that facility
  // has such a time at or after it, the projection rebuilds from the log
  // (a rebuild is what live must equal). Null: no calendar changes.
  CalendarChanges calendar_changes;
  // Facilities whose calendar cannot be built here are parked (see
  // rollup::ZoneMissing); null: an event without a calendar stops the
  // projection.
  rollup::ZoneMissing zone_missing;
};

struct ProjectionStats {
  uint64_t events_applied = 0;
  uint64_t events_ignored = 0;  // other event types
  uint64_t rebuilds = 0;        // after calendar changes that moved stored orders, or a parked facility's zone found
  uint64_t events_parked = 0;   // skipped: their facility's calendar cannot be built here
};

class Projection final : public rollup::ContextProjection {
 public:
  Projection(eventlog::EventLog* log, RollupStore* store, CalendarLookup calendars,
             ProjectionOptions options = {});

  // Loads the stored cursor and subscribes from there.
  absl::Status Start() override;
  // Applies the next batch (read ahead on a background thread), waiting up
  // to `timeout` for events to appear, and at least for one poll of the log
  // (<= 100 ms when it is idle); returns the number of events consumed.
  absl::StatusOr<size_t> Step(absl::Duration timeout) override;
  // Steps until the log has nothing more right now.
  absl::StatusOr<uint64_t> CatchUp();

  const ProjectionStats& stats() const { return stats_; }
  // The cursor of what has been applied and stored.
  const eventlog::Cursor& cursor() const override { return stored_cursor_; }

  ~Projection() override;

 private:
  struct Pending;
  struct Scratch;  // payload messages reused from event to event
  class Prefetcher;  // reads and decodes the next batch while one is applied
  void Reset();
  // Applies calendar changes new to the store (see ProjectionOptions);
  // true when the store was cleared for a rebuild.
  absl::StatusOr<bool> CheckCalendarChanges();
  // Rebuilds from the log when a parked facility's calendar can be built
  // now; true when the store was cleared for that.
  absl::StatusOr<bool> CheckParked();
  // Clears the store and starts again from the log, marking every
  // calendar change as agreed with (the rebuild uses today's calendars).
  absl::Status RebuildFromLog();
  // Whether `facility`'s events are parked (skipped), noting it.
  bool Parks(const std::string& facility);
  absl::Status ApplyEvent(const eventlog::Envelope& e, Pending& pending);
  absl::Status ApplyPlanEvent(const eventlog::Envelope& e, const std::string& facility,
                              Pending& pending);
  absl::StatusOr<OrderFacts*> FindOrder(const std::string& facility, const std::string& order,
                                        Pending& pending);

  eventlog::EventLog* log_;
  RollupStore* store_;
  CalendarLookup calendars_;
  ProjectionOptions options_;
  std::unique_ptr<Prefetcher> prefetcher_;  // owns the subscription
  std::unique_ptr<Scratch> scratch_;
  eventlog::Cursor stored_cursor_;  // what the store holds
  // A unit's timeline with its ids (pending deltas point at it).
  struct Unit {
    std::string facility;
    std::string unit;
    const kpi::FacilityCalendar* calendar;
    std::unique_ptr<kpi::UnitTimeline> timeline;
  };
  absl::StatusOr<Unit*> FindUnit(const std::string& facility, const std::string& unit,
                                 const kpi::FacilityCalendar* calendar);
  const kpi::FacilityCalendar* CalendarOf(const std::string& facility);

  absl::flat_hash_map<std::string, std::unique_ptr<Unit>> units_;  // key: facility \0 unit
  absl::flat_hash_map<std::string, const kpi::FacilityCalendar*> calendar_cache_;
  std::string unit_key_;  // FindUnit's key buffer
  absl::flat_hash_map<std::string, absl::Time> calendar_marks_;  // as stored
  absl::flat_hash_map<std::string, OrderFacts> orders_;  // as stored; key: facility \0 order
  std::set<std::string> parked_;     // as stored
  std::set<std::string> to_park_;    // met in the batch being applied
  ProjectionStats stats_;
};

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_ROLLUP_PROJECTION_H_
