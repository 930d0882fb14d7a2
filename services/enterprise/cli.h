// File: cli.h
// -----------------------------------------------------------------------------
// `takt apply`: the enterprise model a YAML file describes, sent to the
// enterprise service (idempotent; --dry-run prints the events it would
// write). `takt access`: people's roles on the enterprise, regions and
// facilities.
#ifndef TAKT_SERVICES_ENTERPRISE_CLI_H_
#define TAKT_SERVICES_ENTERPRISE_CLI_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>
#include "libs/common/default_address.h"

namespace CLI {
class App;
}

namespace takt::cli {

struct ApplyArgs {
  std::string target = kDefaultAddress;
  std::string file;
  bool dry_run = false;  // print the events it would write, write nothing
  bool json = false;
};

int RunApply(const ApplyArgs& args, std::ostream& out, std::ostream& err);

// `takt access grant|revoke|list`: role bindings (libs/auth/access.h).
struct AccessArgs {
  std::string target = kDefaultAddress;
  std::string action;  // grant, revoke, list
  std::string subject, role, scope, reason;
  bool json = false;
};

int RunAccess(const AccessArgs& args, std::ostream& out, std::ostream& err);

// Adds the commands above to `app`; their callbacks set *exit_code.
void AddEnterpriseCommands(CLI::App& app, int* exit_code);

}  // namespace takt::cli

#endif  // TAKT_SERVICES_ENTERPRISE_CLI_H_
