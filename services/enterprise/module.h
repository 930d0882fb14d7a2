// File: module.h
// -----------------------------------------------------------------------------
// The enterprise context as a module (libs/host/module.h): it owns stream
// enterprise/enterprise (regions, facilities, equipment, products,
// calendars), serves EnterpriseService and adds `takt apply`.
#ifndef TAKT_SERVICES_ENTERPRISE_MODULE_H_
#define TAKT_SERVICES_ENTERPRISE_MODULE_H_

#include "libs/host/module.h"

namespace takt::enterprise {

host::ModuleInfo Module();

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_MODULE_H_
