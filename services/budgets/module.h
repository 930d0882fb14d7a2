// File: module.h
// -----------------------------------------------------------------------------
// The budgets context as a module (libs/host/module.h): it owns each
// facility's posting stream "<facility>" and budget record
// "<facility>.budget", reads scheduling's production counts for the
// flexible budget, serves BudgetsService and adds `takt budgets ...`.
#ifndef TAKT_SERVICES_BUDGETS_MODULE_H_
#define TAKT_SERVICES_BUDGETS_MODULE_H_

#include "libs/host/module.h"

namespace takt::budgets {

host::ModuleInfo Module();

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_MODULE_H_
