#include "services/scheduling/rollup_projection.h"

#include <random>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "libs/model/enterprise_model.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/kpi/registry.h"
#include "libs/testing/temp_dir.h"
#include "libs/common/proto_time.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::scheduling {

using rollup::RollupStore;
namespace {

using kpi::Element;
namespace sv1 = scheduling::v1;

constexpr int64_t kMinute = 60'000'000;

class ProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    eventlog::EmbeddedLogOptions o;
    o.data_dir = log_dir_.path();
    auto log = eventlog::OpenEmbeddedLog(o);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    auto cal = kpi::FacilityCalendar::Create({"Europe/Berlin", 6 * 60, {}});
    ASSERT_TRUE(cal.ok());
    calendar_ = std::make_unique<kpi::FacilityCalendar>(*cal);
  }

  absl::Time Local(int h, int mi = 0) const {
    return absl::FromCivil(absl::CivilSecond(2026, 11, 24, h, mi, 0), calendar_->zone());
  }

  void Append(const std::string& facility, absl::Time at, const std::string& type,
              const std::string& payload, uint64_t source_sequence) {
    eventlog::AppendRequest r;
    r.context = "scheduling";
    r.facility = facility;
    eventlog::Envelope e;
    e.set_event_type(type);
    e.set_schema_version(1);
    e.mutable_occurred_time()->set_seconds(absl::ToUnixSeconds(at));
    e.set_source_id("gw-" + facility);
    e.set_source_sequence(source_sequence);
    e.set_payload(payload);
    r.events.push_back(e);
    ASSERT_TRUE(log_->Append(r).ok());
  }
  void State(const std::string& facility, absl::Time at, sv1::UnitState s, uint64_t seq) {
    sv1::UnitStateChanged c;
    c.set_work_unit("press-1");
    c.set_state(s);
    Append(facility, at, "takt.scheduling.v1.UnitStateChanged", c.SerializeAsString(), seq);
  }
  void Count(const std::string& facility, absl::Time at, int good, int scrap, uint64_t seq) {
    sv1::ProductionCounted c;
    c.set_work_unit("press-1");
    c.set_good(good);
    c.set_scrap(scrap);
    c.set_planned_run_time_per_item_us(30'000'000);
    Append(facility, at, "takt.scheduling.v1.ProductionCounted", c.SerializeAsString(), seq);
  }
  CalendarLookup Calendars() {
    return [this](const std::string& f) -> const kpi::FacilityCalendar* {
      return f.rfind("plant-", 0) == 0 ? calendar_.get() : nullptr;
    };
  }
  // A shift of plant-1 with a failure, counts and one late event.
  void Scenario() {
    State("plant-1", Local(6), sv1::UNIT_STATE_SETUP, 1);
    State("plant-1", Local(6, 30), sv1::UNIT_STATE_RUNNING, 2);
    Count("plant-1", Local(7, 59), 100, 4, 3);
    State("plant-1", Local(9), sv1::UNIT_STATE_DOWN, 4);
    State("plant-1", Local(9, 40), sv1::UNIT_STATE_RUNNING, 5);
    State("plant-1", Local(14), sv1::UNIT_STATE_IDLE, 6);
    Count("plant-1", Local(13, 30), 300, 6, 7);
    // Late, out of order: a minor stop at 11:00-11:20 arrives last.
    State("plant-1", Local(11, 20), sv1::UNIT_STATE_RUNNING, 9);
    State("plant-1", Local(11), sv1::UNIT_STATE_DELAYED, 8);
  }

  testing::TempDir log_dir_;
  testing::TempDir store_dir_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<kpi::FacilityCalendar> calendar_;
};

