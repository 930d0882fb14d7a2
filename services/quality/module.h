// File: module.h
// -----------------------------------------------------------------------------
// The quality context's ModuleInfo (libs/host/module.h): it owns context
// "quality" (streams F and F.qms of each facility), serves
// takt.quality.v1.QualityService, brings the families "quality" and
// "capability" to the rollups and adds `takt quality ...`.
#ifndef TAKT_SERVICES_QUALITY_MODULE_H_
#define TAKT_SERVICES_QUALITY_MODULE_H_

#include "libs/host/module.h"

namespace takt::quality {

host::ModuleInfo Module();

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_MODULE_H_
