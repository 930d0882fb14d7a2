// File: enterprise_model.h
// -----------------------------------------------------------------------------
// The enterprise model as pure state: Decide() turns a desired definition
// into the events that would make the model match it (none if it already
// does: applying a description twice changes nothing), Apply() folds an
// event into the state. No I/O; services append the decided events to the
// log and every reader folds the same events into the same state.
#ifndef TAKT_LIBS_MODEL_ENTERPRISE_MODEL_H_
#define TAKT_LIBS_MODEL_ENTERPRISE_MODEL_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "libs/auth/access.h"
#include "libs/es/event.h"
#include "libs/kpi/calendar.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::model {

namespace ev1 = ::takt::enterprise::v1;

// How far ahead of its decision a calendar change must take effect: more
// than observations may be ahead of the clock (5 min) plus the time a
// model change takes to reach every process (a follow interval, 0.5 s).
inline constexpr absl::Duration kCalendarNotice = absl::Hours(1);

// An enterprise event: its fully qualified type and serialized payload.
using ModelEvent = es::Event;

struct FacilityInfo {
  ev1::FacilityDefined definition;
  // Null when the recorded calendar cannot be built on this machine (its
  // time zone is missing from tzdata): `calendar_error` says why, and that
  // facility's answers fail with it while everything else runs.
  // Immutable once built, shared by copies of the model.
  std::shared_ptr<const kpi::FacilityCalendar> calendar;
  std::string calendar_error;
  // Region from a production day on, in day order.
  std::map<absl::CivilDay, std::string> regions;
};

// Copyable: a decision runs on a copy (es::AggregateStore); calendars are
// shared, not copied.
class EnterpriseModel {
 public:
  // The events needed to make the model match `desired` (one of the
  // *Defined messages or FacilityMoved); empty if it already does. Invalid
  // input (bad id, unknown parent, bad calendar, non-positive PRI) is
  // INVALID_ARGUMENT or NOT_FOUND naming the field.
  // A change of an existing facility's calendar must name the production
  // day it takes effect from (calendar.effective_from), starting at least
  // kCalendarNotice after `now`: history keeps its calendar, and no event
  // already folded into rollups can fall after the change (live == rebuild).
  // `now` InfinitePast skips that check (tools replaying decided input).
  absl::StatusOr<std::vector<ModelEvent>> Decide(const google::protobuf::Message& desired,
                                                 absl::Time now = absl::InfinitePast()) const;

  // Folds an event into the state. Events that Decide() would refuse are
  // refused here too (the log only holds decided events).
  absl::Status Apply(const ModelEvent& event);

  // Lookups.
  const FacilityInfo* Facility(const std::string& facility) const;
  const kpi::FacilityCalendar* Calendar(const std::string& facility) const;
  // The calendar, or NOT_FOUND (unknown facility) / FAILED_PRECONDITION
  // (a calendar this machine cannot build, with the reason).
  absl::StatusOr<const kpi::FacilityCalendar*> CalendarOrError(const std::string& facility) const;
  std::vector<std::string> Facilities() const;
  std::vector<std::string> Regions() const;
  bool HasRegion(const std::string& region) const { return regions_.count(region) > 0; }
  // The region a facility counts in on a production day, if any.
  std::optional<std::string> RegionOf(const std::string& facility, absl::CivilDay day) const;
  // The stretches of [from, to] (production days, inclusive) in which
  // `facility` counts in `region`.
  std::vector<std::pair<absl::CivilDay, absl::CivilDay>> DaysInRegion(
      const std::string& facility, const std::string& region, absl::CivilDay from,
      absl::CivilDay to) const;
  // Work units of a facility, optionally only under an area or work center.
  std::vector<std::string> WorkUnits(const std::string& facility, const std::string& area,
                                     const std::string& work_center) const;
  bool HasArea(const std::string& facility, const std::string& area) const;
  bool HasWorkCenter(const std::string& facility, const std::string& work_center) const;
  bool HasWorkUnit(const std::string& facility, const std::string& unit) const;
  // Planned run time per item of a product, if the product is known.
  std::optional<absl::Duration> PlannedRunTime(const std::string& product) const;
  // The region a facility counts in today (UTC), if any.
  std::optional<std::string> RegionNow(const std::string& facility) const;

