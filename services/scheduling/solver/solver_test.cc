// Tests of the solver itself (issue 12.7): whatever the search does, the
// plans it returns are feasible (checked by CheckSchedule on every kind of
// problem, objective, direction and search budget); the search never
// returns worse than its own construction and never worse with a longer
// budget; a seed and a budget give one schedule; sequence-dependent setups
// are honoured; small instances reach their exact optimum, found here by
// enumerating every machine order.
#include "services/scheduling/solver/solver.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>
#include <random>

#include "gtest/gtest.h"

namespace takt::sched {
namespace {

// A job shop with `jobs` x `machines` operations, random routes and times.
Problem RandomJobShop(int jobs, int machines, uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p;
  for (int m = 0; m < machines; ++m) p.units.push_back(Unit{"m" + std::to_string(m), {}});
  for (int j = 0; j < jobs; ++j) {
    p.jobs.push_back(Job{"j" + std::to_string(j), 0, kNoDue, 1});
    std::vector<int> route(machines);
    std::iota(route.begin(), route.end(), 0);
    std::shuffle(route.begin(), route.end(), rng);
    for (int k = 0; k < machines; ++k) {
      Operation op;
      op.id = "j" + std::to_string(j) + "o" + std::to_string(k);
      op.job = j;
      op.options = {Option{route[k], static_cast<Time>(1 + rng() % 9)}};
      if (k > 0) op.predecessors = {static_cast<int>(p.ops.size()) - 1};
      p.ops.push_back(op);
    }
  }
  return p;
}

// The same, flexible: alternative units with their own durations, setups
// by family with a sequence-dependent matrix, release and due dates, and a
// unit with working windows.
Problem RandomFlexibleShop(uint32_t seed) {
  std::mt19937 rng(seed);
  Problem p = RandomJobShop(6, 4, seed);
  auto windows = UnitCalendar::FromWindows({{0, 40}, {50, 90}, {100, 1000}});
  p.units[3].calendar = *windows;
  const char* families[] = {"red", "blue", "green"};
  for (Operation& op : p.ops) {
    const int alt = (op.options[0].unit + 1 + static_cast<int>(rng() % 3)) % 4;
    op.options.push_back(Option{alt, op.options[0].duration + static_cast<Time>(rng() % 4)});
    op.family = families[rng() % 3];
    op.setup = static_cast<Time>(rng() % 3);
    op.splittable = rng() % 4 == 0;
  }
  for (Job& j : p.jobs) {
    j.release = static_cast<Time>(rng() % 10);
    j.due = 20 + static_cast<Time>(rng() % 40);
    j.weight = 1 + static_cast<double>(rng() % 3);
  }
  for (int u = 0; u < 4; ++u) {
    for (const char* a : families) {
      for (const char* b : families) {
        if (std::string(a) != b) p.sequence_setups[SetupKey{u, a, b}] = 2 + static_cast<Time>(rng() % 4);
      }
    }
  }
  p.horizon = 100000;
  return p;
}

double ObjectiveValue(const ScheduleKpis& k, Objective o) {
  switch (o) {
    case Objective::kMakespan: return static_cast<double>(k.makespan);
    case Objective::kWeightedTardiness: return k.weighted_tardiness;
    case Objective::kLateJobs: return k.late_jobs;
  }
  return 0;
}

TEST(SolverTest, EveryPlanItReturnsIsFeasibleWhateverTheBudgetObjectiveOrDirection) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    for (const Problem& p : {RandomJobShop(5, 4, seed), RandomFlexibleShop(seed)}) {
      ASSERT_TRUE(Validate(p).ok()) << Validate(p);
      for (Objective objective :
           {Objective::kMakespan, Objective::kWeightedTardiness, Objective::kLateJobs}) {
        for (Direction direction : {Direction::kForward, Direction::kBackward}) {
          for (int64_t budget : {0, 1, 7, 60, 400}) {
            SolveOptions o;
            o.objective = objective;
            o.direction = direction;
            o.max_iterations = budget;
            o.seed = seed;
            auto r = Solve(p, o);
            ASSERT_TRUE(r.ok()) << r.status();
            absl::Status feasible = CheckSchedule(p, r->schedule);
            EXPECT_TRUE(feasible.ok()) << "seed " << seed << " objective "
                                       << ObjectiveName(objective) << " budget " << budget
                                       << ": " << feasible;
            if (direction == Direction::kForward) {
              // Never worse than its own construction heuristic.
              EXPECT_LE(ObjectiveValue(r->kpis, objective), ObjectiveValue(r->initial, objective) + 1e-9);
            }
          }
        }
      }
    }
  }
}

TEST(SolverTest, TheBestIsKeptAndALongerSearchIsNeverWorse) {
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    const Problem p = RandomJobShop(8, 5, seed);
    double previous = 1e18;
    for (int64_t budget : {10, 100, 1000, 5000}) {
      SolveOptions o;
      o.max_iterations = budget;
      o.seed = seed;
      auto r = Solve(p, o);
      ASSERT_TRUE(r.ok());
      const double value = static_cast<double>(r->kpis.makespan);
      // The same seed explores the same moves first: more of them can only
      // keep or improve the best (tabu moves are taken only when they beat
      // it: aspiration).
      EXPECT_LE(value, previous) << "seed " << seed << " budget " << budget;
      previous = value;
      // The trace of improvements only ever goes down, to the result.
      for (size_t i = 1; i < r->trace.size(); ++i) {
        EXPECT_LT(r->trace[i].second, r->trace[i - 1].second);
      }
      if (!r->trace.empty()) {
        EXPECT_EQ(r->trace.back().second, value);
      }
    }
  }
}

