#include "libs/kpi/calendar.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace takt::kpi {
namespace {

// Three shifts, the night one running past midnight; the day starts at 06:00.
CalendarSpec ThreeShifts(const std::string& zone) {
  return CalendarSpec{zone, 6 * 60, {{"A", 6 * 60, 14 * 60}, {"B", 14 * 60, 22 * 60},
                                     {"C", 22 * 60, 6 * 60}}};
}

absl::Time Local(const FacilityCalendar& c, int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), c.zone());
}

TEST(CalendarTest, OvernightShiftBelongsToTheDayItStarts) {
  auto cal = FacilityCalendar::Create(ThreeShifts("Europe/Berlin"));
  ASSERT_TRUE(cal.ok()) << cal.status();
  absl::Time t = Local(*cal, 2026, 11, 24, 2, 30);  // Tuesday 02:30 local
  EXPECT_EQ(cal->ProductionDay(t), absl::CivilDay(2026, 11, 23));
  auto shift = cal->ShiftAt(t);
  ASSERT_TRUE(shift.has_value());
  EXPECT_EQ(shift->name, "C");
  EXPECT_EQ(shift->production_day, absl::CivilDay(2026, 11, 23));
  EXPECT_EQ(shift->interval.start, Local(*cal, 2026, 11, 23, 22));
  EXPECT_EQ(shift->interval.end, Local(*cal, 2026, 11, 24, 6));
  EXPECT_EQ(cal->ShiftAt(Local(*cal, 2026, 11, 24, 6))->name, "A");
  EXPECT_EQ(cal->ProductionDay(Local(*cal, 2026, 11, 24, 6)), absl::CivilDay(2026, 11, 24));
}

TEST(CalendarTest, DaylightSavingDaysHave23And25Hours) {
  auto cal = FacilityCalendar::Create(ThreeShifts("America/Chicago"));
  ASSERT_TRUE(cal.ok());
  // 2026-03-08 (spring forward at 02:00) and 2026-11-01 (fall back at 02:00).
  EXPECT_EQ(cal->Day(absl::CivilDay(2026, 3, 7)).length(), absl::Hours(23));
  EXPECT_EQ(cal->Day(absl::CivilDay(2026, 3, 8)).length(), absl::Hours(24));
  EXPECT_EQ(cal->Day(absl::CivilDay(2026, 10, 31)).length(), absl::Hours(25));
  // The night shift across the change is 7 and 9 hours long.
  EXPECT_EQ(cal->Shift(absl::CivilDay(2026, 3, 7), "C")->interval.length(), absl::Hours(7));
  EXPECT_EQ(cal->Shift(absl::CivilDay(2026, 10, 31), "C")->interval.length(), absl::Hours(9));
  EXPECT_EQ(cal->Shift(absl::CivilDay(2026, 10, 31), "A")->interval.length(), absl::Hours(8));
}