TEST_F(ProjectionTest, ObservationsBecomeHourlyElementsIncludingLateOnes) {
  Scenario();
  auto store = RollupStore::Open(store_dir_.path());
  Projection p(log_.get(), store->get(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  auto applied = p.CatchUp();
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 9u);
  auto shift = (*store)->SumFacility("plant-1", Local(6), Local(14));
  ASSERT_TRUE(shift.ok());
  const kpi::ElementSums& s = *shift;
  EXPECT_EQ(s[Element::kPbt], 8 * 60 * kMinute);
  EXPECT_EQ(s[Element::kAust], 30 * kMinute);
  EXPECT_EQ(s[Element::kAdet], 60 * kMinute);  // 40 min failure + 20 min minor stop
  EXPECT_EQ(s[Element::kTtr], 40 * kMinute);
  EXPECT_EQ(s[Element::kFe], 1);
  EXPECT_EQ(s[Element::kApt], (8 * 60 - 30 - 60) * kMinute);
  EXPECT_EQ(s[Element::kPq], 410);
  EXPECT_EQ(s[Element::kGq], 400);
  // The late minor stop landed in the 11:00 hour.
  auto eleven = (*store)->SumUnit("plant-1", "press-1", Local(11), Local(12));
  EXPECT_EQ((*eleven)[Element::kAdet], 20 * kMinute);
  // OEE = PRI x GQ / PBT.
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("oee"), s), 100.0 * 400 * 30 / (8 * 3600), 1e-9);
}

