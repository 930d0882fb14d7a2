// File: module.h
// -----------------------------------------------------------------------------
// The staffing context's ModuleInfo (libs/host/module.h): it owns context
// "staffing" (streams F and F.staff of each facility), serves
// takt.staffing.v1.StaffingService, keeps the personal-data keys under
// DATA_DIR/personal-keys, brings the family "staffing" (hours, coverage, safety) to
// the rollups and adds `takt staffing ...`.
//
// Safety lives in this context, not one of its own: an incident names a
// person (pseudonymous), a station and a shift of the roster, its narrative
// is personal data sealed under the same per-person keys (one erasure
// reaches it), and its rates are per hour worked, which attendance records
// here. A separate context would need this one's keys and hours.
#ifndef TAKT_SERVICES_STAFFING_MODULE_H_
#define TAKT_SERVICES_STAFFING_MODULE_H_

#include "libs/host/module.h"

namespace takt::staffing {

host::ModuleInfo Module();

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_MODULE_H_
