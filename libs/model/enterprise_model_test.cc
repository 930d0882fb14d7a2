#include "libs/model/enterprise_model.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace takt::model {
namespace {

// Decides and applies, as a service would (append, then fold).
absl::StatusOr<size_t> Put(EnterpriseModel& m, const google::protobuf::Message& desired) {
  auto events = m.Decide(desired);
  if (!events.ok()) return events.status();
  for (const ModelEvent& e : *events) {
    absl::Status s = m.Apply(e);
    if (!s.ok()) return s;
  }
  return events->size();
}

ev1::FacilityDefined Plant(const std::string& id, const std::string& zone) {
  ev1::FacilityDefined f;
  f.set_facility(id);
  f.set_display_name(id);
  f.mutable_calendar()->set_time_zone(zone);
  f.mutable_calendar()->set_day_start("06:00");
  for (auto [n, s, e] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"},
                         std::tuple{"C", "22:00", "06:00"}}) {
    ev1::Shift* shift = f.mutable_calendar()->add_shifts();
    shift->set_name(n);
    shift->set_start(s);
    shift->set_end(e);
  }
  return f;
}

class EnterpriseModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* r : {"americas", "emea"}) {
      ev1::RegionDefined region;
      region.set_region(r);
      ASSERT_EQ(*Put(model_, region), 1u);
    }
    ASSERT_TRUE(Put(model_, Plant("detroit-1", "America/Detroit")).ok());
    ev1::AreaDefined area;
    area.set_facility("detroit-1");
    area.set_area("body");
    ASSERT_TRUE(Put(model_, area).ok());
    for (const char* wc : {"press-line", "weld-line"}) {
      ev1::WorkCenterDefined w;
      w.set_facility("detroit-1");
      w.set_area("body");
      w.set_work_center(wc);
      ASSERT_TRUE(Put(model_, w).ok());
    }
    for (auto [unit, wc] : {std::pair{"press-1", "press-line"}, std::pair{"press-2", "press-line"},
                            std::pair{"weld-1", "weld-line"}}) {
      ev1::WorkUnitDefined u;
      u.set_facility("detroit-1");
      u.set_work_center(wc);
      u.set_work_unit(unit);
      ASSERT_TRUE(Put(model_, u).ok());
    }
  }
  EnterpriseModel model_;
};

TEST_F(EnterpriseModelTest, ApplyingTheSameDescriptionTwiceChangesNothing) {
  EXPECT_EQ(*Put(model_, Plant("detroit-1", "America/Detroit")), 0u);
  ev1::ProductDefined p;
  p.set_product("door-l");
  p.set_planned_run_time_per_item_us(42'000'000);
  EXPECT_EQ(*Put(model_, p), 1u);
  EXPECT_EQ(*Put(model_, p), 0u);
  p.set_planned_run_time_per_item_us(40'000'000);
  EXPECT_EQ(*Put(model_, p), 1u);  // a real change is an event
  EXPECT_EQ(*model_.PlannedRunTime("door-l"), absl::Seconds(40));
  EXPECT_FALSE(model_.PlannedRunTime("hood").has_value());
}

TEST_F(EnterpriseModelTest, AFacilityMovesToAnotherRegionFromADate) {
  ev1::FacilityMoved mv;
  mv.set_facility("detroit-1");
  mv.set_region("americas");
  mv.set_effective_from("2026-01-01");
  ASSERT_EQ(*Put(model_, mv), 1u);
  EXPECT_EQ(*Put(model_, mv), 0u);
  mv.set_region("emea");  // a reorganisation from mid-month
  mv.set_effective_from("2026-11-15");
  ASSERT_EQ(*Put(model_, mv), 1u);
  EXPECT_EQ(*model_.RegionOf("detroit-1", absl::CivilDay(2026, 11, 14)), "americas");
  EXPECT_EQ(*model_.RegionOf("detroit-1", absl::CivilDay(2026, 11, 15)), "emea");
  EXPECT_FALSE(model_.RegionOf("detroit-1", absl::CivilDay(2025, 12, 31)).has_value());
  auto americas = model_.DaysInRegion("detroit-1", "americas", absl::CivilDay(2026, 11, 1),
                                      absl::CivilDay(2026, 11, 30));
  ASSERT_EQ(americas.size(), 1u);
  EXPECT_EQ(americas[0].first, absl::CivilDay(2026, 11, 1));
  EXPECT_EQ(americas[0].second, absl::CivilDay(2026, 11, 14));
  auto emea = model_.DaysInRegion("detroit-1", "emea", absl::CivilDay(2026, 11, 1),
                                  absl::CivilDay(2026, 11, 30));
  ASSERT_EQ(emea.size(), 1u);
  EXPECT_EQ(emea[0].first, absl::CivilDay(2026, 11, 15));
  EXPECT_EQ(emea[0].second, absl::CivilDay(2026, 11, 30));
}

