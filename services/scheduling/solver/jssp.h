// File: jssp.h
// -----------------------------------------------------------------------------
// Classic job-shop benchmark instances (OR-Library format: "jobs machines",
// then per job "machine time" pairs in technological order) as scheduling
// problems, and schedules in the benchmark's output format
// ("job op machine start end", 0-based).
#ifndef TAKT_SERVICES_SCHEDULING_SOLVER_JSSP_H_
#define TAKT_SERVICES_SCHEDULING_SOLVER_JSSP_H_

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/scheduling/solver/problem.h"

namespace takt::sched {

struct JsspInstance {
  int jobs = 0;
  int machines = 0;
  Problem problem;  // op index = job * machines + position
};

// Errors name the line and what is wrong.
absl::StatusOr<JsspInstance> ParseJssp(std::string_view text);
absl::StatusOr<JsspInstance> ReadJsspFile(const std::string& path);

// One line per operation: "job op machine start end".
std::string FormatJsspSchedule(const JsspInstance& instance, const Schedule& schedule);

// bounds.csv of the benchmark set: instance -> best known makespan
// (the optimum when known, else the upper bound).
absl::StatusOr<std::map<std::string, int64_t>> ReadJsspBounds(const std::string& path);

}  // namespace takt::sched

#endif  // TAKT_SERVICES_SCHEDULING_SOLVER_JSSP_H_
