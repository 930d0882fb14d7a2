// File: module.h
// -----------------------------------------------------------------------------
// Audit as a module (libs/host/module.h): it reads every registered context
// (replay, export, verification; explain compares with the rollups of the
// same process), owns context "audit" (the record of who read which
// history), serves AuditService and adds `takt audit ...`.
#ifndef TAKT_SERVICES_AUDIT_MODULE_H_
#define TAKT_SERVICES_AUDIT_MODULE_H_

#include "libs/host/module.h"

namespace takt::audit {

host::ModuleInfo Module();

}  // namespace takt::audit

#endif  // TAKT_SERVICES_AUDIT_MODULE_H_
