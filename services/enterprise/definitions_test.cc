#include "services/enterprise/definitions.h"

#include "gtest/gtest.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"

namespace takt::enterprise {
namespace {

// A request of definitions, as the gRPC service receives it.
v1::ApplyDefinitionsRequest Request(std::vector<v1::Definition> defs, const std::string& id,
                                    bool validate_only = false) {
  v1::ApplyDefinitionsRequest r;
  for (auto& d : defs) *r.add_definitions() = std::move(d);
  r.set_request_id(id);
  r.set_validate_only(validate_only);
  return r;
}

const es::CommandOrigin kTester{"tester", absl::Now()};

TEST(DefinitionsTest, DefinitionsAreEventsAndSurviveRestarts) {
  testing::TempDir dir;
  eventlog::EmbeddedLogOptions o;
  o.data_dir = dir.path();
  v1::Definition region, facility, move, orphan, apac;
  region.mutable_region()->set_region("emea");
  facility.mutable_facility()->set_facility("berlin-1");
  facility.mutable_facility()->mutable_calendar()->set_time_zone("Europe/Berlin");
  move.mutable_move()->set_facility("berlin-1");
  move.mutable_move()->set_region("emea");
  move.mutable_move()->set_effective_from("2026-01-01");
  orphan.mutable_area()->set_facility("paris-1");
  orphan.mutable_area()->set_area("x");
  apac.mutable_region()->set_region("apac");
  {
    auto log = *eventlog::OpenEmbeddedLog(o);
    model::ModelStore store(log.get());
    ASSERT_TRUE(store.Refresh().ok());
    Definitions definitions(log.get(), &store);
    auto outcome = definitions.Apply(Request({region, facility, move}, "req-1"), kTester);
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(outcome->changed(), 3u);
    // The same description again changes nothing and appends nothing.
    auto again = definitions.Apply(Request({region, facility, move}, "req-2"), kTester);
    EXPECT_EQ(again->changed(), 0u);
    EXPECT_EQ(again->unchanged(), 3u);
    // A resend of the first request gets its original answer; the same id
    // with other content is refused.
    auto resent = definitions.Apply(Request({region, facility, move}, "req-1"), kTester);
    ASSERT_TRUE(resent.ok()) << resent.status();
    EXPECT_EQ(resent->changed(), 3u);
    EXPECT_EQ(definitions.Apply(Request({apac}, "req-1"), kTester).status().code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    // A bad definition fails the whole request, naming it.
    auto bad = definitions.Apply(Request({apac, orphan}, "req-3"), kTester);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound);
    EXPECT_NE(bad.status().message().find("definitions[1]"), std::string::npos);
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    // A dry run (validate_only) says which events it would write, writes none.
    auto dry = definitions.Apply(Request({apac, region}, "req-4", /*validate_only=*/true), kTester);
    ASSERT_TRUE(dry.ok()) << dry.status();
    EXPECT_EQ(dry->changed(), 1u);
    ASSERT_EQ(dry->would_write_size(), 1);
    EXPECT_EQ(dry->would_write(0).region().region(), "apac");
    EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 3u);
    store.Read([](const model::EnterpriseModel& m) { EXPECT_FALSE(m.HasRegion("apac")); });
  }
  auto log = *eventlog::OpenEmbeddedLog(o);
  model::ModelStore store(log.get());
  ASSERT_TRUE(store.Refresh().ok());
  store.Read([](const model::EnterpriseModel& m) {
    EXPECT_NE(m.Calendar("berlin-1"), nullptr);
    EXPECT_EQ(*m.RegionOf("berlin-1", absl::CivilDay(2026, 6, 1)), "emea");
  });
}

// Another writer moved the stream under this process's cached aggregate (a
// second owner, or a restart of the other): the store reloads and decides
// again instead of failing.
TEST(DefinitionsTest, ReloadsWhenTheStreamMovedUnderIt) {
  testing::TempDir dir;
  eventlog::EmbeddedLogOptions o;
  o.data_dir = dir.path();
  auto log = *eventlog::OpenEmbeddedLog(o);
  model::ModelStore models(log.get());
  Definitions first(log.get(), &models);
  Definitions second(log.get(), &models);
  v1::Definition emea, apac;
  emea.mutable_region()->set_region("emea");
  apac.mutable_region()->set_region("apac");
  ASSERT_TRUE(first.Apply(Request({emea}, "a"), kTester).ok());
  ASSERT_TRUE(second.Apply(Request({apac}, "b"), kTester).ok());  // loads at head 1
  ASSERT_TRUE(first.Apply(Request({emea}, "c"), kTester).ok());
  auto r = first.Apply(Request({apac, emea}, "d"), kTester);  // cached at head 1; log at 2
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->unchanged(), 2u);
  EXPECT_EQ(log->Heads("enterprise")->at(0).sequence, 2u);
}

}  // namespace
}  // namespace takt::enterprise
