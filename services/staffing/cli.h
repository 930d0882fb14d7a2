// File: cli.h
// -----------------------------------------------------------------------------
// `takt staffing ...`: the staff record from YAML, rosters, attendance from
// time clocks, coverage, expiring certificates, personal views, exports and
// erasure, as clients of takt.staffing.v1.StaffingService.
#ifndef TAKT_SERVICES_STAFFING_CLI_H_
#define TAKT_SERVICES_STAFFING_CLI_H_

#include <string>

#include "absl/status/statusor.h"
#include "takt/staffing/v1/staffing_service.pb.h"

namespace CLI {
class App;
}

namespace takt::staffing {

void AddStaffingCommands(CLI::App& app, int* exit_code);

// A staff file (YAML: facility, commands) as a request; errors name the
// line and the command at fault.
absl::StatusOr<v1::ApplyStaffRequest> StaffFromYaml(const std::string& text);

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_CLI_H_
