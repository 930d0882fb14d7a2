#include "libs/kpi/calendar.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

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

namespace {

// Zone names and links of this machine's tzdata ("Z name ..." and
// "L target link" lines of tzdata.zi), read once.
struct TzNames {
  std::set<std::string> zones;
  std::map<std::string, std::string> links;  // alias -> canonical
  bool loaded = false;
};

const TzNames& LoadTzNames() {
  static const TzNames* names = [] {
    auto* out = new TzNames;
    std::ifstream in("/usr/share/zoneinfo/tzdata.zi");
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string kind, a, b;
      fields >> kind >> a;
      if (kind == "Z") {
        out->zones.insert(a);
      } else if (kind == "L" && (fields >> b)) {
        out->links[b] = a;
      }
    }
    out->loaded = !out->zones.empty();
    return out;
  }();
  return *names;
}

// A zone name, not a path: absl would load "/usr/share/zoneinfo/X" or
// "../../X" as files.
bool LooksLikeZoneName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '/' || name.find("..") != std::string::npos) {
    return false;
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status CheckCanonicalZoneName(const std::string& name) {
  if (!LooksLikeZoneName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time_zone: '", name.substr(0, 64), "' is not an IANA time zone name (e.g. Europe/Berlin)"));
  }
  const TzNames& tz = LoadTzNames();
  if (!tz.loaded || name == "UTC" || tz.zones.count(name)) return absl::OkStatus();
  if (auto it = tz.links.find(name); it != tz.links.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time_zone: '", name, "' is a legacy alias that tzdata upgrades may drop; use '",
        it->second, "'"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("time_zone: '", name, "' is not a known IANA time zone"));
}

absl::StatusOr<FacilityCalendar> FacilityCalendar::Create(const CalendarSpec& spec) {
  absl::TimeZone zone;
  if (!LooksLikeZoneName(spec.time_zone) || !absl::LoadTimeZone(spec.time_zone, &zone)) {
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
  Version v;
  v.spec = spec;
  v.zone = zone;
  BuildOffsets(v);
  return FacilityCalendar(std::move(v));
}

void FacilityCalendar::BuildOffsets(Version& v) {
  // 1970 to 2200: every instant production data can carry in practice;
  // HourStart asks the zone itself outside (and the table is a few KiB).
  const absl::Time lo = absl::UnixEpoch();
  const absl::Time hi = absl::FromCivil(absl::CivilSecond(2200, 1, 1, 0, 0, 0), absl::UTCTimeZone());
  v.offsets.clear();
  v.offsets.emplace_back(absl::ToUnixSeconds(lo), v.zone.At(lo).offset);
  absl::TimeZone::CivilTransition trans;
  for (absl::Time t = lo; v.zone.NextTransition(t, &trans);) {
    // The instant of the change: the first instant of its new civil time
    // (for a repeated hour, the transition itself).
    const absl::TimeZone::TimeInfo info = v.zone.At(trans.to);
    const absl::Time at =
        info.kind == absl::TimeZone::TimeInfo::UNIQUE ? info.pre : info.trans;
    if (at <= t || at >= hi) break;
    const int64_t offset = v.zone.At(at).offset;
    if (offset != v.offsets.back().second) {
      v.offsets.emplace_back(absl::ToUnixSeconds(at), offset);
    }
    t = at;
  }
  v.offsets_end = absl::ToUnixSeconds(hi);
}

int64_t FacilityCalendar::OffsetAt(const Version& v, absl::Time t) {
  const int64_t secs = absl::ToUnixSeconds(t);
  if (v.offsets.empty() || secs < v.offsets.front().first || secs >= v.offsets_end) {
    return v.zone.At(t).offset;
  }
  // The last entry at or before secs.
  auto it = std::upper_bound(v.offsets.begin(), v.offsets.end(), secs,
                             [](int64_t s, const std::pair<int64_t, int64_t>& e) { return s < e.first; });
  return std::prev(it)->second;
}

absl::StatusOr<FacilityCalendar> FacilityCalendar::ChangedFrom(absl::CivilDay from,
                                                               const CalendarSpec& spec) const {
  auto next = Create(spec);
  if (!next.ok()) return next.status();
  Version v = std::move(next->versions_.front());
  v.first_day = from;
  v.from = DayIn(v, from).start;
  const Version& last = versions_.back();
  if (from <= last.first_day || v.from <= last.from) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a calendar change from ", absl::FormatCivilTime(from),
        " must come after the latest one (from ", absl::FormatCivilTime(last.first_day), ")"));
  }
  if (v.from <= DayIn(last, from - 1).start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a calendar change from ", absl::FormatCivilTime(from),
        " would leave no time for production day ", absl::FormatCivilTime(from - 1),
        " of the old calendar; choose a later day"));
  }
  FacilityCalendar out = *this;
  out.versions_.push_back(std::move(v));
  return out;
}

