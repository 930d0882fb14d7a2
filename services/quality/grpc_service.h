// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.quality.v1.QualityService over a Quality (quality.h): thin handlers.
#ifndef TAKT_SERVICES_QUALITY_GRPC_SERVICE_H_
#define TAKT_SERVICES_QUALITY_GRPC_SERVICE_H_

#include <memory>

#include "services/quality/quality.h"

namespace grpc {
class Service;
}

namespace takt::quality {

std::unique_ptr<grpc::Service> NewQualityService(Quality* quality, model::ModelStore* models,
                                                 bool follows_model);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_GRPC_SERVICE_H_
