// File: family_projection.h
// -----------------------------------------------------------------------------
// The rollups of one element family (kpi/family.h): its context's events,
// read by a subscription of its own, folded by the family's fold, put in the
// facility-local hour and production day of each delta, and written with
// the family's own cursor ("<context>#<family>") in one WriteBatch. A crash
// resumes at that cursor; a family registered later starts at the
// beginning of the log while every other family and production keep their
// rows and cursors.
#ifndef TAKT_SERVICES_ROLLUPS_FAMILY_PROJECTION_H_
#define TAKT_SERVICES_ROLLUPS_FAMILY_PROJECTION_H_

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/kpi/family.h"
#include "services/rollups/contribution.h"
#include "services/rollups/rollup_store.h"

namespace takt::rollup {

// Folds `events` with `fold` into hour deltas (tests and explain use the
// same path as the projection): each delta's facility must be known to
// `calendars`, its width the family's. With `zone_missing`, the deltas of
// a facility whose calendar cannot be built here are dropped and the
// facility added to `parked` (the fold still sees every event).
absl::Status FoldIntoHours(const kpi::FamilyRegistration& family, kpi::Fold& fold,
                           const std::vector<eventlog::LoggedEvent>& events,
                           const CalendarLookup& calendars, std::vector<FamilyHourDelta>& out,
                           const ZoneMissing* zone_missing = nullptr, std::set<std::string>* parked = nullptr);

class FamilyProjection {
 public:
  // `zone_missing`: facilities to park (rollup::ZoneMissing); null: an
  // event without a calendar stops the projection.
  FamilyProjection(eventlog::EventLog* log, RollupStore* store,
                   const kpi::FamilyRegistration* family, CalendarLookup calendars,
                   size_t max_events_per_batch = 20000, ZoneMissing zone_missing = nullptr);

  // Where the family's cursor is stored ("<context>#<family>").
  static std::string CursorKey(const kpi::FamilyRegistration& family);

  // Loads the stored cursor and subscribes from there.
  absl::Status Start();
  // Applies what the log has (waiting up to `timeout`); the events consumed.
  absl::StatusOr<size_t> Step(absl::Duration timeout);
  // The cursor of what has been applied and stored.
  const eventlog::Cursor& cursor() const { return cursor_; }
  const kpi::FamilyRegistration& family() const { return *family_; }

 private:
  eventlog::EventLog* log_;
  RollupStore* store_;
  const kpi::FamilyRegistration* family_;
  CalendarLookup calendars_;
  ZoneMissing zone_missing_;
  std::set<std::string> parked_;  // as stored
  const size_t max_events_;
  std::unique_ptr<kpi::Fold> fold_;
  std::unique_ptr<eventlog::Subscription> subscription_;
  eventlog::Cursor cursor_;
};

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_FAMILY_PROJECTION_H_
