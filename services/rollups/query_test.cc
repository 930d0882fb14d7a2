#include "services/rollups/query.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/kpi/unit_timeline.h"
#include "libs/testing/temp_dir.h"

namespace takt::rollup {
namespace {

using kpi::Element;
namespace ev1 = ::takt::enterprise::v1;

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = RollupStore::Open(dir_.path());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    for (const char* r : {"americas", "emea"}) {
      ev1::RegionDefined region;
      region.set_region(r);
      Put(region);
    }
    Facility("chicago-1", "America/Chicago", "americas");
    Facility("berlin-1", "Europe/Berlin", "emea");
  }
  void Put(const google::protobuf::Message& m) {
    auto events = model_.Decide(m);
    ASSERT_TRUE(events.ok()) << events.status();
    for (const auto& e : *events) ASSERT_TRUE(model_.Apply(e).ok());
  }
  void Facility(const std::string& id, const std::string& zone, const std::string& region) {
    ev1::FacilityDefined f;
    f.set_facility(id);
    f.mutable_calendar()->set_time_zone(zone);
    f.mutable_calendar()->set_day_start("06:00");
    for (auto [n, st, en] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"},
                             std::tuple{"C", "22:00", "06:00"}}) {
      auto* shift = f.mutable_calendar()->add_shifts();
      shift->set_name(n);
      shift->set_start(st);
      shift->set_end(en);
    }
    Put(f);
    ev1::AreaDefined a;
    a.set_facility(id);
    a.set_area("assembly");
    Put(a);
    ev1::WorkCenterDefined w;
    w.set_facility(id);
    w.set_area("assembly");
    w.set_work_center("line-1");
    Put(w);
    for (const char* u : {"u1", "u2"}) {
      ev1::WorkUnitDefined unit;
      unit.set_facility(id);
      unit.set_work_center("line-1");
      unit.set_work_unit(u);
      Put(unit);
    }
    ev1::FacilityMoved mv;
    mv.set_facility(id);
    mv.set_region(region);
    mv.set_effective_from("2026-01-01");
    Put(mv);
  }
  // Runs `unit` of `facility` from `from` to `to` at `oee` (losses as idle).
  void Run(const std::string& facility, const std::string& unit, absl::Time from, absl::Time to,
           double oee) {
    kpi::UnitTimeline t(model_.Calendar(facility));
    // A heartbeat a day: a state holds for at most kpi::kMaxStateSpan.
    for (absl::Time at = from; at < to; at += absl::Hours(24)) {
      t.ChangeState(at, kpi::UnitState::kRunning);
    }
    t.ChangeState(to, kpi::UnitState::kIdle);
    std::vector<UnitHourDelta> deltas;
    for (auto& [hour, sums] : t.Totals()) {
      kpi::ElementSums s = sums;
      const int64_t apt = s[Element::kApt];
      s[Element::kApt] = static_cast<int64_t>(oee * apt);
      s[Element::kAdot] = apt - s[Element::kApt];
      s[Element::kPriPq] = s[Element::kPriGq] = s[Element::kApt];
      deltas.push_back({facility, unit, hour, s, model_.Calendar(facility)->ProductionDay(hour)});
    }
    ASSERT_TRUE(store_->Apply(deltas, "scheduling", {}, false).ok());
  }
  absl::Time Local(const std::string& facility, int y, int mo, int d, int h) {
    return absl::FromCivil(absl::CivilSecond(y, mo, d, h, 0, 0), model_.Calendar(facility)->zone());
  }
  QueryResult Query(const std::string& scope, absl::CivilDay from, absl::CivilDay to,
                    const std::string& by = "") {
    QueryRequest q;
    q.scope = *ParseScope(scope);
    q.kpis = {"oee", "availability"};
    q.from = from;
    q.to = to;
    q.by = *ParseBreakdown(by);
    auto r = RunQuery(*store_, model_, q);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : QueryResult{};
  }

  testing::TempDir dir_;
  std::unique_ptr<RollupStore> store_;
  model::EnterpriseModel model_;
};

