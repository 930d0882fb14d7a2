#include "services/scheduling/ingest.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"

namespace takt::scheduling {
namespace {

namespace ev1 = ::takt::enterprise::v1;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ev1::FacilityDefined f;
    f.set_facility("plant-1");
    f.mutable_calendar()->set_time_zone("UTC");
    Put(f);
    ev1::AreaDefined a;
    a.set_facility("plant-1");
    a.set_area("a");
    Put(a);
    ev1::WorkCenterDefined w;
    w.set_facility("plant-1");
    w.set_area("a");
    w.set_work_center("wc");
    Put(w);
    ev1::WorkUnitDefined u;
    u.set_facility("plant-1");
    u.set_work_center("wc");
    u.set_work_unit("press-1");
    Put(u);
    ev1::ProductDefined p;
    p.set_product("bracket");
    p.set_planned_run_time_per_item_us(12'000'000);
    Put(p);
    eventlog::EmbeddedLogOptions o;
    o.data_dir = dir_.path();
    log_ = std::move(*eventlog::OpenEmbeddedLog(o));
  }
  void Put(const google::protobuf::Message& m) {
    auto events = model_.Decide(m);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const auto& e : *events) ASSERT_TRUE(model_.Apply(e).ok());
  }
  v1::Observation State(uint64_t seq, int64_t at, v1::UnitState s, const std::string& unit = "press-1") {
    v1::Observation o;
    o.set_source_id("plc-7");
    o.set_source_sequence(seq);
    o.mutable_source_time()->set_seconds(at);
    o.mutable_state_change()->set_work_unit(unit);
    o.mutable_state_change()->set_state(s);
    return o;
  }
  v1::Observation Count(uint64_t seq, int64_t at, int good, int scrap, const std::string& product) {
    v1::Observation o;
    o.set_source_id("plc-7");
    o.set_source_sequence(seq);
    o.mutable_source_time()->set_seconds(at);
    o.mutable_count()->set_work_unit("press-1");
    o.mutable_count()->set_product(product);
    o.mutable_count()->set_good(good);
    o.mutable_count()->set_scrap(scrap);
    return o;
  }
  const absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  model::EnterpriseModel model_;
  testing::TempDir dir_;
  std::unique_ptr<eventlog::EventLog> log_;
};