TEST(CalendarTest, HourStartInRepeatedSkippedAndHalfHourZones) {
  auto chicago = FacilityCalendar::Create(ThreeShifts("America/Chicago"));
  // Fall back: 01:00-02:00 CDT then 01:00-02:00 CST. 07:30 UTC is 01:30 CST.
  absl::Time second_0130 = absl::FromCivil(absl::CivilSecond(2026, 11, 1, 7, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(chicago->HourStart(second_0130),
            absl::FromCivil(absl::CivilSecond(2026, 11, 1, 7, 0, 0), absl::UTCTimeZone()));
  absl::Time first_0130 = second_0130 - absl::Hours(1);
  EXPECT_EQ(chicago->HourStart(first_0130), second_0130 - absl::Minutes(90));
  auto kolkata = FacilityCalendar::Create(ThreeShifts("Asia/Kolkata"));  // UTC+05:30
  absl::Time t = absl::FromCivil(absl::CivilSecond(2026, 6, 1, 10, 10, 0), absl::UTCTimeZone());
  EXPECT_EQ(kolkata->HourStart(t),
            absl::FromCivil(absl::CivilSecond(2026, 6, 1, 9, 30, 0), absl::UTCTimeZone()));
  EXPECT_EQ(kolkata->LocalLabel(kolkata->HourStart(t)), "2026-06-01T15:00+05:30");
}

TEST(CalendarTest, WeeksAndMonthsAreMadeOfProductionDays) {
  auto cal = FacilityCalendar::Create(ThreeShifts("Europe/Berlin"));
  Interval week = cal->Week(absl::CivilDay(2026, 11, 26));  // a Thursday
  EXPECT_EQ(week.start, Local(*cal, 2026, 11, 23, 6));
  EXPECT_EQ(week.end, Local(*cal, 2026, 11, 30, 6));
  Interval march = cal->Month(absl::CivilMonth(2026, 3));  // 31 days, one 23-hour day
  EXPECT_EQ(march.length(), absl::Hours(31 * 24 - 1));
}

TEST(CalendarTest, BadSpecsAreRefusedWithTheCulpritNamed) {
  auto bad_zone = FacilityCalendar::Create({"Mars/Olympus", 360, {}});
  EXPECT_EQ(bad_zone.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad_zone.status().message()), ::testing::HasSubstr("Mars/Olympus"));
  auto half_hour = FacilityCalendar::Create({"UTC", 360, {{"A", 330, 840}}});
  EXPECT_THAT(std::string(half_hour.status().message()), ::testing::HasSubstr("shift 'A'"));
  auto overlap = FacilityCalendar::Create({"UTC", 360, {{"A", 360, 900}, {"B", 840, 1320}}});
  EXPECT_THAT(std::string(overlap.status().message()), ::testing::HasSubstr("overlap"));
  auto past_day = FacilityCalendar::Create({"UTC", 360, {{"N", 1320, 420}}});
  EXPECT_THAT(std::string(past_day.status().message()), ::testing::HasSubstr("past the end"));
  auto twice = FacilityCalendar::Create({"UTC", 0, {{"A", 0, 60}, {"A", 60, 120}}});
  EXPECT_THAT(std::string(twice.status().message()), ::testing::HasSubstr("used twice"));
  auto day_start = FacilityCalendar::Create({"UTC", 390, {}});
  EXPECT_THAT(std::string(day_start.status().message()), ::testing::HasSubstr("day_start"));
}

// Effective-dated calendars (issue 11.6): Detroit moves to Tokyo time from
// production day 2026-12-10 on. Instants before the change keep Detroit's
// calendar; the old last day ends where Tokyo's first day starts.
TEST(CalendarTest, AChangeAppliesFromItsFirstDayAndHistoryKeepsItsCalendar) {
  auto detroit = FacilityCalendar::Create(ThreeShifts("America/Detroit"));
  ASSERT_TRUE(detroit.ok());
  auto changed = detroit->ChangedFrom(absl::CivilDay(2026, 12, 10), ThreeShifts("Asia/Tokyo"));
  ASSERT_TRUE(changed.ok()) << changed.status();
  absl::TimeZone tokyo, det;
  ASSERT_TRUE(absl::LoadTimeZone("Asia/Tokyo", &tokyo));
  ASSERT_TRUE(absl::LoadTimeZone("America/Detroit", &det));
  const absl::Time change = absl::FromCivil(absl::CivilSecond(2026, 12, 10, 6, 0, 0), tokyo);
  EXPECT_EQ(changed->LatestChange(), change);
  // Before: Detroit's days, unchanged.
  EXPECT_EQ(changed->Day(absl::CivilDay(2026, 12, 8)).start, detroit->Day(absl::CivilDay(2026, 12, 8)).start);
  EXPECT_EQ(changed->Day(absl::CivilDay(2026, 12, 8)).end, detroit->Day(absl::CivilDay(2026, 12, 8)).end);
  // The last Detroit day (12-09, from 06:00 Detroit) ends at Tokyo's 06:00 on 12-10.
  const Interval last = changed->Day(absl::CivilDay(2026, 12, 9));
  EXPECT_EQ(last.start, absl::FromCivil(absl::CivilSecond(2026, 12, 9, 6, 0, 0), det));
  EXPECT_EQ(last.end, change);
  EXPECT_EQ(last.length(), absl::Hours(10));
  EXPECT_EQ(changed->Day(absl::CivilDay(2026, 12, 10)).start, change);
  EXPECT_EQ(changed->Day(absl::CivilDay(2026, 12, 10)).length(), absl::Hours(24));
  // Every instant belongs to exactly the day whose interval holds it.
  for (absl::Time t = last.start - absl::Hours(30); t < change + absl::Hours(30); t += absl::Minutes(30)) {
    const Interval d = changed->Day(changed->ProductionDay(t));
    EXPECT_TRUE(t >= d.start && t < d.end) << absl::FormatTime(t);
  }
  // Shifts of the old last day are cut at the change; labels follow the zone.
  auto c = changed->Shift(absl::CivilDay(2026, 12, 9), "C");
  ASSERT_TRUE(c.ok());
  EXPECT_LE(c->interval.end, change);
  EXPECT_EQ(changed->SpecOn(absl::CivilDay(2026, 12, 9)).time_zone, "America/Detroit");
  EXPECT_EQ(changed->SpecOn(absl::CivilDay(2026, 12, 10)).time_zone, "Asia/Tokyo");
  EXPECT_THAT(changed->LocalLabel(change), ::testing::HasSubstr("+09:00"));
  EXPECT_THAT(changed->LocalLabel(change - absl::Minutes(1)), ::testing::HasSubstr("-05:00"));
  // Changes go forward only.
  EXPECT_FALSE(changed->ChangedFrom(absl::CivilDay(2026, 12, 10), ThreeShifts("UTC")).ok());
}

// Hours never overlap or skip across a change into a half-hour zone.
TEST(CalendarTest, HoursAreCutAtAChangeIntoAHalfHourZone) {
  auto berlin = FacilityCalendar::Create({"Europe/Berlin", 0, {}});
  ASSERT_TRUE(berlin.ok());
  auto changed = berlin->ChangedFrom(absl::CivilDay(2026, 12, 10), {"Asia/Kolkata", 0, {}});
  ASSERT_TRUE(changed.ok()) << changed.status();
  const absl::Time e = changed->LatestChange();
  absl::Time hour = changed->HourStart(e - absl::Hours(5));
  bool cut = false;
  while (hour < e + absl::Hours(5)) {
    const absl::Time next = changed->HourStart(hour + absl::Hours(1) + absl::Seconds(1));
    ASSERT_GT(next, hour);
    EXPECT_LE(next - hour, absl::Hours(1));
    if (hour < e) {
      EXPECT_LE(next, e);  // no hour straddles the change
    }
    if (next == e && next - hour == absl::Minutes(30)) cut = true;
    hour = next;
  }
  EXPECT_TRUE(cut);  // Berlin's 19:00 hour ends at Kolkata's midnight
  EXPECT_EQ(changed->HourStart(e), e);
  EXPECT_EQ(changed->HourStart(e + absl::Minutes(59)), e);
}

// Issue 12.2: only canonical IANA names; no file paths; legacy aliases
// are refused with the canonical name.
TEST(CalendarTest, OnlyCanonicalZoneNamesAreAccepted) {
  EXPECT_TRUE(CheckCanonicalZoneName("Europe/Berlin").ok());
  EXPECT_TRUE(CheckCanonicalZoneName("UTC").ok());
  EXPECT_TRUE(CheckCanonicalZoneName("America/Argentina/Buenos_Aires").ok());
  absl::Status s = CheckCanonicalZoneName("US/Eastern");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("'America/New_York'"));
  for (const char* path : {"/usr/share/zoneinfo/Europe/Berlin", "../../../../usr/share/zoneinfo/UTC",
                           "Europe/Berlin\n", ""}) {
    EXPECT_THAT(CheckCanonicalZoneName(path).message(), ::testing::HasSubstr("not an IANA time zone name"))
        << path;
    EXPECT_FALSE(FacilityCalendar::Create({path, 0, {}}).ok()) << path;
  }
  EXPECT_THAT(CheckCanonicalZoneName("Mars/Olympus_Mons").message(),
              ::testing::HasSubstr("not a known IANA time zone"));
}

}  // namespace
}  // namespace takt::kpi

