// File: module.h
// -----------------------------------------------------------------------------
// The rollups as a module (libs/host/module.h): the projection from the log
// into the RollupStore (its own loop, its readiness as the service's gRPC
// health), RollupService for directors, and `takt rollup`. It writes no
// context; it offers its store to the other modules of the process
// (audit's explain compares with it).
#ifndef TAKT_SERVICES_ROLLUPS_MODULE_H_
#define TAKT_SERVICES_ROLLUPS_MODULE_H_

#include "libs/host/module.h"

namespace takt::rollup {

host::ModuleInfo Module();

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_MODULE_H_