TEST_F(EnterpriseModelTest, EquipmentHierarchyLookups) {
  EXPECT_THAT(model_.WorkUnits("detroit-1", "", ""),
              ::testing::ElementsAre("press-1", "press-2", "weld-1"));
  EXPECT_THAT(model_.WorkUnits("detroit-1", "", "press-line"),
              ::testing::ElementsAre("press-1", "press-2"));
  EXPECT_THAT(model_.WorkUnits("detroit-1", "body", ""), ::testing::SizeIs(3));
  EXPECT_TRUE(model_.WorkUnits("detroit-1", "paint", "").empty());
  EXPECT_NE(model_.Calendar("detroit-1"), nullptr);
  EXPECT_EQ(model_.Calendar("nowhere"), nullptr);
}

TEST_F(EnterpriseModelTest, BadDefinitionsAreRefusedWithTheCulpritNamed) {
  auto expect_error = [&](const google::protobuf::Message& m, absl::StatusCode code,
                          const std::string& needle) {
    auto r = model_.Decide(m);
    EXPECT_EQ(r.status().code(), code) << m.DebugString();
    EXPECT_THAT(std::string(r.status().message()), ::testing::HasSubstr(needle));
  };
  expect_error(Plant("", "UTC"), absl::StatusCode::kInvalidArgument, "facility");
  expect_error(Plant("x", "Mars/Base"), absl::StatusCode::kInvalidArgument, "Mars/Base");
  // Facility ids that would name another facility's derived streams.
  expect_error(Plant("detroit-1.plan", "UTC"), absl::StatusCode::kInvalidArgument, "reserved");
  expect_error(Plant("detroit-1.qms", "UTC"), absl::StatusCode::kInvalidArgument, "reserved");
  ev1::FacilityDefined bad_shift = Plant("x", "UTC");
  bad_shift.mutable_calendar()->mutable_shifts(0)->set_start("6am");
  expect_error(bad_shift, absl::StatusCode::kInvalidArgument, "6am");
  ev1::FacilityMoved mv;
  mv.set_facility("detroit-1");
  mv.set_region("apac");
  mv.set_effective_from("2026-01-01");
  expect_error(mv, absl::StatusCode::kNotFound, "apac");
  mv.set_region("emea");
  mv.set_effective_from("2026-13-01");
  expect_error(mv, absl::StatusCode::kInvalidArgument, "effective_from");
  ev1::WorkUnitDefined u;
  u.set_facility("detroit-1");
  u.set_work_center("paint-line");
  u.set_work_unit("robot-1");
  expect_error(u, absl::StatusCode::kNotFound, "paint-line");
  ev1::ProductDefined p;
  p.set_product("hood");
  expect_error(p, absl::StatusCode::kInvalidArgument, "planned_run_time");
  EXPECT_EQ(model_.Apply({"takt.enterprise.v1.Nope", ""}).code(),
            absl::StatusCode::kInvalidArgument);
}

