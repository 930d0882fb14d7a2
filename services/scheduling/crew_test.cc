#include "services/scheduling/crew.h"

#include "gtest/gtest.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::scheduling {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::staffing::v1;

// 2026-03-02, a Monday; shifts A 06-14 and B 14-22 UTC.
const absl::Time kMonday = absl::FromCivil(absl::CivilDay(2026, 3, 2), absl::UTCTimeZone());

template <typename M>
void Put(model::EnterpriseModel& m, const M& desired) {
  auto events = m.Decide(desired);
  ASSERT_TRUE(events.ok()) << events.status();
  for (const auto& e : *events) ASSERT_TRUE(m.Apply(e).ok());
}

class CrewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ev1::FacilityDefined f;
    f.set_facility("plant");
    f.mutable_calendar()->set_time_zone("UTC");
    f.mutable_calendar()->set_day_start("06:00");
    for (auto [n, s, e] : {std::tuple{"A", "06:00", "14:00"}, std::tuple{"B", "14:00", "22:00"}}) {
      auto* shift = f.mutable_calendar()->add_shifts();
      shift->set_name(n);
      shift->set_start(s);
      shift->set_end(e);
    }
    Put(model_, f);
    ev1::AreaDefined a;
    a.set_facility("plant");
    a.set_area("main");
    Put(model_, a);
    ev1::WorkCenterDefined w;
    w.set_facility("plant");
    w.set_area("main");
    w.set_work_center("press");
    Put(model_, w);
    for (const char* u : {"press-1", "press-2"}) {
      ev1::WorkUnitDefined d;
      d.set_facility("plant");
      d.set_work_center("press");
      d.set_work_unit(u);
      Put(model_, d);
    }
  }

  void Require(const std::string& station, const std::string& shift, uint32_t people,
               std::vector<std::string> quals) {
    sv1::StationRequirementSet r;
    r.set_station(station);
    r.set_shift(shift);
    r.set_min_people(people);
    for (auto& q : quals) r.add_qualifications(q);
    ASSERT_TRUE(crew_.Apply(es::EventOf(r)).ok());
  }
  void Cover(const std::string& day, const std::string& shift, const std::string& station,
             uint32_t qualified) {
    sv1::CoverageChanged c;
    c.set_day(day);
    c.set_shift(shift);
    c.set_station(station);
    c.set_qualified(qualified);
    c.set_assigned(qualified + 1);
    ASSERT_TRUE(crew_.Apply(es::EventOf(c)).ok());
  }

  model::EnterpriseModel model_;
  CrewFacts crew_;
};

TEST_F(CrewTest, AStationWithoutEnoughQualifiedPeopleClosesItsUnitsForThatShift) {
  Require("press", "", 2, {"press-cert", "forklift"});
  Cover("2026-03-02", "A", "press", 2);  // Monday A staffed
  Cover("2026-03-02", "B", "press", 1);  // Monday B one short
  // Tuesday: no roster at all.
  auto gaps = CrewGaps(crew_, model_, "plant", kMonday + absl::Hours(6), kMonday + absl::Hours(31));
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_EQ(gaps[0].day, "2026-03-02");
  EXPECT_EQ(gaps[0].shift, "B");
  EXPECT_EQ(gaps[0].qualified, 1u);
  EXPECT_EQ(gaps[0].required, 2u);
  EXPECT_EQ(gaps[0].start, kMonday + absl::Hours(14));
  EXPECT_EQ(gaps[0].end, kMonday + absl::Hours(22));
  EXPECT_EQ(gaps[0].work_units, (std::vector<std::string>{"press-1", "press-2"}));
  EXPECT_EQ(gaps[1].day, "2026-03-03");
  EXPECT_EQ(gaps[1].shift, "A");
  EXPECT_EQ(gaps[1].qualified, 0u);
  EXPECT_EQ(DescribeGap(gaps[0]),
            "station 'press' on shift B of 2026-03-02: 1 of 2 qualified (press-cert, forklift)");
}

TEST_F(CrewTest, AShiftsOwnRequirementWinsAndAUnitStationClosesOnlyItself) {
  Require("press", "", 2, {"press-cert"});
  Require("press", "B", 0, {"press-cert"});  // B needs nobody at the work center
  Require("press-2", "B", 1, {"crane"});
  auto gaps = CrewGaps(crew_, model_, "plant", kMonday + absl::Hours(14), kMonday + absl::Hours(22));
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].station, "press-2");
  EXPECT_EQ(gaps[0].work_units, (std::vector<std::string>{"press-2"}));
  // A requirement set to nothing is removed: no gaps at all.
  Require("press", "", 0, {});
  Require("press-2", "B", 0, {});
  Require("press", "B", 0, {});
  EXPECT_TRUE(CrewGaps(crew_, model_, "plant", kMonday, kMonday + absl::Hours(72)).empty());
}

TEST_F(CrewTest, TheLatestCoverageCountsAndOtherEventsAreIgnored) {
  Require("press", "A", 1, {});
  Cover("2026-03-02", "A", "press", 1);
  Cover("2026-03-02", "A", "press", 0);  // a certificate revoked: short again
  sv1::PersonRegistered other;
  other.set_person("p-1");
  ASSERT_TRUE(crew_.Apply(es::EventOf(other)).ok());
  auto gaps = CrewGaps(crew_, model_, "plant", kMonday + absl::Hours(6), kMonday + absl::Hours(14));
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].qualified, 0u);
  // A station the model does not have closes nothing; an unreadable
  // payload is an error, not a silent skip.
  Require("ghost", "", 3, {});
  EXPECT_EQ(CrewGaps(crew_, model_, "plant", kMonday + absl::Hours(6), kMonday + absl::Hours(14)).size(), 1u);
  es::Event bad{std::string(sv1::CoverageChanged::descriptor()->full_name()), "\xff\xff"};
  EXPECT_EQ(crew_.Apply(bad).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace takt::scheduling
