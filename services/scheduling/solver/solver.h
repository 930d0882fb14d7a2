// File: solver.h
// -----------------------------------------------------------------------------
// The finite-capacity scheduler. A construction heuristic (Giffler-Thompson
// active schedule generation with a priority rule: most work remaining for
// makespan, least slack for due dates) gives a first plan; a tabu search
// over the sequence of each work unit then improves it within a time or
// iteration budget. Its moves come from critical blocks (maximal runs of
// operations on one unit on a critical chain): an operation moved to the
// front or back of its block, the block's first or last moved inside it
// (Balas & Vazacopoulos / Zhang et al. N7), and an operation moved to an
// alternative unit. Recently reversed pairs of operations are tabu unless
// the move beats the best plan; long stagnation restarts from the best plan
// with a few random critical moves.
//
// For the classic job shop (no calendars, setups, alternatives or release
// dates; makespan) moves are scored with the standard head/tail estimate
// and only the chosen move is evaluated exactly; otherwise every candidate
// is decoded exactly with calendars and setups.
//
// Backward mode minimises tardiness first, then shifts every operation as
// late as its successors, its unit and its job's due date allow (just in
// time), keeping the sequences.
//
// Deterministic for a seed when the iteration budget, not the clock, ends
// the search.
#ifndef TAKT_SERVICES_SCHEDULING_SOLVER_SOLVER_H_
#define TAKT_SERVICES_SCHEDULING_SOLVER_SOLVER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/scheduling/solver/problem.h"

namespace takt::sched {

enum class Objective { kMakespan, kWeightedTardiness, kLateJobs };
enum class Direction { kForward, kBackward };

struct SolveOptions {
  Objective objective = Objective::kMakespan;
  Direction direction = Direction::kForward;
  absl::Duration time_limit = absl::Seconds(10);
  int64_t max_iterations = -1;  // < 0: no limit
  uint64_t seed = 1;
  // Stop as soon as the objective reaches this value (a known optimum).
  std::optional<double> target;
};

struct SolveResult {
  Schedule schedule;
  ScheduleKpis kpis;
  ScheduleKpis initial;  // the construction heuristic's plan
  int64_t iterations = 0;
  double seconds = 0;
  // Each improvement of the best plan: (seconds since start, objective).
  std::vector<std::pair<double, double>> trace;
  std::string note;  // e.g. why a backward plan could not meet every due date
};

// Fails with INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION naming the
// culprit when the problem is malformed or cannot be scheduled.
absl::StatusOr<SolveResult> Solve(const Problem& problem, const SolveOptions& options);

std::string_view ObjectiveName(Objective o);
absl::StatusOr<Objective> ParseObjective(std::string_view name);

}  // namespace takt::sched

#endif  // TAKT_SERVICES_SCHEDULING_SOLVER_SOLVER_H_
