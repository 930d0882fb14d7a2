// File: simulate_steps.h
// -----------------------------------------------------------------------------
// What other contexts add to `takt simulate`: after the production
// simulation (scheduling's), each registered step sends its own data for the
// same plants and days through its service and prints its part of the
// summary (quality: measurements, inspections, signals, NCRs). Modules
// register their step with their CLI commands (ModuleInfo::add_commands), so
// the scheduling context names none of them.
#ifndef TAKT_LIBS_CLI_SIMULATE_STEPS_H_
#define TAKT_LIBS_CLI_SIMULATE_STEPS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/civil_time.h"

namespace takt::cli {

struct SimulateRun {
  std::string target;  // as given to takt simulate (--target)
  int facilities = 0;
  int days = 0;
  uint64_t seed = 0;
  absl::CivilDay start;
};

// Returns an exit code (0 done, 2 failed); a step whose service has no
// address in the target says so and returns 0.
using SimulateStep = std::function<int(const SimulateRun&, std::ostream& out, std::ostream& err)>;

void AddSimulateStep(std::string name, SimulateStep step);

// The first simulated day: --start (YYYY-MM-DD), or when empty the day that
// makes `days` days end yesterday (UTC). A bad --start is reported on `err`
// as "takt: <command>: --start: ..." and gives nullopt.
std::optional<absl::CivilDay> SimulationStart(const std::string& start, int days,
                                              const std::string& command, std::ostream& err);
const std::vector<std::pair<std::string, SimulateStep>>& SimulateSteps();

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_SIMULATE_STEPS_H_
