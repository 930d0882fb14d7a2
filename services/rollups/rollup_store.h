// File: rollup_store.h
// -----------------------------------------------------------------------------
// The rollups' RocksDB state: ISO 22400 element sums per (facility, work
// unit, facility-local hour) and per (facility, hour), written as additive
// merge operands, with the log cursor the projection has consumed in the
// same WriteBatch. A crash at any point therefore resumes exactly where the
// state stands: no event applied twice, none missed.
//
// Layout (column families):
//   unit_hours      facility \0 unit \0 hour(8, big-endian unix seconds) -> sums
//   facility_hours  facility \0 hour(8)                                  -> sums
//   facility_days   facility \0 production day(8, days since 1970-01-01) -> sums
//   timelines       facility \0 unit \0 time(8, big-endian unix micros)  -> state, reason
//   reason_hours    facility \0 hour(8) reason                          -> micros, stoppages
//   meta            "cursor/<context>"                                   -> cursor
// Sums are little-endian int64s (elements.h order). Other element families
// (kpi/family.h) keep their rows in unit_hours, facility_hours and
// facility_days under "\x01" family "\0" + the key above, their values in
// the family's element order, and their cursors in meta as
// "cursor/<context>#<family>"; rows per (facility, unit, production day)
// sit in facility_days under "\x02" family "\0" facility "\0" unit "\0"
// day. Clear() leaves them all alone.
#ifndef TAKT_SERVICES_ROLLUPS_ROLLUP_STORE_H_
#define TAKT_SERVICES_ROLLUPS_ROLLUP_STORE_H_

#include <map>
#include <set>
#include <optional>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/kpi/elements.h"
#include "libs/kpi/family.h"

namespace takt::rollup {

// One delta for one unit-hour, with the production day the hour belongs to
// (in the facility's calendar; feeds the facility-day buckets).
struct UnitHourDelta {
  std::string facility;
  std::string unit;
  absl::Time hour;
  kpi::ElementSums delta;
  absl::CivilDay day;
};

// One delta of an element family (kpi/family.h) for a facility's hour, or a
// work unit's ("" for the facility as a whole), with its production day.
struct FamilyHourDelta {
  std::string facility;
  std::string unit;
  absl::Time hour;
  absl::CivilDay day;
  kpi::Values values;
};

// The consumed position of a context: partition -> next offset.
using Cursor = eventlog::Cursor;

// Stoppage time and count of one reason in one facility-hour (Pareto).
struct ReasonHourDelta {
  std::string facility;
  std::string reason;
  absl::Time hour;
  int64_t micros = 0;
  int64_t stoppages = 0;
};

// A work unit's state change, kept so that late events can be re-attributed
// exactly after a restart (the unit timeline is rebuilt from these).
struct TimelineChange {
  std::string facility;
  std::string unit;
  absl::Time at;
  int state = 0;  // kpi::UnitState
  std::string reason;
};

class RollupStore {
 public:
  static absl::StatusOr<std::unique_ptr<RollupStore>> Open(const std::string& path);
  ~RollupStore();

  // Applies deltas and advances `context`'s cursor atomically (one synced
  // WriteBatch when `sync`).
  absl::Status Apply(const std::vector<UnitHourDelta>& deltas, const std::string& context,
                     const Cursor& cursor, bool sync) {
    return Apply(deltas, {}, context, cursor, sync);
  }
  absl::Status Apply(const std::vector<UnitHourDelta>& deltas,
                     const std::vector<TimelineChange>& changes, const std::string& context,
                     const Cursor& cursor, bool sync) {
    return Apply(deltas, changes, {}, context, cursor, sync);
  }
  absl::Status Apply(const std::vector<UnitHourDelta>& deltas,
                     const std::vector<TimelineChange>& changes,
                     const std::vector<ReasonHourDelta>& reasons, const std::string& context,
                     const Cursor& cursor, bool sync) {
    return Apply(deltas, changes, reasons, {}, context, cursor, sync);
  }
  // `orders`: (facility \0 work order, encoded OrderFacts) rows to store.
  absl::Status Apply(const std::vector<UnitHourDelta>& deltas,
                     const std::vector<TimelineChange>& changes,
                     const std::vector<ReasonHourDelta>& reasons,
                     const std::vector<std::pair<std::string, std::string>>& orders,
                     const std::string& context, const Cursor& cursor, bool sync);

  // A work order's stored facts (encoded), if any.
  absl::StatusOr<std::optional<std::string>> LoadOrder(const std::string& key) const;
  // Every stored work order of a facility: (facility \0 work order, facts).
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> LoadOrders(
      const std::string& facility) const;
  // The latest calendar change of a facility the stored rows agree with.
  absl::StatusOr<std::optional<absl::Time>> LoadCalendarMark(const std::string& facility) const;
  absl::Status SaveCalendarMark(const std::string& facility, absl::Time change);
  // Removes every production row and cursor: the projection starts again
  // from the log. Other families' rows and cursors stay.
  absl::Status Clear();
  // Removes a family's rows and cursor (`cursor_key`): it is rebuilt from
  // the log. Production and other families stay.
  absl::Status ClearFamily(const kpi::Family& family, const std::string& cursor_key);

