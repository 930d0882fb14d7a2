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
#include "libs/cli/grpc_client.h"

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

// A context's step: said and skipped when --target has no address for
// `service`; otherwise `run` gets the context's simulation arguments
// (`Args` with target, start and options {facilities, days, seed, start})
// for the same plants and days, after `heading` is printed.
template <typename Args, typename Run>
void AddContextSimulateStep(const std::string& service, const std::string& heading, Run run) {
  AddSimulateStep(service, [service, heading, run](const SimulateRun& r, std::ostream& out, std::ostream& err) {
    if (!TargetFor(r.target, service).ok()) {
      out << service << ": no " << service << " address in --target; its simulation skipped\n";
      return 0;
    }
    Args args;
    args.target = r.target;
    args.options = {r.facilities, r.days, r.seed, r.start};
    args.start = absl::FormatCivilTime(r.start);
    out << heading << "\n";
    return run(args, out, err);
  });
}

// The first simulated day: --start (YYYY-MM-DD), or when empty the day that
// makes `days` days end yesterday (UTC). A bad --start is reported on `err`
// as "takt: <command>: --start: ..." and gives nullopt.
std::optional<absl::CivilDay> SimulationStart(const std::string& start, int days,
                                              const std::string& command, std::ostream& err);
const std::vector<std::pair<std::string, SimulateStep>>& SimulateSteps();

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_SIMULATE_STEPS_H_
