// File: module.h
// -----------------------------------------------------------------------------
// The scheduling context as a module (libs/host/module.h): it owns each
// facility's shop-floor stream "<facility>" and planning stream
// "<facility>.plan", serves FacilityIngestService and SchedulingService,
// adds `takt ingest`, `takt simulate` and `takt schedule ...`, and
// contributes the production folds of the rollups (services/rollups).
#ifndef TAKT_SERVICES_SCHEDULING_MODULE_H_
#define TAKT_SERVICES_SCHEDULING_MODULE_H_

#include "libs/host/module.h"

namespace takt::scheduling {

host::ModuleInfo Module();

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_MODULE_H_
