// File: simulate.h
// -----------------------------------------------------------------------------
// `takt staffing simulate` (and staffing's part of `takt simulate`): the
// people of the demo plants (the enterprise `takt simulate` defines, same
// --facilities/--days/--seed): qualifications, one operator per station and
// shift plus spares, certificates of which some expire soon and one expires
// during the simulated days (a coverage gap follows), the roster, clock
// punches with overtime and a few unplanned absences (one batch resent),
// and a few safety incidents; then the staffing section of a director's
// summary: coverage gaps, certificates expiring soon, TRIR by region.
// Personal names are synthetic. Deterministic for a seed.
#ifndef TAKT_SERVICES_STAFFING_SIMULATE_H_
#define TAKT_SERVICES_STAFFING_SIMULATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "takt/staffing/v1/staffing_service.pb.h"
#include "libs/common/default_address.h"

namespace takt::staffing {

struct StaffingSimOptions {
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  absl::CivilDay start;
};

struct StaffingSimulation {
  std::vector<std::string> facilities;
  std::vector<std::string> regions;
  std::vector<v1::ApplyStaffRequest> records;   // per facility
  std::vector<v1::RosterRequest> rosters;       // per facility
  std::vector<v1::AttendanceBatch> batches;     // per facility and day (one resent)
  std::vector<v1::ApplyStaffRequest> incidents;  // per facility (absences, incidents)
  // The person whose certificate expires during the simulated days.
  std::string expiring_facility, expiring_person;
};
StaffingSimulation SimulateStaffing(const StaffingSimOptions& options);

struct StaffingSimArgs {
  std::string target = kDefaultAddress;
  StaffingSimOptions options;
  std::string start;  // YYYY-MM-DD; empty: days before yesterday (as takt simulate)
};
int RunStaffingSimulate(const StaffingSimArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_SIMULATE_H_