TEST_F(IngestTest, BadObservationsAreRejectedOneByOneTheRestIsDurable) {
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  b.set_batch_id(7);
  *b.add_observations() = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  *b.add_observations() = State(2, 1'799'990'100, v1::UNIT_STATE_DOWN, "ghost-unit");
  *b.add_observations() = Count(3, 1'799'990'200, -1, 0, "bracket");
  *b.add_observations() = Count(4, 1'800'001'000, 5, 0, "bracket");  // 1000 s in the future
  *b.add_observations() = Count(5, 1'799'990'300, 5, 1, "mystery");
  *b.add_observations() = Count(6, 1'799'990'400, 5, 1, "bracket");
  v1::Observation no_kind;
  no_kind.set_source_id("plc-7");
  no_kind.set_source_sequence(7);
  no_kind.mutable_source_time()->set_seconds(1'799'990'500);
  *b.add_observations() = no_kind;
  auto ack = IngestBatch(*log_, model_, b, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->batch_id(), 7u);
  EXPECT_EQ(ack->accepted(), 2u);
  ASSERT_EQ(ack->rejected_size(), 5);
  EXPECT_EQ(ack->rejected(0).index(), 1u);
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("ghost-unit"));
  EXPECT_THAT(ack->rejected(1).reason(), ::testing::HasSubstr("negative"));
  EXPECT_THAT(ack->rejected(2).reason(), ::testing::HasSubstr("future"));
  EXPECT_THAT(ack->rejected(3).reason(), ::testing::HasSubstr("mystery"));
  EXPECT_EQ(ack->rejected(3).code(), static_cast<int>(absl::StatusCode::kNotFound));
  // The accepted count carries the product's planned run time.
  auto events = log_->ReadStream({"scheduling", "plant-1"}, 1, 10);
  ASSERT_EQ(events->size(), 2u);
  v1::ProductionCounted c;
  ASSERT_TRUE(c.ParseFromString((*events)[1].envelope.payload()));
  EXPECT_EQ(c.planned_run_time_per_item_us(), 12'000'000);
  EXPECT_EQ((*events)[1].envelope.occurred_time().seconds(), 1'799'990'400);
}

TEST_F(IngestTest, ResendsAreAcknowledgedNotRecordedTwiceAndConflictsRejectedAlone) {
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  *b.add_observations() = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  *b.add_observations() = Count(2, 1'799'990'100, 5, 0, "bracket");
  ASSERT_EQ(IngestBatch(*log_, model_, b, now_, "test")->accepted(), 2u);
  // After a reconnect the gateway resends both, with a new one in between.
  v1::ObservationBatch again;
  again.set_facility("plant-1");
  *again.add_observations() = Count(2, 1'799'990'100, 5, 0, "bracket");
  *again.add_observations() = State(3, 1'799'990'200, v1::UNIT_STATE_IDLE);
  *again.add_observations() = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  auto ack = IngestBatch(*log_, model_, again, now_, "test");
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->accepted(), 1u);
  EXPECT_EQ(ack->duplicates(), 2u);
  EXPECT_EQ(ack->head_sequence(), 3u);
  // Sequence 2 reused for a different count: that one alone is refused.
  v1::ObservationBatch conflict;
  conflict.set_facility("plant-1");
  *conflict.add_observations() = Count(2, 1'799'990'100, 6, 0, "bracket");
  *conflict.add_observations() = State(4, 1'799'990'300, v1::UNIT_STATE_RUNNING);
  ack = IngestBatch(*log_, model_, conflict, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 1u);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_EQ(ack->rejected(0).source_sequence(), 2u);
  EXPECT_EQ(ack->rejected(0).index(), 0u);
  EXPECT_EQ(ack->rejected(0).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(log_->Heads("scheduling")->at(0).sequence, 4u);
  // Behind a malformed observation the conflict is still named by its own
  // index in the batch, and the good ones around it are recorded.
  v1::ObservationBatch mixed;
  mixed.set_facility("plant-1");
  v1::Observation nameless = State(5, 1'799'990'400, v1::UNIT_STATE_IDLE);
  nameless.clear_source_id();
  *mixed.add_observations() = nameless;
  *mixed.add_observations() = State(6, 1'799'990'500, v1::UNIT_STATE_RUNNING);
  *mixed.add_observations() = Count(2, 1'799'990'100, 7, 0, "bracket");
  *mixed.add_observations() = State(4, 1'799'990'300, v1::UNIT_STATE_RUNNING);
  ack = IngestBatch(*log_, model_, mixed, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 1u);
  EXPECT_EQ(ack->duplicates(), 1u);
  ASSERT_EQ(ack->rejected_size(), 2);
  EXPECT_EQ(ack->rejected(0).index(), 0u);
  EXPECT_EQ(ack->rejected(0).code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ack->rejected(1).index(), 2u);
  EXPECT_EQ(ack->rejected(1).source_sequence(), 2u);
  EXPECT_EQ(ack->rejected(1).code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(log_->Heads("scheduling")->at(0).sequence, 5u);
}

// Regression (issue 11.2): INT64_MAX counts were accepted and made OEE read
// -10,675,199,115 %; good = scrap = INT64_MAX with rework 2 was refused as
// "a count of nothing" (the sum wrapped). Each bound names field and value.
TEST_F(IngestTest, CountsBeyondTheirBoundsAreRefusedNamingFieldAndValue) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  v1::Observation huge = Count(1, 1'799'990'000, 0, 0, "bracket");
  huge.mutable_count()->set_good(kMax);
  *b.add_observations() = huge;
  v1::Observation wraps = Count(2, 1'799'990'000, 0, 0, "bracket");
  wraps.mutable_count()->set_good(kMax);
  wraps.mutable_count()->set_scrap(kMax);
  wraps.mutable_count()->set_rework(2);
  *b.add_observations() = wraps;
  v1::Observation slow = Count(3, 1'799'990'000, 5, 0, "bracket");
  slow.mutable_count()->set_planned_run_time_per_item_us(kMax);
  *b.add_observations() = slow;
  // 10^9 items of 24 h each: every field in bounds, the claim is not.
  v1::Observation absurd = Count(4, 1'799'990'000, 1'000'000'000, 0, "bracket");
  absurd.mutable_count()->set_planned_run_time_per_item_us(86'400'000'000);
  *b.add_observations() = absurd;
  *b.add_observations() = Count(5, 1'799'990'000, 1'000'000, 0, "bracket");  // 139 days of work
  auto ack = IngestBatch(*log_, model_, b, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_EQ(ack->rejected_size(), 4) << ack->DebugString();
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("good is 9223372036854775807"));
  EXPECT_THAT(ack->rejected(1).reason(), ::testing::HasSubstr("good is 9223372036854775807"));
  EXPECT_THAT(ack->rejected(2).reason(),
              ::testing::HasSubstr("planned_run_time_per_item_us is 9223372036854775807"));
  EXPECT_THAT(ack->rejected(3).reason(), ::testing::HasSubstr("one count may claim at most"));
  for (const auto& r : ack->rejected()) {
    EXPECT_EQ(r.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  }
  EXPECT_EQ(ack->accepted(), 1u);
}

// Regression (issue 11.1): a state change dated 1970-01-01 was accepted and
// froze the rollups. Observations before the horizon are refused one by
// one, with the reason; the horizon follows the newest accepted
// observation and survives a restart (seeded from the log).
TEST_F(IngestTest, ObservationsBeforeTheHorizonAreRefusedOneByOne) {
  HorizonPolicy policy;
  policy.max_lateness = absl::Hours(24 * 35);
  Horizons horizons(policy);
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  *b.add_observations() = State(1, 0, v1::UNIT_STATE_RUNNING);  // 1970-01-01
  *b.add_observations() = State(2, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  auto ack = IngestBatch(*log_, model_, b, now_, "test", &horizons);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->accepted(), 1u);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_EQ(ack->rejected(0).index(), 0u);
  EXPECT_EQ(ack->rejected(0).code(), static_cast<int>(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("before the horizon"));
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("2000-01-01"));
  // 40 days behind the newest accepted observation: refused; 30: accepted.
  auto late = [&](Horizons& h, uint64_t seq, int64_t days) {
    v1::ObservationBatch l;
    l.set_facility("plant-1");
    *l.add_observations() = State(seq, 1'799'990'000 - days * 86'400, v1::UNIT_STATE_IDLE);
    return *IngestBatch(*log_, model_, l, now_, "test", &h);
  };
  ack = late(horizons, 3, 40);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("behind the newest observation"));
  EXPECT_EQ(late(horizons, 4, 30).accepted(), 1u);
  // After a restart the horizon comes from the stream's last event (the
  // 30-day-late one: a lower bound of the newest), never stricter.
  Horizons restarted(policy);
  EXPECT_EQ(late(restarted, 5, 40).accepted(), 1u);
  EXPECT_EQ(late(restarted, 6, 80).rejected_size(), 1);
  // Nothing before the facility's commissioning day.
  ev1::FacilityDefined f = model_.Facility("plant-1")->definition;
  f.set_commissioned_on("2027-01-01");
  Put(f);
  ack = late(restarted, 7, 20);
  ASSERT_EQ(ack->rejected_size(), 1);
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("commissioned on 2027-01-01"));
  // Without horizons (tools, tests) the old behaviour stays.
  EXPECT_EQ(IngestBatch(*log_, model_, b, now_, "test")->accepted(), 1u);
}

// Issue 12.3: a 1 MiB source id (kept forever in the dedup index), ids with
// NUL or "../" are refused one by one, naming the field; nothing of them
// is written.
TEST_F(IngestTest, OversizedOrMalformedIdsAreRefusedNamingTheField) {
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  v1::Observation huge = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  huge.set_source_id(std::string(1 << 20, 's'));
  *b.add_observations() = huge;
  v1::Observation climb;
  climb.set_source_id("plc-7");
  climb.set_source_sequence(2);
  climb.mutable_source_time()->set_seconds(1'799'990'000);
  climb.mutable_order_started()->set_work_unit("press-1");
  climb.mutable_order_started()->set_order_id("../../wo-1");
  *b.add_observations() = climb;
  v1::Observation nul = State(3, 1'799'990'000, v1::UNIT_STATE_DOWN);
  nul.mutable_state_change()->set_reason_code(std::string("jam\0", 4));
  *b.add_observations() = nul;
  auto ack = IngestBatch(*log_, model_, b, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_EQ(ack->rejected_size(), 3);
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("source_id 'sss"));
  EXPECT_THAT(ack->rejected(0).reason(), ::testing::HasSubstr("at most 64"));
  EXPECT_LT(ack->rejected(0).ByteSizeLong(), 400u);  // the ack does not echo 1 MiB
  EXPECT_THAT(ack->rejected(1).reason(), ::testing::HasSubstr("order_id '../../wo-1'"));
  EXPECT_THAT(ack->rejected(2).reason(), ::testing::HasSubstr("reason_code"));
  EXPECT_EQ(ack->accepted(), 0u);
  EXPECT_TRUE(log_->Heads("scheduling")->empty());
}

// Issue 12.4: the batch limit once, at the edge; acknowledgements stay
// small however many observations a batch rejects.
TEST_F(IngestTest, BatchesAreBoundedAndAcknowledgementsStaySmall) {
  v1::ObservationBatch empty;
  empty.set_facility("plant-1");
  EXPECT_EQ(IngestBatch(*log_, model_, empty, now_, "test").status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::ObservationBatch huge;
  huge.set_facility("plant-1");
  for (int i = 0; i <= kMaxObservationsPerBatch; ++i) {
    *huge.add_observations() = State(i + 1, 1'799'990'000 + i, v1::UNIT_STATE_RUNNING);
  }
  auto refused = IngestBatch(*log_, model_, huge, now_, "test");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("10001 observations; at most 10000"));
  EXPECT_TRUE(log_->Heads("scheduling")->empty());
  v1::ObservationBatch bad;
  bad.set_facility("plant-1");
  for (int i = 0; i < 300; ++i) {
    *bad.add_observations() = State(i + 1, 1'799'990'000, v1::UNIT_STATE_RUNNING, "ghost");
  }
  *bad.add_observations() = State(301, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  auto ack = IngestBatch(*log_, model_, bad, now_, "test");
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_EQ(ack->rejected_size(), kMaxListedRejections);
  EXPECT_EQ(ack->rejected_not_listed(), 200u);
  EXPECT_EQ(ack->accepted(), 1u);
}

TEST_F(IngestTest, AnUnknownFacilityFailsTheBatch) {
  v1::ObservationBatch b;
  b.set_facility("plant-9");
  *b.add_observations() = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  EXPECT_EQ(IngestBatch(*log_, model_, b, now_, "test").status().code(), absl::StatusCode::kNotFound);
  b.set_facility("");
  EXPECT_EQ(IngestBatch(*log_, model_, b, now_, "test").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(log_->Heads("")->empty());
}

TEST_F(IngestTest, KnowsAllNamesMatchesWhatScreeningRejectsAsUnknown) {
  v1::ObservationBatch b;
  b.set_facility("plant-1");
  *b.add_observations() = State(1, 1'799'990'000, v1::UNIT_STATE_RUNNING);
  *b.add_observations() = Count(2, 1'799'990'100, 10, 0, "bracket");
  EXPECT_TRUE(KnowsAllNames(b, model_));
  v1::ObservationBatch unit = b;
  *unit.add_observations() = State(3, 1'799'990'200, v1::UNIT_STATE_IDLE, "press-7");
  EXPECT_FALSE(KnowsAllNames(unit, model_));
  v1::ObservationBatch product = b;
  *product.add_observations() = Count(3, 1'799'990'200, 1, 0, "gizmo");
  EXPECT_FALSE(KnowsAllNames(product, model_));
  v1::ObservationBatch facility = b;
  facility.set_facility("plant-9");
  EXPECT_FALSE(KnowsAllNames(facility, model_));
  // Whatever KnowsAllNames calls unknown, screening rejects as NOT_FOUND.
  for (const auto* batch : {&unit, &product}) {
    auto screened = Screen(*batch, model_, now_, "test");
    ASSERT_TRUE(screened.ok());
    ASSERT_EQ(screened->rejected.size(), 1u);
    EXPECT_EQ(screened->rejected[0].code(), static_cast<int>(absl::StatusCode::kNotFound));
  }
}

}  // namespace
}  // namespace takt::scheduling
