#include "libs/kpi/calendar.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace takt::kpi {
namespace {

constexpr int kMinutesPerDay = 24 * 60;

std::string Hhmm(int minute) { return absl::StrFormat("%02d:%02d", minute / 60, minute % 60); }

// Minutes from the production-day start to a local time of day.
int SinceDayStart(int minute, int day_start) {
  return ((minute - day_start) % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
}

int Duration(const ShiftDef& s) {
  int d = ((s.end_minute - s.start_minute) % kMinutesPerDay + kMinutesPerDay) % kMinutesPerDay;
  return d == 0 ? kMinutesPerDay : d;
}

}  // namespace

absl::StatusOr<FacilityCalendar> FacilityCalendar::Create(const CalendarSpec& spec) {
  absl::TimeZone zone;
  if (spec.time_zone.empty() || !absl::LoadTimeZone(spec.time_zone, &zone)) {
    return absl::InvalidArgumentError(
        absl::StrCat("time_zone: '", spec.time_zone, "' is not a known IANA time zone"));
  }
  auto on_the_hour = [](int minute) { return minute >= 0 && minute < kMinutesPerDay && minute % 60 == 0; };
  if (!on_the_hour(spec.day_start_minute)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "day_start: ", Hhmm(spec.day_start_minute),
        " must be a whole hour (rollups are kept per facility-local hour)"));
  }
  struct Span {
    int from, to;
    const ShiftDef* shift;
  };
  std::vector<Span> spans;
  for (const ShiftDef& s : spec.shifts) {
    if (s.name.empty()) return absl::InvalidArgumentError("shifts: a shift needs a name");
    if (!on_the_hour(s.start_minute) || !on_the_hour(s.end_minute % kMinutesPerDay)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shift '", s.name, "' (", Hhmm(s.start_minute), "-", Hhmm(s.end_minute),
          "): boundaries must be whole hours (rollups are kept per facility-local hour)"));
    }
    int from = SinceDayStart(s.start_minute, spec.day_start_minute);
    spans.push_back(Span{from, from + Duration(s), &s});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.from < b.from; });
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].to > kMinutesPerDay) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shift '", spans[i].shift->name, "' runs past the end of the production day (which starts at ",
          Hhmm(spec.day_start_minute), ")"));
    }
    if (i > 0 && spans[i].from < spans[i - 1].to) {
      return absl::InvalidArgumentError(absl::StrCat("shifts '", spans[i - 1].shift->name, "' and '",
                                                     spans[i].shift->name, "' overlap"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (spans[j].shift->name == spans[i].shift->name) {
        return absl::InvalidArgumentError(
            absl::StrCat("shift name '", spans[i].shift->name, "' is used twice"));
      }
    }
  }
  return FacilityCalendar(spec, zone);
}

absl::Time FacilityCalendar::HourStart(absl::Time t) const {
  const int64_t offset = zone_.At(t).offset;  // seconds east of UTC
  const int64_t local = absl::ToUnixSeconds(t) + offset;
  const int64_t into_hour = ((local % 3600) + 3600) % 3600;
  return absl::FromUnixSeconds(absl::ToUnixSeconds(t) - into_hour);
}

absl::Time FacilityCalendar::LocalToUtc(absl::CivilMinute m) const {
  // For a local time that does not exist (spring forward), the instant it
  // would have been; for one that exists twice, the first.
  const absl::TimeZone::TimeInfo info = zone_.At(absl::CivilSecond(m));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

absl::CivilDay FacilityCalendar::ProductionDay(absl::Time t) const {
  absl::CivilMinute local(zone_.At(t).cs);
  return absl::CivilDay(local - spec_.day_start_minute);
}

Interval FacilityCalendar::Day(absl::CivilDay day) const {
  absl::CivilMinute start = absl::CivilMinute(day) + spec_.day_start_minute;
  return Interval{LocalToUtc(start), LocalToUtc(start + kMinutesPerDay)};
}

Interval FacilityCalendar::Week(absl::CivilDay day) const {
  absl::CivilDay monday = day;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) --monday;
  return Interval{Day(monday).start, Day(monday + 7).start};
}

Interval FacilityCalendar::Month(absl::CivilMonth month) const {
  return Interval{Day(absl::CivilDay(month)).start, Day(absl::CivilDay(month + 1)).start};
}

ShiftInstance FacilityCalendar::MakeShift(absl::CivilDay day, const ShiftDef& s) const {
  absl::CivilMinute start = absl::CivilMinute(day) + spec_.day_start_minute +
                            SinceDayStart(s.start_minute, spec_.day_start_minute);
  return ShiftInstance{s.name, day,
                       Interval{LocalToUtc(start), LocalToUtc(start + Duration(s))}};
}

std::optional<ShiftInstance> FacilityCalendar::ShiftAt(absl::Time t) const {
  const absl::CivilDay day = ProductionDay(t);
  for (const ShiftDef& s : spec_.shifts) {
    ShiftInstance inst = MakeShift(day, s);
    if (t >= inst.interval.start && t < inst.interval.end) return inst;
  }
  return std::nullopt;
}

absl::StatusOr<ShiftInstance> FacilityCalendar::Shift(absl::CivilDay day,
                                                      const std::string& name) const {
  for (const ShiftDef& s : spec_.shifts) {
    if (s.name == name) return MakeShift(day, s);
  }
  return absl::NotFoundError(absl::StrCat("no shift named '", name, "'"));
}

std::string FacilityCalendar::LocalLabel(absl::Time t) const {
  return absl::FormatTime("%Y-%m-%dT%H:%M%Ez", t, zone_);
}

}  // namespace takt::kpi
