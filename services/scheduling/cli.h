// File: cli.h
// -----------------------------------------------------------------------------
// The scheduling context's commands: `takt ingest` (observations from JSON
// Lines), `takt simulate` (plants and gateways through the public API) and
// `takt schedule ...` (schedule_cli.h).
#ifndef TAKT_SERVICES_SCHEDULING_CLI_H_
#define TAKT_SERVICES_SCHEDULING_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>
#include "libs/common/default_address.h"

namespace CLI {
class App;
}

namespace takt::cli {

struct IngestArgs {
  std::string target = kDefaultAddress;
  std::string file;
  bool json = false;
};

struct SimulateArgs {
  std::string target = kDefaultAddress;
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  std::string start;  // first production day; default: `days` days before yesterday
  bool summary = true;
  bool json = false;  // one JSON object of counts; no summary (use takt rollup --json)
};

int RunIngest(const IngestArgs& args, std::ostream& out, std::ostream& err);
// Sends a simulated enterprise and its gateways' observations through the
// public API, then prints a director's summary.
int RunSimulate(const SimulateArgs& args, std::ostream& out, std::ostream& err);

// Adds the commands above to `app`; their callbacks set *exit_code.
void AddSchedulingCommands(CLI::App& app, int* exit_code);

}  // namespace takt::cli

#endif  // TAKT_SERVICES_SCHEDULING_CLI_H_