TEST(SolverTest, ASeedAndABudgetGiveOneSchedule) {
  const Problem p = RandomFlexibleShop(11);
  SolveOptions o;
  o.objective = Objective::kWeightedTardiness;
  o.max_iterations = 500;
  o.seed = 42;
  auto a = Solve(p, o);
  auto b = Solve(p, o);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->schedule.ops.size(), b->schedule.ops.size());
  for (size_t i = 0; i < a->schedule.ops.size(); ++i) {
    EXPECT_EQ(a->schedule.ops[i].unit, b->schedule.ops[i].unit) << i;
    EXPECT_EQ(a->schedule.ops[i].start, b->schedule.ops[i].start) << i;
    EXPECT_EQ(a->schedule.ops[i].end, b->schedule.ops[i].end) << i;
  }
}

// One unit, six orders of two families, 10 to change family, 0 within one:
// the best plan runs each family together (one changeover), and the
// solver's plan pays exactly the setups the matrix asks for.
TEST(SolverTest, SequenceDependentSetupsAreHonouredAndMinimised) {
  Problem p;
  p.units.push_back(Unit{"press", {}});
  for (int j = 0; j < 6; ++j) {
    p.jobs.push_back(Job{"o" + std::to_string(j), 0, kNoDue, 1});
    Operation op;
    op.id = "o" + std::to_string(j);
    op.job = j;
    op.options = {Option{0, 5}};
    op.family = j % 2 == 0 ? "red" : "blue";
    p.ops.push_back(op);
  }
  p.sequence_setups[SetupKey{0, "red", "blue"}] = 10;
  p.sequence_setups[SetupKey{0, "blue", "red"}] = 10;
  SolveOptions o;
  o.max_iterations = 2000;
  auto r = Solve(p, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(CheckSchedule(p, r->schedule).ok()) << CheckSchedule(p, r->schedule);
  EXPECT_EQ(r->kpis.makespan, 6 * 5 + 10);
  // Any plan that changes family more often is longer: check the order.
  std::vector<int> order(6);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    return r->schedule.ops[a].start < r->schedule.ops[b].start;
  });
  int changes = 0;
  for (size_t i = 1; i < order.size(); ++i) {
    if (p.ops[order[i]].family != p.ops[order[i - 1]].family) ++changes;
  }
  EXPECT_EQ(changes, 1);
}

// The exact optimum of a small job shop: every order of every machine,
// each evaluated by longest paths (orders that form a cycle are skipped).
Time BruteForceMakespan(const Problem& p, int machines) {
  std::vector<std::vector<int>> on(machines);
  for (int i = 0; i < static_cast<int>(p.ops.size()); ++i) on[p.ops[i].options[0].unit].push_back(i);
  for (auto& ops : on) std::sort(ops.begin(), ops.end());
  Time best = std::numeric_limits<Time>::max();
  std::function<void(int)> choose = [&](int m) {
    if (m == machines) {
      std::vector<Time> start(p.ops.size(), 0);
      // Relax until stable; more rounds than operations means a cycle.
      for (size_t round = 0; round <= p.ops.size() + 1; ++round) {
        bool changed = false;
        for (size_t i = 0; i < p.ops.size(); ++i) {
          Time s = 0;
          for (int pred : p.ops[i].predecessors) {
            s = std::max(s, start[pred] + p.ops[pred].options[0].duration);
          }
          const auto& seq = on[p.ops[i].options[0].unit];
          auto it = std::find(seq.begin(), seq.end(), static_cast<int>(i));
          if (it != seq.begin()) s = std::max(s, start[*(it - 1)] + p.ops[*(it - 1)].options[0].duration);
          if (s != start[i]) {
            start[i] = s;
            changed = true;
          }
        }
        if (!changed) {
          Time makespan = 0;
          for (size_t i = 0; i < p.ops.size(); ++i) {
            makespan = std::max(makespan, start[i] + p.ops[i].options[0].duration);
          }
          best = std::min(best, makespan);
          return;
        }
      }
      return;  // a cycle
    }
    do {
      choose(m + 1);
    } while (std::next_permutation(on[m].begin(), on[m].end()));
  };
  choose(0);
  return best;
}

TEST(SolverTest, SmallJobShopsReachTheirExactOptimum) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    const Problem p = RandomJobShop(4, 3, seed);
    const Time optimum = BruteForceMakespan(p, 3);
    SolveOptions o;
    o.max_iterations = 3000;
    o.seed = seed;
    auto r = Solve(p, o);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kpis.makespan, optimum) << "seed " << seed;
    EXPECT_TRUE(CheckSchedule(p, r->schedule).ok());
  }
}

}  // namespace
}  // namespace takt::sched
