// File: schedule_cli.h
// -----------------------------------------------------------------------------
// `takt schedule jssp` (solve a classic job-shop instance with the
// scheduler's engine) and `takt bench schedule` (gaps to the best known
// makespans over a directory of instances).
#ifndef TAKT_SERVICES_SCHEDULING_SCHEDULE_CLI_H_
#define TAKT_SERVICES_SCHEDULING_SCHEDULE_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>
#include "libs/common/default_address.h"

namespace takt::cli {

struct ScheduleJsspArgs {
  std::string instance;
  double time_limit = 10;
  uint64_t seed = 1;
  int64_t iterations = -1;  // < 0: the time limit ends the search
  std::string out;          // schedule file; empty: standard output
  bool json = false;
};
int RunScheduleJssp(const ScheduleJsspArgs& args, std::ostream& out, std::ostream& err);

struct BenchScheduleArgs {
  std::string dir;  // required: the data set lives outside the repository
  double time_limit = 10;  // per instance
  uint64_t seed = 1;
  std::string only;        // instance name prefix, e.g. "la" or "ft10"
  bool json = false;
};
int RunBenchSchedule(const BenchScheduleArgs& args, std::ostream& out, std::ostream& err);

// Client commands of the scheduling service (--target as for the other
// client commands: one address, or "scheduling=HOST:PORT" among others).
struct ScheduleClientArgs {
  std::string target = kDefaultAddress;
  std::string facility;
  std::string file;  // apply: PlanningCommand JSON lines; commit: a proposal's JSON
  std::string objective = "makespan";
  std::string direction = "forward";
  std::string horizon_start;  // RFC 3339; default: now
  int horizon_days = 90;
  double time_limit = 2;
  int64_t iterations = 0;
  uint64_t seed = 1;
  std::string out;  // propose: write the proposal's JSON here (for commit)
  bool respect_crew = false;  // propose: only in shifts the roster staffs
  bool json = false;
};
int RunScheduleApply(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err);
int RunSchedulePropose(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err);
int RunScheduleCommit(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err);
int RunScheduleOrders(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_SERVICES_SCHEDULING_SCHEDULE_CLI_H_