// Regression (issue 11.6): moving detroit-1 to Asia/Tokyo replaced its
// calendar for all of history, so live rollups and a rebuild disagreed. A
// calendar change now names its first production day, which must start at
// least kCalendarNotice after the decision; history keeps its calendar.
TEST_F(EnterpriseModelTest, CalendarChangesAreEffectiveDatedAndNeverRetroactive) {
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 12, 2, 12, 0, 0), absl::UTCTimeZone());
  const kpi::FacilityCalendar* before = model_.Calendar("detroit-1");
  const kpi::Interval old_day = before->Day(absl::CivilDay(2026, 12, 1));
  ev1::FacilityDefined tokyo = Plant("detroit-1", "Asia/Tokyo");
  auto missing = model_.Decide(tokyo, now);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("effective_from"));
  tokyo.mutable_calendar()->set_effective_from("2026-12-01");  // in the past
  auto past = model_.Decide(tokyo, now);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(past.status().message(), ::testing::HasSubstr("at least 1h from now"));
  tokyo.mutable_calendar()->set_effective_from("2026-12-04");
  auto decided = model_.Decide(tokyo, now);
  ASSERT_TRUE(decided.ok()) << decided.status();
  ASSERT_EQ(decided->size(), 1u);
  ASSERT_TRUE(model_.Apply(decided->front()).ok());
  const kpi::FacilityCalendar* after = model_.Calendar("detroit-1");
  EXPECT_EQ(after->Day(absl::CivilDay(2026, 12, 1)).start, old_day.start);  // history kept
  EXPECT_EQ(after->Day(absl::CivilDay(2026, 12, 1)).end, old_day.end);
  EXPECT_EQ(after->SpecOn(absl::CivilDay(2026, 12, 4)).time_zone, "Asia/Tokyo");
  // The same description again, with or without the day: nothing changes.
  EXPECT_TRUE(model_.Decide(tokyo, now)->empty());
  tokyo.mutable_calendar()->clear_effective_from();
  EXPECT_TRUE(model_.Decide(tokyo, now)->empty());
  // Another field of the facility: an event, and the calendar stays.
  tokyo.set_display_name("Detroit (Tokyo time)");
  auto renamed = model_.Decide(tokyo, now);
  ASSERT_TRUE(renamed.ok() && renamed->size() == 1u);
  ASSERT_TRUE(model_.Apply(renamed->front()).ok());
  EXPECT_EQ(model_.Calendar("detroit-1"), after);
}

// Issue 12.2: a zone a machine cannot load (recorded elsewhere, or before
// tzdata dropped it) never stops the model: that facility's calendar
// answers FAILED_PRECONDITION with the reason, everything else works.
TEST_F(EnterpriseModelTest, ARecordedZoneThisMachineLacksFailsOnlyItsFacility) {
  EXPECT_THAT(model_.Decide(Plant("boston-1", "US/Eastern")).status().message(),
              ::testing::HasSubstr("America/New_York"));
  ev1::FacilityDefined mars = Plant("olympus-1", "Mars/Olympus_Mons");
  ModelEvent recorded{std::string(ev1::FacilityDefined::descriptor()->full_name()),
                      mars.SerializeAsString()};
  ASSERT_TRUE(model_.Apply(recorded).ok());
  ASSERT_NE(model_.Facility("olympus-1"), nullptr);
  auto cal = model_.CalendarOrError("olympus-1");
  EXPECT_EQ(cal.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(cal.status().message(), ::testing::HasSubstr("tzdata"));
  EXPECT_TRUE(model_.CalendarOrError("detroit-1").ok());
  EXPECT_EQ(model_.CalendarOrError("nowhere-1").status().code(), absl::StatusCode::kNotFound);
}

// Events recorded before this round's bounds (a 48 h run time, a date
// written "2024-1-1") still load: new limits apply to new input only.
TEST_F(EnterpriseModelTest, EventsRecordedBeforeTheBoundsStillLoad) {
  ev1::ProductDefined slow;
  slow.set_product("ship-section");
  slow.set_planned_run_time_per_item_us(48LL * 3600 * 1'000'000);
  EXPECT_FALSE(model_.Decide(slow).ok());  // refused as new input
  ASSERT_TRUE(model_.Apply({std::string(ev1::ProductDefined::descriptor()->full_name()),
                            slow.SerializeAsString()}).ok());
  ev1::FacilityMoved mv;
  mv.set_facility("detroit-1");
  mv.set_region("emea");
  mv.set_effective_from("2024-1-1");
  EXPECT_FALSE(model_.Decide(mv).ok());
  ASSERT_TRUE(model_.Apply({std::string(ev1::FacilityMoved::descriptor()->full_name()),
                            mv.SerializeAsString()}).ok());
  EXPECT_EQ(model_.RegionOf("detroit-1", absl::CivilDay(2024, 6, 1)), "emea");
}

}  // namespace
}  // namespace takt::model