TEST_F(ProjectionTest, ResumesAtItsCursorAndEqualsARebuild) {
  Scenario();
  testing::TempDir rebuilt_dir;
  {
    auto store = RollupStore::Open(store_dir_.path());
    ProjectionOptions o;
    o.max_events_per_batch = 4;  // stop part-way: 4 of 9 events
    Projection p(log_.get(), store->get(), Calendars(), o);
    ASSERT_TRUE(p.Start().ok());
    ASSERT_EQ(*p.Step(absl::ZeroDuration()), 4u);
  }
  // More events arrive while the projection is down, including a resend.
  State("plant-1", Local(15), sv1::UNIT_STATE_RUNNING, 10);
  State("plant-1", Local(15), sv1::UNIT_STATE_RUNNING, 10);  // resent: deduplicated by the log
  State("plant-1", Local(16), sv1::UNIT_STATE_IDLE, 11);
  {
    auto store = RollupStore::Open(store_dir_.path());
    Projection p(log_.get(), store->get(), Calendars());
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.CatchUp(), 7u);
  }
  auto resumed = RollupStore::Open(store_dir_.path());
  auto rebuilt = RollupStore::Open(rebuilt_dir.path());
  Projection p(log_.get(), rebuilt->get(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  EXPECT_EQ(*p.CatchUp(), 11u);
  EXPECT_EQ(*(*resumed)->DumpUnitHours(), *(*rebuilt)->DumpUnitHours());
  EXPECT_EQ((*(*resumed)->SumFacility("plant-1", Local(15), Local(16)))[Element::kApt], 60 * kMinute);
}

TEST_F(ProjectionTest, AnEventForAFacilityWithoutCalendarStopsWithoutWriting) {
  State("plant-1", Local(6), sv1::UNIT_STATE_RUNNING, 1);
  State("plant-1", Local(7), sv1::UNIT_STATE_IDLE, 2);
  State("ghost-1", Local(7), sv1::UNIT_STATE_IDLE, 1);
  auto store = RollupStore::Open(store_dir_.path());
  Projection p(log_.get(), store->get(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  auto r = p.CatchUp();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("ghost-1"), std::string::npos);
  EXPECT_TRUE((*store)->LoadCursor("scheduling")->empty());
  EXPECT_TRUE((*store)->DumpUnitHours()->empty());
}

// Issue 12.2: a facility whose recorded time zone this machine cannot load
// (tzdata lacks it) is parked: its events are skipped, every other
// facility goes on; once its calendar loads, the rollups are rebuilt from
// the log and equal a rebuild that never lacked the zone.
TEST_F(ProjectionTest, AFacilityWhoseZoneIsMissingIsParkedAndRebuiltOnceItLoads) {
  bool mars_loads = false;
  CalendarLookup calendars = [&](const std::string& f) -> const kpi::FacilityCalendar* {
    if (f == "mars-1") return mars_loads ? calendar_.get() : nullptr;
    return f.rfind("plant-", 0) == 0 ? calendar_.get() : nullptr;
  };
  ProjectionOptions o;
  o.zone_missing = [&](const std::string& f) { return f == "mars-1" && !mars_loads; };
  State("plant-1", Local(6), sv1::UNIT_STATE_RUNNING, 1);
  State("mars-1", Local(6), sv1::UNIT_STATE_RUNNING, 1);
  Count("mars-1", Local(7), 50, 0, 2);
  State("plant-1", Local(8), sv1::UNIT_STATE_IDLE, 2);
  State("mars-1", Local(8), sv1::UNIT_STATE_IDLE, 3);
  auto store = RollupStore::Open(store_dir_.path());
  {
    Projection p(log_.get(), store->get(), calendars, o);
    ASSERT_TRUE(p.Start().ok());
    auto applied = p.CatchUp();
    ASSERT_TRUE(applied.ok()) << applied.status();  // not stopped by mars-1
    EXPECT_EQ(*applied, 5u);
    EXPECT_EQ(p.stats().events_parked, 3u);
    EXPECT_EQ((*(*store)->SumFacility("plant-1", Local(6), Local(8)))[Element::kApt], 120 * kMinute);
    EXPECT_EQ(*(*store)->SumFacility("mars-1", Local(0), Local(23)), kpi::ElementSums{});
    EXPECT_EQ(*(*store)->Parked("scheduling"), std::set<std::string>{"mars-1"});
    // Later events of both: plant-1's applied, mars-1's skipped.
    State("plant-1", Local(9), sv1::UNIT_STATE_RUNNING, 3);
    State("mars-1", Local(9), sv1::UNIT_STATE_RUNNING, 4);
    EXPECT_EQ(*p.CatchUp(), 2u);
  }
  // A restart still lacking the zone keeps it parked (no rebuild).
  {
    Projection p(log_.get(), store->get(), calendars, o);
    ASSERT_TRUE(p.Start().ok());
    EXPECT_EQ(*p.CatchUp(), 0u);
    EXPECT_EQ(p.stats().rebuilds, 0u);
  }
  // tzdata installed: rebuilt from the log, mars-1 counted, nothing parked.
  mars_loads = true;
  Projection p(log_.get(), store->get(), calendars, o);
  ASSERT_TRUE(p.Start().ok());
  auto rebuilt = p.CatchUp();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(*rebuilt, 7u);
  EXPECT_EQ(p.stats().rebuilds, 1u);
  EXPECT_TRUE((*store)->Parked("scheduling")->empty());
  EXPECT_EQ((*(*store)->SumFacility("mars-1", Local(6), Local(8)))[Element::kApt], 120 * kMinute);
  testing::TempDir fresh_dir;
  auto fresh = RollupStore::Open(fresh_dir.path());
  Projection f(log_.get(), fresh->get(), calendars);
  ASSERT_TRUE(f.Start().ok());
  ASSERT_TRUE(f.CatchUp().ok());
  EXPECT_EQ(*(*store)->DumpUnitHours(), *(*fresh)->DumpUnitHours());
}

TEST_F(ProjectionTest, CommittedSchedulesAndCompletionsGiveAdherenceAndDelivery) {
  // Plans of plant-1, in its stream "plant-1.plan".
  auto plan = [&](const google::protobuf::Message& m, uint64_t seq) {
    Append("plant-1.plan", Local(5), std::string(m.GetDescriptor()->full_name()),
           m.SerializeAsString(), seq);
  };
  auto create = [&](const std::string& id, absl::Time due, uint64_t seq) {
    sv1::WorkOrderCreated w;
    w.set_work_order(id);
    w.set_product("bracket");
    w.set_quantity(10);
    *w.mutable_due_time() = ToProto(due);
    plan(w, seq);
  };
  auto commit = [&](std::vector<std::tuple<std::string, absl::Time, absl::Time>> windows, uint64_t seq) {
    sv1::ScheduleCommitted c;
    for (const auto& [id, start, end] : windows) {
      auto* o = c.mutable_schedule()->add_orders();
      o->set_work_order(id);
      *o->mutable_planned_start() = ToProto(start);
      *o->mutable_planned_end() = ToProto(end);
    }
    plan(c, seq);
  };
  auto complete = [&](const std::string& id, absl::Time at, uint64_t seq) {
    sv1::WorkOrderCompleted w;
    w.set_work_order(id);
    *w.mutable_completed_time() = ToProto(at);
    plan(w, seq);
  };
  create("wo-1", Local(12), 1);
  create("wo-2", Local(12), 2);
  create("wo-3", Local(20), 3);
  create("wo-4", Local(20), 4);
  // First plan, then a re-plan that moves wo-2's window later: only the
  // last committed window counts.
  commit({{"wo-1", Local(6), Local(10)}, {"wo-2", Local(8), Local(11)}}, 5);
  commit({{"wo-1", Local(6), Local(10)}, {"wo-2", Local(10), Local(13)},
          {"wo-3", Local(12), Local(16)}, {"wo-4", Local(14), Local(18)}}, 6);
  complete("wo-1", Local(9, 30), 7);   // in window, on time (0.5 h early... vs due 12:00: 2.5 h early)
  complete("wo-2", Local(12, 30), 8);  // in window, 0.5 h late
  complete("wo-3", Local(17), 9);      // after its window, 3 h early
  sv1::WorkOrderCancelled cancel;
  cancel.set_work_order("wo-4");
  plan(cancel, 10);                    // cancelled: not counted at all

  auto store = RollupStore::Open(store_dir_.path());
  Projection p(log_.get(), store->get(), Calendars());
  ASSERT_TRUE(p.Start().ok());
  ASSERT_EQ(*p.CatchUp(), 10u);
  auto day = (*store)->SumFacility("plant-1", Local(0), Local(23, 59));
  ASSERT_TRUE(day.ok());
  EXPECT_EQ((*day)[Element::kOrdersScheduled], 3);
  EXPECT_EQ((*day)[Element::kOrdersInWindow], 2);
  EXPECT_EQ((*day)[Element::kOrdersCompleted], 3);
  EXPECT_EQ((*day)[Element::kOrdersWithDue], 3);
  EXPECT_EQ((*day)[Element::kOrdersOnTime], 2);
  EXPECT_EQ((*day)[Element::kOrdersLate], 1);
  EXPECT_EQ((*day)[Element::kLateness], (-150 + 30 - 180) * kMinute);
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("schedule_adherence"), *day), 100.0 * 2 / 3, 1e-9);
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("on_time_completion"), *day), 100.0 * 2 / 3, 1e-9);
  EXPECT_NEAR(*kpi::Evaluate(*kpi::FindKpi("mean_lateness"), *day), -300.0 / 60 / 3, 1e-9);
  EXPECT_EQ(*kpi::Evaluate(*kpi::FindKpi("late_orders"), *day), 1);
  // wo-2 counts as scheduled in the hour of its last planned end (13:00),
  // not of the first one (11:00).
  auto eleven = (*store)->SumFacility("plant-1", Local(11), Local(12));
  EXPECT_EQ((*eleven)[Element::kOrdersScheduled], 0);
  auto thirteen = (*store)->SumFacility("plant-1", Local(13), Local(14));
  EXPECT_EQ((*thirteen)[Element::kOrdersScheduled], 1);

  // Stopped part-way and resumed: the same sums as this rebuild.
  testing::TempDir resumed_dir;
  {
    auto resumed = RollupStore::Open(resumed_dir.path());
    ProjectionOptions o;
    o.max_events_per_batch = 3;
    Projection part(log_.get(), resumed->get(), Calendars(), o);
    ASSERT_TRUE(part.Start().ok());
    ASSERT_EQ(*part.Step(absl::ZeroDuration()), 3u);
  }
  auto resumed = RollupStore::Open(resumed_dir.path());
  Projection rest(log_.get(), resumed->get(), Calendars());
  ASSERT_TRUE(rest.Start().ok());
  EXPECT_EQ(*rest.CatchUp(), 7u);
  EXPECT_EQ(*(*resumed)->SumFacility("plant-1", Local(0), Local(23, 59)), *day);
}

