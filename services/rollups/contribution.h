// File: contribution.h
// -----------------------------------------------------------------------------
// What a context contributes to the rollups beyond stateless element
// families (libs/kpi/family.h): the production elements (ISO 22400,
// libs/kpi/elements.h), which need state across events (unit timelines,
// work orders) and the rollup store's own rows for it. The context that
// owns those events (scheduling) puts a ProductionFold in its ModuleInfo's
// extensions; the rollups run its projection and audit explain runs its
// independent recomputation. Neither knows the context's event types.
#ifndef TAKT_SERVICES_ROLLUPS_CONTRIBUTION_H_
#define TAKT_SERVICES_ROLLUPS_CONTRIBUTION_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/host/module.h"
#include "libs/kpi/calendar.h"
#include "libs/kpi/elements.h"
#include "services/rollups/rollup_store.h"

namespace takt::rollup {

// The calendar of a facility, or nullptr if the facility is unknown.
using CalendarLookup = std::function<const kpi::FacilityCalendar*(const std::string& facility)>;

// True for a facility that is defined but whose calendar cannot be built
// on this machine (its recorded time zone is missing from tzdata). The
// projections park such a facility (RollupStore::Park): they skip its
// events, so that the other facilities go on, and rebuild from the log once
// its calendar can be built. Its own answers fail meanwhile
// (FAILED_PRECONDITION, TIME_ZONE_UNAVAILABLE).
using ZoneMissing = std::function<bool(const std::string& facility)>;

// For each facility whose calendar has changed: when its latest change
// takes effect (kpi::FacilityCalendar::LatestChange).
using CalendarChanges = std::function<std::vector<std::pair<std::string, absl::Time>>()>;

// Where a stored cursor is beyond the end of the log (the log was restored
// from an older backup, or replaced): a description of the first such
// partition, or nullopt if the cursor is within the log. A projection ahead
// of its log would skip the events appended next; it must be rebuilt.
std::optional<std::string> CursorBeyondEnd(const eventlog::Cursor& stored,
                                           const eventlog::Cursor& end);

// A projection a context runs into the rollup store, with its own cursor.
class ContextProjection {
 public:
  virtual ~ContextProjection() = default;
  // Loads the stored cursor and subscribes from there.
  virtual absl::Status Start() = 0;
  // Applies what the log has (waiting up to `timeout`); the events consumed.
  virtual absl::StatusOr<size_t> Step(absl::Duration timeout) = 0;
  // The cursor of what has been applied and stored.
  virtual const eventlog::Cursor& cursor() const = 0;
};

// Element sums recomputed from raw events, for explain.
struct Recomputed {
  kpi::ElementSums sums;
  uint64_t events_read = 0;
  uint64_t events_used = 0;
  // The last sequence read of each stream ("context/stream").
  std::map<std::string, uint64_t> positions;
};

struct ProductionFold {
  // Whose events; the projection's cursor is stored under this name.
  std::string context;
  std::function<std::unique_ptr<ContextProjection>(eventlog::EventLog* log, RollupStore* store,
                                                   CalendarLookup calendars,
                                                   CalendarChanges calendar_changes,
                                                   ZoneMissing zone_missing)>
      projection;
  // The elements of a facility (all of it, or only `units`) over the
  // instants [from, to), recomputed from the raw events the projection had
  // applied at `cursor`, along a code path of its own.
  std::function<absl::StatusOr<Recomputed>(eventlog::EventLog& log, const std::string& facility,
                                           const std::set<std::string>* units, absl::Time from,
                                           absl::Time to, const eventlog::Cursor& cursor)>
      recompute;
};

// The production fold some registered module contributes, or null.
const ProductionFold* FindProductionFold(const std::vector<host::ModuleInfo>& modules);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_CONTRIBUTION_H_