size_t FacilityCalendar::IndexAt(absl::Time t) const {
  size_t i = versions_.size() - 1;
  while (i > 0 && t < versions_[i].from) --i;
  return i;
}

size_t FacilityCalendar::IndexOn(absl::CivilDay day) const {
  size_t i = versions_.size() - 1;
  while (i > 0 && day < versions_[i].first_day) --i;
  return i;
}

absl::Time FacilityCalendar::EndOf(size_t i) const {
  return i + 1 < versions_.size() ? versions_[i + 1].from : absl::InfiniteFuture();
}

absl::Time FacilityCalendar::HourStart(absl::Time t) const {
  const Version& v = versions_[IndexAt(t)];
  const int64_t offset = OffsetAt(v, t);  // seconds east of UTC
  const int64_t local = absl::ToUnixSeconds(t) + offset;
  const int64_t into_hour = ((local % 3600) + 3600) % 3600;
  // An hour that straddles a change starts (again) at the change.
  return std::max(absl::FromUnixSeconds(absl::ToUnixSeconds(t) - into_hour), v.from);
}

absl::Time FacilityCalendar::LocalToUtc(const Version& v, absl::CivilMinute m) {
  // For a local time that does not exist (spring forward), the instant it
  // would have been; for one that exists twice, the first.
  const absl::TimeZone::TimeInfo info = v.zone.At(absl::CivilSecond(m));
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

absl::CivilDay FacilityCalendar::ProductionDay(absl::Time t) const {
  const size_t i = IndexAt(t);
  const Version& v = versions_[i];
  absl::CivilMinute local(v.zone.At(t).cs);
  absl::CivilDay day(local - v.spec.day_start_minute);
  // Before a change, the old calendar's days end at its last day.
  if (i + 1 < versions_.size()) day = std::min(day, versions_[i + 1].first_day - 1);
  return day;
}

Interval FacilityCalendar::DayIn(const Version& v, absl::CivilDay day) {
  absl::CivilMinute start = absl::CivilMinute(day) + v.spec.day_start_minute;
  return Interval{LocalToUtc(v, start), LocalToUtc(v, start + kMinutesPerDay)};
}

Interval FacilityCalendar::Day(absl::CivilDay day) const {
  const size_t i = IndexOn(day);
  Interval out = DayIn(versions_[i], day);
  if (i + 1 < versions_.size() && day + 1 == versions_[i + 1].first_day) {
    out.end = versions_[i + 1].from;  // the old calendar's last day ends at the change
  }
  return out;
}

Interval FacilityCalendar::Week(absl::CivilDay day) const {
  absl::CivilDay monday = day;
  while (absl::GetWeekday(monday) != absl::Weekday::monday) --monday;
  return Interval{Day(monday).start, Day(monday + 7).start};
}

Interval FacilityCalendar::Month(absl::CivilMonth month) const {
  return Interval{Day(absl::CivilDay(month)).start, Day(absl::CivilDay(month + 1)).start};
}

ShiftInstance FacilityCalendar::MakeShift(size_t i, absl::CivilDay day, const ShiftDef& s) const {
  const Version& v = versions_[i];
  absl::CivilMinute start = absl::CivilMinute(day) + v.spec.day_start_minute +
                            SinceDayStart(s.start_minute, v.spec.day_start_minute);
  Interval interval{LocalToUtc(v, start), LocalToUtc(v, start + Duration(s))};
  // A shift the change cuts ends there (or does not happen).
  interval.end = std::min(interval.end, EndOf(i));
  interval.start = std::min(interval.start, interval.end);
  return ShiftInstance{s.name, day, interval};
}

std::optional<ShiftInstance> FacilityCalendar::ShiftAt(absl::Time t) const {
  const size_t i = IndexAt(t);
  const absl::CivilDay day = ProductionDay(t);
  for (const ShiftDef& s : versions_[i].spec.shifts) {
    ShiftInstance inst = MakeShift(i, day, s);
    if (t >= inst.interval.start && t < inst.interval.end) return inst;
  }
  return std::nullopt;
}

absl::StatusOr<ShiftInstance> FacilityCalendar::Shift(absl::CivilDay day,
                                                      const std::string& name) const {
  const size_t i = IndexOn(day);
  for (const ShiftDef& s : versions_[i].spec.shifts) {
    if (s.name == name) return MakeShift(i, day, s);
  }
  return absl::NotFoundError(absl::StrCat("no shift named '", name, "' on ",
                                          absl::FormatCivilTime(day)));
}

std::string FacilityCalendar::LocalLabel(absl::Time t) const {
  return absl::FormatTime("%Y-%m-%dT%H:%M%Ez", t, versions_[IndexAt(t)].zone);
}

}  // namespace takt::kpi