// Rebuilds the rollups from `log` into `dir` with the final model and
// expects them equal to `live` row for row: unit hours, and the production
// days of `facilities` over [from, to].
void ExpectLiveEqualsRebuild(eventlog::EventLog* log, RollupStore& live, const std::string& dir,
                             CalendarLookup lookup, const ProjectionOptions& options,
                             const std::vector<std::string>& facilities, absl::CivilDay from,
                             absl::CivilDay to) {
  auto store = RollupStore::Open(dir);
  ASSERT_TRUE(store.ok());
  Projection rebuilt(log, store->get(), std::move(lookup), options);
  ASSERT_TRUE(rebuilt.Start().ok());
  ASSERT_TRUE(rebuilt.CatchUp().ok());
  EXPECT_EQ(rebuilt.stats().rebuilds, 0u);
  auto a = live.DumpUnitHours();
  auto b = (*store)->DumpUnitHours();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(*a == *b) << a->size() << " vs " << b->size() << " unit-hour rows";
  for (const std::string& f : facilities) {
    auto da = live.FacilityDays(f, from, to);
    auto db = (*store)->FacilityDays(f, from, to);
    ASSERT_TRUE(da.ok() && db.ok());
    EXPECT_FALSE(db->empty()) << f;
    EXPECT_TRUE(*da == *db) << f;
  }
}