namespace takt::kpi {
namespace {

// HourStart reads UTC offsets from a table built from the zone's
// transitions; it must give what the zone itself gives at every instant:
// around each transition, at random instants from 1900 to 2300 (outside
// the table too), in zones with half-hour and 45-minute offsets, negative
// DST and changes of standard time.
TEST(CalendarTest, HourStartFromTheOffsetTableEqualsTheZoneEverywhere) {
  const char* zones[] = {"America/Chicago", "Europe/Berlin",      "Australia/Lord_Howe",
                         "Asia/Kathmandu",  "Pacific/Chatham",    "America/Sao_Paulo",
                         "Asia/Kolkata",    "Africa/Casablanca",  "Europe/Dublin",
                         "America/St_Johns", "UTC"};
  std::mt19937_64 rng(5);
  for (const char* name : zones) {
    SCOPED_TRACE(name);
    auto cal = FacilityCalendar::Create({name, 0, {}});
    ASSERT_TRUE(cal.ok()) << cal.status();
    const absl::TimeZone zone = cal->zone();
    auto expected = [&](absl::Time t) {
      const int64_t secs = absl::ToUnixSeconds(t);
      const int64_t local = secs + zone.At(t).offset;
      return absl::FromUnixSeconds(secs - (((local % 3600) + 3600) % 3600));
    };
    std::vector<absl::Time> probes;
    absl::TimeZone::CivilTransition trans;
    int transitions = 0;
    for (absl::Time t = absl::FromUnixSeconds(-2'208'988'800);  // 1900
         zone.NextTransition(t, &trans) && transitions < 2000; ++transitions) {
      const absl::TimeZone::TimeInfo info = zone.At(trans.to);
      const absl::Time at = info.kind == absl::TimeZone::TimeInfo::UNIQUE ? info.pre : info.trans;
      if (at <= t) break;
      for (int d : {-3601, -1, 0, 1, 1799, 3599}) probes.push_back(at + absl::Seconds(d));
      t = at;
    }
    for (int i = 0; i < 20'000; ++i) {
      // 1900 to 2300, with sub-second parts.
      const int64_t secs = -2'208'988'800 + static_cast<int64_t>(rng() % 12'623'040'000ULL);
      probes.push_back(absl::FromUnixSeconds(secs) + absl::Milliseconds(static_cast<int64_t>(rng() % 1000)));
    }
    for (absl::Time t : probes) {
      ASSERT_EQ(cal->HourStart(t), expected(t)) << absl::FormatTime(t) << " in " << name;
    }
  }
}

}  // namespace
}  // namespace takt::kpi
