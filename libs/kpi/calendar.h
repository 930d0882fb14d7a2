// File: calendar.h
// -----------------------------------------------------------------------------
// A facility's own clock: its IANA time zone, the local time its production
// day starts, and its named shifts (overnight shifts allowed). Rollups keep
// elements per facility-local hour; every period a director asks for (hour,
// shift, production day, week, month) is a union of those hours, computed
// here in the facility's time zone, so daylight-saving days have 23 or 25
// hours and an overnight shift belongs to the production day it starts in.
//
// Calendars are effective-dated: a change (time zone, day start, shifts)
// applies from the start of a production day D in the new calendar's terms
// (the instant E), and every instant before E keeps the calendar it had.
// The last day of the old calendar runs from its own start to E (shorter or
// longer than usual when the time zone or day start moves); hours straddling
// E are cut there. So rollups folded before a change stay what a rebuild
// gives, and history keeps the calendar it was recorded under.
#ifndef TAKT_LIBS_KPI_CALENDAR_H_
#define TAKT_LIBS_KPI_CALENDAR_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace takt::kpi {

struct ShiftDef {
  std::string name;
  int start_minute = 0;  // local minutes after midnight, on the hour
  int end_minute = 0;    // may be <= start_minute: the shift runs past midnight
};

struct CalendarSpec {
  std::string time_zone;      // IANA name, e.g. "America/Chicago"
  int day_start_minute = 0;   // production day start, local, on the hour
  std::vector<ShiftDef> shifts;
};

// A half-open interval of instants.
struct Interval {
  absl::Time start;
  absl::Time end;
  absl::Duration length() const { return end - start; }
};

struct ShiftInstance {
  std::string name;
  absl::CivilDay production_day;
  Interval interval;
};

// Checks that `name` is a canonical IANA zone name of this machine's tzdata
// ("Europe/Berlin"; "UTC" too): not a file path, not a legacy alias
// ("US/Eastern", which a tzdata upgrade may drop; the message names the
// canonical zone). Without /usr/share/zoneinfo/tzdata.zi only the form is
// checked.
absl::Status CheckCanonicalZoneName(const std::string& name);

class FacilityCalendar {
 public:
  // Validates the spec: known time zone; day start and shift boundaries on
  // the hour (rollups are hourly); shifts do not overlap within a day.
  static absl::StatusOr<FacilityCalendar> Create(const CalendarSpec& spec);

  // This calendar, followed by `spec` from production day `from` on. Fails
  // if `spec` is invalid, `from` is not after the day the latest change took
  // effect, or the old calendar's last day would be empty.
  absl::StatusOr<FacilityCalendar> ChangedFrom(absl::CivilDay from, const CalendarSpec& spec) const;

  // The calendar in force now (the latest change) and on a production day.
  const CalendarSpec& spec() const { return versions_.back().spec; }
  const absl::TimeZone& zone() const { return versions_.back().zone; }
  const CalendarSpec& SpecOn(absl::CivilDay day) const { return On(day).spec; }
  // When the latest change takes effect (InfinitePast: never changed).
  absl::Time LatestChange() const { return versions_.back().from; }

  // Start of the facility-local hour containing t (correct in repeated and
  // skipped hours, and in zones with half-hour offsets).
  absl::Time HourStart(absl::Time t) const;

  // The production day t belongs to.
  absl::CivilDay ProductionDay(absl::Time t) const;
  // The instants of a production day (23, 24 or 25 hours long).
  Interval Day(absl::CivilDay day) const;
  // The ISO week (Monday to Sunday) of production days containing `day`.
  Interval Week(absl::CivilDay day) const;
  // The production days of a calendar month.
  Interval Month(absl::CivilMonth month) const;

  // The shift containing t, if any.
  std::optional<ShiftInstance> ShiftAt(absl::Time t) const;
  // A named shift of a production day.
  absl::StatusOr<ShiftInstance> Shift(absl::CivilDay day, const std::string& name) const;

  // Local time of an instant, for labels ("2026-03-08T01:00-06:00").
  std::string LocalLabel(absl::Time t) const;

 private:
  // One calendar and where it applies: from the instant `from` (the start
  // of production day `first_day` in its own terms) to the next version's.
  struct Version {
    CalendarSpec spec;
    absl::TimeZone zone;
    absl::Time from = absl::InfinitePast();
    absl::CivilDay first_day = absl::CivilDay::min();
    // The zone's UTC offset as a table, for HourStart without a time-zone
    // lookup per call (a fold asks for several hours per event): from each
    // unix second in `offsets` (ascending) on, until the next, the offset in
    // seconds east of UTC; valid up to `offsets_end`, outside of which
    // HourStart asks the zone.
    std::vector<std::pair<int64_t, int64_t>> offsets;
    int64_t offsets_end = 0;
  };
  // Fills v.offsets from the zone's transitions.
  static void BuildOffsets(Version& v);
  // Seconds east of UTC at t, from the table when it covers t.
  static int64_t OffsetAt(const Version& v, absl::Time t);
  explicit FacilityCalendar(Version v) { versions_.push_back(std::move(v)); }
  size_t IndexAt(absl::Time t) const;
  size_t IndexOn(absl::CivilDay day) const;
  const Version& On(absl::CivilDay day) const { return versions_[IndexOn(day)]; }
  // Where version i stops applying (InfiniteFuture for the latest).
  absl::Time EndOf(size_t i) const;
  static absl::Time LocalToUtc(const Version& v, absl::CivilMinute m);
  static Interval DayIn(const Version& v, absl::CivilDay day);
  ShiftInstance MakeShift(size_t i, absl::CivilDay day, const ShiftDef& s) const;

  std::vector<Version> versions_;  // by `from`, the first from InfinitePast
};

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_CALENDAR_H_