  // The definitions as recorded, by id (areas, work centers and units by
  // (facility, id)): what the navigation APIs list.
  const std::map<std::string, ev1::RegionDefined>& regions() const { return regions_; }
  const std::map<std::string, FacilityInfo>& facilities() const { return facilities_; }
  const std::map<std::pair<std::string, std::string>, ev1::AreaDefined>& areas() const { return areas_; }
  const std::map<std::pair<std::string, std::string>, ev1::WorkCenterDefined>& work_centers() const {
    return work_centers_;
  }
  const std::map<std::pair<std::string, std::string>, ev1::WorkUnitDefined>& work_units() const {
    return work_units_;
  }
  const std::map<std::string, ev1::ProductDefined>& products() const { return products_; }

  // The role bindings in force (RoleGranted, RoleRevoked; libs/auth/access.h).
  const auth::AccessBindings& access() const { return access_; }
  // Whether `subject`'s bindings grant `permission` on `target` (a region
  // covering the facilities it holds today).
  bool Allows(const std::string& subject, auth::Permission permission, const auth::Scope& target) const;

 private:
  // `recorded`: an event from the log, whose calendar is built by Apply
  // (tolerating a zone this machine lacks) rather than checked here.
  absl::Status Validate(const google::protobuf::Message& m, bool recorded = false) const;
  absl::Status CheckBinding(const std::string& subject, const std::string& role, const std::string& scope,
                            const std::string& reason, bool recorded) const;
  absl::StatusOr<std::vector<ModelEvent>> DecideFacility(const ev1::FacilityDefined& f,
                                                         absl::Time now) const;

  std::map<std::string, ev1::RegionDefined> regions_;
  std::map<std::string, FacilityInfo> facilities_;
  std::map<std::pair<std::string, std::string>, ev1::AreaDefined> areas_;
  std::map<std::pair<std::string, std::string>, ev1::WorkCenterDefined> work_centers_;
  std::map<std::pair<std::string, std::string>, ev1::WorkUnitDefined> work_units_;
  std::map<std::string, ev1::ProductDefined> products_;
  auth::AccessBindings access_;
  // Calendars replaced by a redefinition stay alive: readers may hold them.
  std::vector<std::shared_ptr<const kpi::FacilityCalendar>> retired_calendars_;
};

// Parses "HH:MM" into minutes after midnight.
absl::StatusOr<int> ParseClock(const std::string& hhmm);
// Whether two calendar messages describe the same calendar (effective_from
// aside).
bool SameCalendar(const ev1::Calendar& a, const ev1::Calendar& b);
// Converts a calendar message into a checked FacilityCalendar.
absl::StatusOr<kpi::FacilityCalendar> MakeCalendar(const ev1::Calendar& calendar);
// A date of a recorded event: ParseDay's rules for new input (`recorded`
// false); for events already in the log, what was accepted when they were
// written (any date absl parses), so that old logs still load.
absl::StatusOr<absl::CivilDay> DayOf(const std::string& s, bool recorded);
// A role binding from its recorded fields (role and scope names), checked
// (auth::AccessBindings::Check).
absl::StatusOr<auth::Binding> BindingOf(const std::string& subject, const std::string& role,
                                        const std::string& scope);
// Parses "YYYY-MM-DD".
absl::StatusOr<absl::CivilDay> ParseDay(const std::string& yyyy_mm_dd);

}  // namespace takt::model

#endif  // TAKT_LIBS_MODEL_ENTERPRISE_MODEL_H_