TEST_F(QueryTest, EnterpriseOeeIsARatioOfSumsOverFacilitiesAndTimeZones) {
  // Chicago: 10 h at 90 %; Berlin: 990 h at 50 % (41 days and 6 hours).
  Run("chicago-1", "u1", Local("chicago-1", 2026, 5, 4, 6), Local("chicago-1", 2026, 5, 4, 16), 0.9);
  Run("berlin-1", "u1", Local("berlin-1", 2026, 4, 1, 6), Local("berlin-1", 2026, 4, 1, 6) + absl::Hours(990), 0.5);
  QueryResult r = Query("enterprise", absl::CivilDay(2026, 3, 1), absl::CivilDay(2026, 6, 30), "child");
  ASSERT_TRUE(r.total.kpis[0].value.has_value());
  EXPECT_NEAR(*r.total.kpis[0].value, 50.4, 1e-9);
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].label, "regions/americas");
  EXPECT_NEAR(*r.rows[0].kpis[0].value, 90.0, 1e-9);
  EXPECT_NEAR(*r.rows[1].kpis[0].value, 50.0, 1e-9);
}

TEST_F(QueryTest, AFacilityCountsInARegionOnlyFromItsMove) {
  Run("chicago-1", "u1", Local("chicago-1", 2026, 11, 1, 6), Local("chicago-1", 2026, 11, 21, 6), 1.0);
  ev1::FacilityMoved mv;
  mv.set_facility("chicago-1");
  mv.set_region("emea");
  mv.set_effective_from("2026-11-11");
  Put(mv);
  QueryResult americas = Query("regions/americas", absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 11, 30));
  QueryResult emea = Query("regions/emea", absl::CivilDay(2026, 11, 1), absl::CivilDay(2026, 11, 30));
  // 10 production days each (the fall-back hour belongs to Oct 31's
  // production day, 06:00 to 06:00).
  EXPECT_EQ(americas.total.sums[Element::kPbt], 10 * 24 * 3'600'000'000LL);
  EXPECT_EQ(emea.total.sums[Element::kPbt], 10 * 24 * 3'600'000'000LL);
}

TEST_F(QueryTest, BreakdownsByDayShiftAndChild) {
  // A whole night shift C across the fall-back night in Chicago: 9 hours.
  Run("chicago-1", "u2", Local("chicago-1", 2026, 10, 31, 22), Local("chicago-1", 2026, 11, 1, 6), 1.0);
  QueryResult shifts = Query("facilities/chicago-1", absl::CivilDay(2026, 10, 31),
                             absl::CivilDay(2026, 10, 31), "shift");
  ASSERT_EQ(shifts.rows.size(), 3u);
  EXPECT_EQ(shifts.rows[2].label, "2026-10-31/C");
  EXPECT_EQ(shifts.rows[2].sums[Element::kApt], 9 * 3'600'000'000LL);
  QueryResult days = Query("facilities/chicago-1/workCenters/line-1", absl::CivilDay(2026, 10, 30),
                           absl::CivilDay(2026, 11, 1), "day");
  ASSERT_EQ(days.rows.size(), 3u);
  EXPECT_EQ(days.rows[1].label, "2026-10-31");
  EXPECT_EQ(days.rows[1].sums[Element::kApt], 9 * 3'600'000'000LL);
  QueryResult units = Query("facilities/chicago-1", absl::CivilDay(2026, 10, 31),
                            absl::CivilDay(2026, 10, 31), "child");
  ASSERT_EQ(units.rows.size(), 2u);
  EXPECT_EQ(units.rows[1].label, "facilities/chicago-1/workUnits/u2");
  EXPECT_FALSE(units.rows[0].kpis[0].value.has_value());  // u1 has no data: no value, not 0
  QueryResult hours = Query("facilities/chicago-1/workUnits/u2", absl::CivilDay(2026, 10, 31),
                            absl::CivilDay(2026, 10, 31), "hour");
  EXPECT_EQ(hours.rows.size(), 9u);  // the repeated 01:00 hour appears twice
}

TEST_F(QueryTest, BadRequestsNameTheProblem) {
  auto run = [&](QueryRequest q) { return RunQuery(*store_, model_, q).status(); };
  QueryRequest q;
  q.scope = *ParseScope("facilities/chicago-1");
  q.from = absl::CivilDay(2026, 1, 2);
  q.to = absl::CivilDay(2026, 1, 1);
  EXPECT_EQ(run(q).code(), absl::StatusCode::kInvalidArgument);
  q.to = absl::CivilDay(2026, 1, 3);
  q.kpis = {"oee", "happiness"};
  EXPECT_THAT(std::string(run(q).message()), ::testing::HasSubstr("happiness"));
  q.kpis = {"oee"};
  q.scope = *ParseScope("facilities/nowhere");
  EXPECT_EQ(run(q).code(), absl::StatusCode::kNotFound);
  q.scope = *ParseScope("regions/apac");
  EXPECT_EQ(run(q).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseScope("facilities/").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScope("plants/x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseBreakdown("fortnight").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseScope("facilities/f/workUnits/u")->Name(), "facilities/f/workUnits/u");
  // By day: a year at most; by month or in total: ten years.
  q.scope = *ParseScope("facilities/chicago-1");
  q.from = absl::CivilDay(2020, 1, 1);
  q.to = absl::CivilDay(2021, 1, 1);  // 367 days
  q.by = Breakdown::kDay;
  EXPECT_TRUE(run(q).ok()) << run(q);
  q.to = absl::CivilDay(2021, 1, 2);
  EXPECT_THAT(std::string(run(q).message()), ::testing::HasSubstr("at most 367 days"));
  q.by = Breakdown::kMonth;
  q.to = absl::CivilDay(2029, 12, 31);  // 10 years
  EXPECT_TRUE(run(q).ok()) << run(q);
  q.by = Breakdown::kNone;
  EXPECT_TRUE(run(q).ok()) << run(q);
  q.to = absl::CivilDay(2030, 1, 1);
  EXPECT_EQ(run(q).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(QueryTest, AThreeYearMonthlyTrendSumsEveryDay) {
  // Two runs 2 years apart, read in one query by month.
  Run("chicago-1", "u1", Local("chicago-1", 2024, 3, 4, 6), Local("chicago-1", 2024, 3, 4, 16), 0.9);
  Run("chicago-1", "u1", Local("chicago-1", 2026, 3, 4, 6), Local("chicago-1", 2026, 3, 4, 16), 0.5);
  QueryResult r = Query("facilities/chicago-1", absl::CivilDay(2024, 1, 1), absl::CivilDay(2026, 12, 31), "month");
  ASSERT_EQ(r.rows.size(), 2u);  // months without data have no row
  EXPECT_EQ(r.rows[0].label, "2024-03");
  EXPECT_EQ(r.rows[1].label, "2026-03");
  EXPECT_NEAR(*r.rows[0].kpis[0].value, 90.0, 1e-9);
  EXPECT_NEAR(*r.total.kpis[0].value, 70.0, 1e-9);
}

// Regression (issue 11.2): sums wrapped, and enterprise OEE read
// -10,675,199,115 %. A sum that leaves the int64 range, in the store's
// merges or in the query's own additions, answers OUT_OF_RANGE naming the
// element; never a wrapped number.
TEST_F(QueryTest, ASumBeyondTheInt64RangeIsAnErrorNotAWrappedNumber) {
  const absl::Time hour = Local("chicago-1", 2026, 11, 24, 8);
  kpi::ElementSums big;
  big[Element::kPbt] = 3'600'000'000;
  big[Element::kPq] = std::numeric_limits<int64_t>::max() / 2 + 1;
  for (const char* unit : {"u1", "u2"}) {  // each row fits; their sum does not
    ASSERT_TRUE(store_->Apply({{"chicago-1", unit, hour, big,
                                model_.Calendar("chicago-1")->ProductionDay(hour)}},
                              "scheduling", {}, false)
                    .ok());
  }
  QueryRequest q;
  q.scope = *ParseScope("facilities/chicago-1/workCenters/line-1");
  q.kpis = {"oee"};
  q.from = q.to = absl::CivilDay(2026, 11, 24);
  auto r = RunQuery(*store_, model_, q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange) << r.status();
  EXPECT_NE(r.status().message().find("element PQ"), std::string::npos) << r.status();
  // The facility's own rows were merged by the store: overflowed there.
  q.scope = *ParseScope("facilities/chicago-1");
  r = RunQuery(*store_, model_, q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange) << r.status();
}

}  // namespace
}  // namespace takt::rollup
