#include "services/scheduling/solver/problem.h"

#include "gtest/gtest.h"

namespace takt::sched {
namespace {

TEST(UnitCalendarTest, FitsWithinWindowsOrSplitsAcrossThem) {
  auto cal = UnitCalendar::FromWindows({{0, 10}, {20, 30}, {40, 100}});
  ASSERT_TRUE(cal.ok());
  EXPECT_EQ(*cal->Fit(5, 5, false), (std::vector<Interval>{{5, 10}}));
  EXPECT_EQ(*cal->Fit(5, 6, false), (std::vector<Interval>{{20, 26}}));
  EXPECT_EQ(*cal->Fit(5, 12, false), (std::vector<Interval>{{40, 52}}));
  EXPECT_EQ(*cal->Fit(5, 12, true), (std::vector<Interval>{{5, 10}, {20, 27}}));
  EXPECT_FALSE(cal->Fit(50, 60, false).has_value());
  EXPECT_FALSE(cal->Fit(0, 100, true).has_value());  // only 80 of capacity
  EXPECT_EQ(*cal->FitBackward(35, 5, false), (std::vector<Interval>{{25, 30}}));
  EXPECT_EQ(*cal->FitBackward(35, 12, true), (std::vector<Interval>{{8, 10}, {20, 30}}));
  EXPECT_FALSE(cal->FitBackward(35, 11, false).has_value());
  EXPECT_FALSE(UnitCalendar::FromWindows({{0, 10}, {5, 20}}).ok());
  EXPECT_FALSE(UnitCalendar::FromWindows({{10, 10}}).ok());
}

Problem TwoOps() {
  Problem p;
  p.units = {Unit{"press", {}}, Unit{"lathe", {}}};
  p.jobs = {Job{"order-1", 0, 100, 1}};
  p.ops = {Operation{"cut", 0, {{0, 10}}, {}, 0, "", false},
           Operation{"turn", 0, {{1, 5}}, {0}, 0, "", false}};
  return p;
}

TEST(ValidateTest, BadInputIsRejectedNamingTheCulprit) {
  EXPECT_TRUE(Validate(TwoOps()).ok());
  {
    Problem p = TwoOps();
    p.ops[1].options[0].unit = 7;
    auto s = Validate(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
    EXPECT_NE(s.message().find("'turn'"), std::string::npos) << s;
  }
  {
    Problem p = TwoOps();
    p.ops[0].options[0].duration = -1;
    EXPECT_NE(Validate(p).message().find("'cut' has a negative duration"), std::string::npos);
  }
  {
    Problem p = TwoOps();
    p.ops[0].predecessors = {1};  // cut after turn after cut
    auto s = Validate(p);
    EXPECT_NE(s.message().find("cyclic"), std::string::npos) << s;
    EXPECT_NE(s.message().find("cut"), std::string::npos) << s;
    EXPECT_NE(s.message().find("turn"), std::string::npos) << s;
  }
  {
    Problem p = TwoOps();
    p.jobs[0].weight = -1;
    EXPECT_NE(Validate(p).message().find("'order-1' has a negative weight"), std::string::npos);
  }
  {
    Problem p = TwoOps();
    p.units[1].calendar = *UnitCalendar::FromWindows({{0, 3}});  // nothing fits 5
    auto s = Validate(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("'turn'"), std::string::npos) << s;
    EXPECT_NE(s.message().find("'lathe' has no capacity"), std::string::npos) << s;
  }
}

TEST(CheckScheduleTest, CatchesEveryKindOfViolation) {
  Problem p = TwoOps();
  Schedule good{{Assignment{0, 0, 0, 10, {}}, Assignment{1, 10, 10, 15, {}}}};
  EXPECT_TRUE(CheckSchedule(p, good).ok());
  Schedule early = good;
  early.ops[1] = Assignment{1, 8, 8, 13, {}};
  EXPECT_NE(CheckSchedule(p, early).message().find("before its predecessor"), std::string::npos);
  Schedule short_op = good;
  short_op.ops[0].end = 9;
  EXPECT_FALSE(CheckSchedule(p, short_op).ok());
  Schedule wrong_unit = good;
  wrong_unit.ops[0].unit = 1;
  EXPECT_NE(CheckSchedule(p, wrong_unit).message().find("cannot use"), std::string::npos);
  // Overlap on one unit.
  Problem two = TwoOps();
  two.ops[1].options = {{0, 5}};
  two.ops[1].predecessors = {};
  Schedule overlap{{Assignment{0, 0, 0, 10, {}}, Assignment{0, 5, 5, 10, {}}}};
  EXPECT_NE(CheckSchedule(two, overlap).message().find("overlaps"), std::string::npos);
  // Outside a calendar.
  Problem cal = TwoOps();
  cal.units[0].calendar = *UnitCalendar::FromWindows({{0, 8}, {20, 40}});
  EXPECT_NE(CheckSchedule(cal, good).message().find("outside the calendar"), std::string::npos);
  // Release dates and setups.
  Problem rel = TwoOps();
  rel.jobs[0].release = 2;
  EXPECT_NE(CheckSchedule(rel, good).message().find("release"), std::string::npos);
  Problem setup = TwoOps();
  setup.ops[1].setup = 3;
  EXPECT_FALSE(CheckSchedule(setup, good).ok());
  Schedule with_setup{{Assignment{0, 0, 0, 10, {}}, Assignment{1, 7, 10, 15, {}}}};
  EXPECT_TRUE(CheckSchedule(setup, with_setup).ok());  // set up while the cut runs
}

}  // namespace
}  // namespace takt::sched
