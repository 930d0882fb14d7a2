// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.budgets.v1.BudgetsService over a Budgets (budgets.h): thin handlers.
#ifndef TAKT_SERVICES_BUDGETS_GRPC_SERVICE_H_
#define TAKT_SERVICES_BUDGETS_GRPC_SERVICE_H_

#include <memory>

#include "services/budgets/budgets.h"

namespace grpc {
class Service;
}

namespace takt::budgets {

std::unique_ptr<grpc::Service> NewBudgetsService(Budgets* budgets, model::ModelStore* models, bool follows_model);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_GRPC_SERVICE_H_