// Regression (issue 11.6): after a calendar change, 6 of 36 answers of the
// running projection differed from a rebuild. Property: over random
// observations (late ones included) interleaved with random calendar
// changes (time zones with half-hour offsets, day starts, shifts), the
// live projection, which meets each change mid-stream, equals a rebuild
// from the log with the final model, row for row.
TEST(ProjectionCalendarChangeTest, LiveEqualsRebuildOverRandomModelChanges) {
  const char* const kZones[] = {"Europe/Berlin", "America/Chicago", "Asia/Kolkata", "Asia/Tokyo",
                                "Australia/Adelaide", "UTC"};
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    testing::TempDir dir;
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir.path();
    auto log = eventlog::OpenEmbeddedLog(lo);
    ASSERT_TRUE(log.ok());
    model::EnterpriseModel model;
    auto calendar_of = [](const std::string& zone, int day_start_hour, bool shifts) {
      enterprise::v1::Calendar c;
      c.set_time_zone(zone);
      c.set_day_start(absl::StrFormat("%02d:00", day_start_hour));
      if (shifts) {
        for (int k = 0; k < 3; ++k) {
          auto* sh = c.add_shifts();
          sh->set_name(std::string(1, static_cast<char>('A' + k)));
          sh->set_start(absl::StrFormat("%02d:00", (day_start_hour + 8 * k) % 24));
          sh->set_end(absl::StrFormat("%02d:00", (day_start_hour + 8 * k + 8) % 24));
        }
      }
      return c;
    };
    for (const char* f : {"plant-1", "plant-2"}) {
      enterprise::v1::FacilityDefined def;
      def.set_facility(f);
      *def.mutable_calendar() = calendar_of(kZones[rng() % 6], static_cast<int>(rng() % 24), true);
      auto events = model.Decide(def);
      ASSERT_TRUE(events.ok()) << events.status();
      for (const auto& e : *events) ASSERT_TRUE(model.Apply(e).ok());
    }
    auto lookup = [&](const std::string& f) { return model.Calendar(f); };
    auto live_store = RollupStore::Open(dir.path() + "/live");
    ASSERT_TRUE(live_store.ok());
    Projection live(log->get(), live_store->get(), lookup);
    ASSERT_TRUE(live.Start().ok());
    absl::Time clock = absl::FromCivil(absl::CivilSecond(2026, 3, 20, 0, 0, 0), absl::UTCTimeZone());
    uint64_t seq = 0;
    int changes = 0;
    for (int step = 0; step < 1500; ++step) {
      clock += absl::Minutes(1 + rng() % 60);
      const std::string facility = rng() % 2 ? "plant-1" : "plant-2";
      if (rng() % 100 < 2) {
        // A calendar change, from a production day at least a day ahead.
        enterprise::v1::FacilityDefined def = model.Facility(facility)->definition;
        *def.mutable_calendar() =
            calendar_of(kZones[rng() % 6], static_cast<int>(rng() % 24), rng() % 2 == 0);
        absl::TimeZone zone;
        ASSERT_TRUE(absl::LoadTimeZone(def.calendar().time_zone(), &zone));
        const absl::CivilDay day = absl::CivilDay(zone.At(clock).cs) + 2 + rng() % 3;
        def.mutable_calendar()->set_effective_from(absl::FormatCivilTime(day));
        auto events = model.Decide(def, clock);
        if (!events.ok()) continue;  // e.g. it would leave the old last day empty
        for (const auto& e : *events) ASSERT_TRUE(model.Apply(e).ok());
        ++changes;
        continue;
      }
      // An observation, up to 3 hours late.
      const absl::Time at = clock - absl::Minutes(rng() % 180);
      eventlog::AppendRequest r;
      r.context = "scheduling";
      r.facility = facility;
      eventlog::Envelope e;
      e.set_schema_version(1);
      *e.mutable_occurred_time() = ToProto(at);
      e.set_source_id("gw");
      e.set_source_sequence(++seq);
      const std::string unit = rng() % 2 ? "u1" : "u2";
      if (rng() % 3 == 0) {
        sv1::ProductionCounted c;
        c.set_work_unit(unit);
        c.set_good(1 + rng() % 50);
        c.set_scrap(rng() % 3);
        c.set_planned_run_time_per_item_us(20'000'000);
        e.set_event_type("takt.scheduling.v1.ProductionCounted");
        e.set_payload(c.SerializeAsString());
      } else {
        sv1::UnitStateChanged c;
        c.set_work_unit(unit);
        c.set_state(static_cast<sv1::UnitState>(1 + rng() % 6));
        e.set_event_type("takt.scheduling.v1.UnitStateChanged");
        e.set_payload(c.SerializeAsString());
      }
      r.events.push_back(e);
      ASSERT_TRUE((*log)->Append(r).ok());
      if (step % 50 == 0) {
        ASSERT_TRUE(live.CatchUp().ok());
      }
    }
    ASSERT_TRUE(live.CatchUp().ok());
    EXPECT_GE(changes, 4);  // the property is exercised
    EXPECT_GT((*live_store)->DumpUnitHours()->size(), 100u);
    ExpectLiveEqualsRebuild(log->get(), **live_store, dir.path() + "/rebuilt", lookup, {},
                            {"plant-1", "plant-2"}, absl::CivilDay(2026, 3, 1),
                            absl::CivilDay(2026, 6, 1));
  }
}

