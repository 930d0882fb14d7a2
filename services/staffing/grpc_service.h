// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.staffing.v1.StaffingService over a Staffing (staffing.h): thin handlers.
#ifndef TAKT_SERVICES_STAFFING_GRPC_SERVICE_H_
#define TAKT_SERVICES_STAFFING_GRPC_SERVICE_H_

#include <memory>

#include "services/staffing/staffing.h"

namespace grpc {
class Service;
}

namespace takt::staffing {

std::unique_ptr<grpc::Service> NewStaffingService(Staffing* staffing, model::ModelStore* models,
                                                  bool follows_model);

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_GRPC_SERVICE_H_