  // A facility whose events the projection `owner` (its cursor key) skipped
  // because the facility's calendar cannot be built on this machine (its
  // time zone is missing from tzdata): parked, so that the other
  // facilities go on, until the calendar can be built; then that
  // projection is rebuilt from the log. Written synchronously before the
  // batch that skipped them; Clear() and ClearFamily() forget the parked
  // facilities of what they clear.
  absl::Status Park(const std::string& owner, const std::string& facility);
  absl::StatusOr<std::set<std::string>> Parked(const std::string& owner) const;

  // Stoppage time and count per reason for a facility over [from, to).
  absl::StatusOr<std::map<std::string, std::pair<int64_t, int64_t>>> Reasons(
      const std::string& facility, absl::Time from, absl::Time to) const;

  // A unit's recorded state changes, in the order they were applied:
  // (time, state, reason).
  absl::StatusOr<std::vector<std::tuple<absl::Time, int, std::string>>> LoadTimeline(
      const std::string& facility, const std::string& unit) const;

  // The cursor last stored for `context` (empty if none).
  absl::StatusOr<Cursor> LoadCursor(const std::string& context) const;

  // Sums over [from, to) for one unit, or for a whole facility.
  absl::StatusOr<kpi::ElementSums> SumUnit(const std::string& facility, const std::string& unit,
                                           absl::Time from, absl::Time to) const;
  absl::StatusOr<kpi::ElementSums> SumFacility(const std::string& facility, absl::Time from,
                                               absl::Time to) const;
  // Per production day of a facility over [from, to] (day buckets: a few
  // rows instead of 24 per day).
  absl::StatusOr<std::map<absl::CivilDay, kpi::ElementSums>> FacilityDays(
      const std::string& facility, absl::CivilDay from, absl::CivilDay to) const;
  // Hour-by-hour sums of a facility (or one unit, if `unit` is not empty)
  // over [from, to); hours without data are absent.
  absl::StatusOr<std::map<absl::Time, kpi::ElementSums>> Hours(const std::string& facility,
                                                               const std::string& unit,
                                                               absl::Time from,
                                                               absl::Time to) const;

  // Applies a family's deltas and stores `cursor` under `cursor_key`
  // ("<context>#<family>") in the same WriteBatch.
  absl::Status ApplyFamily(const std::string& family, const std::vector<FamilyHourDelta>& deltas,
                           const std::string& cursor_key, const Cursor& cursor, bool sync);
  // Makes the stored rows of `family` match its element list: when they
  // were written under another list (a module changed its family), removes
  // that family's rows and its cursor (`cursor_key`), so it is rebuilt from
  // the log; then records the list. Other families and production stay.
  absl::Status CheckFamilyLayout(const kpi::Family& family, const std::string& cursor_key);
  // A family's sums over [from, to) for a facility, or one of its units.
  absl::StatusOr<kpi::Values> SumFamily(const kpi::Family& family, const std::string& facility,
                                        const std::string& unit, absl::Time from,
                                        absl::Time to) const;
  // A family's sums for one unit of a facility (a work unit, or a key of
  // the family's own such as a characteristic) over the production days
  // [from, to]: one row per day, for long periods.
  absl::StatusOr<kpi::Values> SumFamilyUnitDays(const kpi::Family& family,
                                                const std::string& facility,
                                                const std::string& unit, absl::CivilDay from,
                                                absl::CivilDay to) const;
  // A family's hour rows (facility, or one unit) over [from, to).
  absl::StatusOr<std::map<absl::Time, kpi::Values>> FamilyHours(const kpi::Family& family,
                                                                const std::string& facility,
                                                                const std::string& unit,
                                                                absl::Time from,
                                                                absl::Time to) const;
  // A family's production-day rows of a facility over [from, to].
  absl::StatusOr<std::map<absl::CivilDay, kpi::Values>> FamilyDays(const kpi::Family& family,
                                                                   const std::string& facility,
                                                                   absl::CivilDay from,
                                                                   absl::CivilDay to) const;

  // Folds merge operands into values (as background compaction does over
  // time); used after bulk loads.
  absl::Status Compact();

  // The store's RocksDB health for metrics: bytes compaction still has to
  // rewrite, the write rate RocksDB slows writers to (0: not slowed) and
  // whether writes are stopped.
  storage::StorageHealth Health() const;

  // Every unit-hour row, for rebuild comparisons.
  absl::StatusOr<std::map<std::string, kpi::ElementSums>> DumpUnitHours() const;

 private:
  struct Impl;
  explicit RollupStore(std::unique_ptr<Impl> impl);
  static absl::StatusOr<std::unique_ptr<RollupStore>> OpenOnce(const std::string& path);
  std::unique_ptr<Impl> impl_;
};

// Encoding helpers (exposed for tests and the audit path).
std::string EncodeSums(const kpi::ElementSums& sums);
bool DecodeSums(std::string_view bytes, kpi::ElementSums* sums);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_ROLLUP_STORE_H_
