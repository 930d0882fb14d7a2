// File: cli.h
// -----------------------------------------------------------------------------
// `takt rollup`: KPI queries against the rollups service.
#ifndef TAKT_SERVICES_ROLLUPS_CLI_H_
#define TAKT_SERVICES_ROLLUPS_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>
#include "libs/common/default_address.h"

namespace CLI {
class App;
}

namespace takt::cli {

struct RollupArgs {
  std::string target = kDefaultAddress;
  std::string scope = "enterprise";
  std::vector<std::string> kpis;
  std::string from, to, by;
  bool pareto = false;
  bool json = false;
};

int RunRollup(const RollupArgs& args, std::ostream& out, std::ostream& err);

// Adds the commands above to `app`; their callbacks set *exit_code.
void AddRollupsCommands(CLI::App& app, int* exit_code);

}  // namespace takt::cli

#endif  // TAKT_SERVICES_ROLLUPS_CLI_H_