// Regression (found by review of issue 11.6): an order committed with a
// planned end after a calendar change decided later was counted on the
// old calendar's production day, and its completion under the new one:
// live differed from a rebuild. The projection now rebuilds when a new
// change reaches a stored order, and equals a rebuild.
TEST(ProjectionCalendarChangeTest, OrdersPlannedBeyondALaterCalendarChangeEqualARebuild) {
  testing::TempDir dir;
  eventlog::EmbeddedLogOptions lo;
  lo.data_dir = dir.path();
  auto log = eventlog::OpenEmbeddedLog(lo);
  ASSERT_TRUE(log.ok());
  model::EnterpriseModel model;
  enterprise::v1::FacilityDefined def;
  def.set_facility("plant-1");
  def.mutable_calendar()->set_time_zone("America/Detroit");
  def.mutable_calendar()->set_day_start("06:00");
  auto defined = model.Decide(def);
  ASSERT_TRUE(defined.ok()) << defined.status();
  for (const auto& e : *defined) ASSERT_TRUE(model.Apply(e).ok());
  auto lookup = [&](const std::string& f) { return model.Calendar(f); };
  ProjectionOptions po;
  po.calendar_changes = [&] {
    std::vector<std::pair<std::string, absl::Time>> out;
    const kpi::FacilityCalendar* cal = model.Calendar("plant-1");
    if (cal->LatestChange() != absl::InfinitePast()) out.emplace_back("plant-1", cal->LatestChange());
    return out;
  };
  uint64_t seq = 0;
  auto plan = [&](const google::protobuf::Message& m, absl::Time at) {
    eventlog::AppendRequest r;
    r.context = "scheduling";
    r.facility = "plant-1.plan";
    eventlog::Envelope e;
    e.set_schema_version(1);
    e.set_event_type(std::string(m.GetDescriptor()->full_name()));
    *e.mutable_occurred_time() = ToProto(at);
    e.set_request_id("r" + std::to_string(++seq));
    e.set_payload(m.SerializeAsString());
    r.events.push_back(e);
    ASSERT_TRUE((*log)->Append(r).ok());
  };
  const absl::Time now = absl::FromCivil(absl::CivilSecond(2026, 12, 1, 12, 0, 0), absl::UTCTimeZone());
  const absl::Time planned_end = absl::FromCivil(absl::CivilSecond(2026, 12, 12, 2, 0, 0), absl::UTCTimeZone());
  sv1::WorkOrderCreated created;
  created.set_work_order("wo-1");
  created.set_product("door");
  created.set_quantity(5);
  plan(created, now);
  sv1::ScheduleCommitted committed;
  auto* o = committed.mutable_schedule()->add_orders();
  o->set_work_order("wo-1");
  *o->mutable_planned_start() = ToProto(planned_end - absl::Hours(2));
  *o->mutable_planned_end() = ToProto(planned_end);
  plan(committed, now);
  auto live_store = RollupStore::Open(dir.path() + "/live");
  ASSERT_TRUE(live_store.ok());
  Projection live(log->get(), live_store->get(), lookup, po);
  ASSERT_TRUE(live.Start().ok());
  ASSERT_TRUE(live.CatchUp().ok());
  // The next day, Detroit moves to Tokyo time from production day 12-10.
  def.mutable_calendar()->set_time_zone("Asia/Tokyo");
  def.mutable_calendar()->set_effective_from("2026-12-10");
  auto decided = model.Decide(def, now + absl::Hours(24));
  ASSERT_TRUE(decided.ok()) << decided.status();
  for (const auto& e : *decided) ASSERT_TRUE(model.Apply(e).ok());
  sv1::WorkOrderCompleted completed;
  completed.set_work_order("wo-1");
  *completed.mutable_completed_time() = ToProto(planned_end + absl::Hours(24));
  plan(completed, planned_end + absl::Hours(24));
  ASSERT_TRUE(live.CatchUp().ok());
  ASSERT_TRUE(live.CatchUp().ok());
  EXPECT_EQ(live.stats().rebuilds, 1u);
  ExpectLiveEqualsRebuild(log->get(), **live_store, dir.path() + "/rebuilt", lookup, po,
                          {"plant-1"}, absl::CivilDay(2026, 12, 1), absl::CivilDay(2026, 12, 31));
}

}  // namespace
}  // namespace takt::scheduling
