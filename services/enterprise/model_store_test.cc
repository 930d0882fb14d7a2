#include "services/enterprise/model_store.h"

#include "gtest/gtest.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"

namespace takt::enterprise {
namespace {

TEST(ModelStoreTest, DefinitionsAreEventsAndSurviveRestarts) {
  testing::TempDir dir;
  eventlog::EmbeddedLogOptions o;
  o.data_dir = dir.path();
  v1::RegionDefined region;
  region.set_region("emea");
  v1::FacilityDefined facility;
  facility.set_facility("berlin-1");
  facility.mutable_calendar()->set_time_zone("Europe/Berlin");
  v1::FacilityMoved move;
  move.set_facility("berlin-1");
  move.set_region("emea");
  move.set_effective_from("2026-01-01");
  {
    auto log = *eventlog::OpenEmbeddedLog(o);
    ModelStore store(log.get());
    ASSERT_TRUE(store.Refresh().ok());
    auto outcome = store.Apply({&region, &facility, &move}, "req-1", "tester");
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(outcome->changed, 3u);
    // The same description again changes nothing and appends nothing.
    auto again = store.Apply({&region, &facility, &move}, "req-2", "tester");
    EXPECT_EQ(again->changed, 0u);
    EXPECT_EQ(again->unchanged, 3u);
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    // A bad definition fails the whole request, naming it.
    v1::AreaDefined orphan;
    orphan.set_facility("paris-1");
    orphan.set_area("x");
    v1::RegionDefined apac;
    apac.set_region("apac");
    auto bad = store.Apply({&apac, &orphan}, "req-3", "tester");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(bad.status().message().find("definitions[1]"), std::string::npos);
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    // A dry run (validate_only) says which events it would write, writes none.
    std::vector<model::ModelEvent> would;
    auto dry = store.Apply({&apac, &region}, "req-4", "tester", "", /*validate_only=*/true, &would);
    ASSERT_TRUE(dry.ok()) << dry.status();
    EXPECT_EQ(dry->changed, 1u);
    ASSERT_EQ(would.size(), 1u);
    EXPECT_EQ(would[0].type, "takt.enterprise.v1.RegionDefined");
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    store.Read([](const model::EnterpriseModel& m) { EXPECT_FALSE(m.HasRegion("apac")); });
  }
  auto log = *eventlog::OpenEmbeddedLog(o);
  ModelStore store(log.get());
  ASSERT_TRUE(store.Refresh().ok());
  store.Read([](const model::EnterpriseModel& m) {
    EXPECT_NE(m.Calendar("berlin-1"), nullptr);
    EXPECT_EQ(*m.RegionOf("berlin-1", absl::CivilDay(2026, 6, 1)), "emea");
  });
}

}  // namespace
}  // namespace takt::enterprise
