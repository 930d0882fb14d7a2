// File: calendar.h
// -----------------------------------------------------------------------------
// A facility's own clock: its IANA time zone, the local time its production
// day starts, and its named shifts (overnight shifts allowed). Rollups keep
// elements per facility-local hour; every period a director asks for (hour,
// shift, production day, week, month) is a union of those hours, computed
// here in the facility's time zone, so daylight-saving days have 23 or 25
// hours and an overnight shift belongs to the production day it starts in.
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

class FacilityCalendar {
 public:
  // Validates the spec: known time zone; day start and shift boundaries on
  // the hour (rollups are hourly); shifts do not overlap within a day.
  static absl::StatusOr<FacilityCalendar> Create(const CalendarSpec& spec);

  const CalendarSpec& spec() const { return spec_; }
  const absl::TimeZone& zone() const { return zone_; }

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
  FacilityCalendar(CalendarSpec spec, absl::TimeZone zone)
      : spec_(std::move(spec)), zone_(zone) {}
  absl::Time LocalToUtc(absl::CivilMinute m) const;
  ShiftInstance MakeShift(absl::CivilDay day, const ShiftDef& s) const;

  CalendarSpec spec_;
  absl::TimeZone zone_;
};

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_CALENDAR_H_
