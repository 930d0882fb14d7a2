#include "services/scheduling/solver/jssp.h"

#include "gtest/gtest.h"
#include "services/scheduling/solver/solver.h"

namespace takt::sched {
namespace {

// Fisher & Thompson's 6x6 instance (OR-Library ft06), optimum 55.
constexpr char kFt06[] = R"(6 6
2 1 0 3 1 6 3 7 5 3 4 6
1 8 2 5 4 10 5 10 0 10 3 4
2 5 3 4 5 8 0 9 1 1 4 7
1 5 0 5 2 5 3 3 4 8 5 9
2 9 1 3 4 5 5 4 0 3 3 1
1 3 3 3 5 9 0 10 4 4 2 1
)";

TEST(JsspTest, Ft06IsSolvedToItsOptimumOf55) {
  auto inst = ParseJssp(kFt06);
  ASSERT_TRUE(inst.ok()) << inst.status();
  SolveOptions o;
  o.time_limit = absl::Seconds(20);
  o.target = 55;
  auto r = Solve(inst->problem, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kpis.makespan, 55);
  EXPECT_GT(r->initial.makespan, 55);  // the search, not the heuristic, found it
  EXPECT_TRUE(CheckSchedule(inst->problem, r->schedule).ok());
  // The output: 36 lines "job op machine start end" matching the instance.
  const std::string text = FormatJsspSchedule(*inst, r->schedule);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 36);
  EXPECT_EQ(text.substr(0, 6), "0 0 2 ");
}

TEST(JsspTest, MalformedInstancesNameTheLine) {
  EXPECT_NE(ParseJssp("").status().message().find("empty"), std::string::npos);
  EXPECT_NE(ParseJssp("2 x\n").status().message().find("line 1"), std::string::npos);
  EXPECT_NE(ParseJssp("2 2\n0 1 1 2\n").status().message().find("expected 2 job lines"),
            std::string::npos);
  EXPECT_NE(ParseJssp("1 2\n0 1 1\n").status().message().find("line 2"), std::string::npos);
  EXPECT_NE(ParseJssp("1 2\n0 1 5 2\n").status().message().find("machine 5"), std::string::npos);
  EXPECT_NE(ParseJssp("1 2\n0 1 1 -2\n").status().message().find("negative"), std::string::npos);
}

TEST(JsspTest, OperationsThatTakeNoTimeAreScheduled) {
  // orb07 has zero-length operations; the construction must still pick one.
  auto inst = ParseJssp("2 2\n0 0 1 3\n1 0 0 2\n");
  ASSERT_TRUE(inst.ok());
  SolveOptions o;
  o.max_iterations = 100;
  auto r = Solve(inst->problem, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kpis.makespan, 3);
  EXPECT_TRUE(CheckSchedule(inst->problem, r->schedule).ok());
}

TEST(JsspTest, SameSeedAndIterationsGiveTheSameSchedule) {
  auto inst = ParseJssp(kFt06);
  SolveOptions o;
  o.max_iterations = 3000;
  o.time_limit = absl::Hours(1);
  o.seed = 7;
  auto a = Solve(inst->problem, o);
  auto b = Solve(inst->problem, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(FormatJsspSchedule(*inst, a->schedule), FormatJsspSchedule(*inst, b->schedule));
}

}  // namespace
}  // namespace takt::sched
