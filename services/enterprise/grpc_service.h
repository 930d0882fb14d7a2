// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.enterprise.v1.EnterpriseService: thin handlers over Definitions.
#ifndef TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
#define TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_

#include "services/enterprise/definitions.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"

namespace takt::enterprise {

class EnterpriseServiceImpl final : public v1::EnterpriseService::Service {
 public:
  explicit EnterpriseServiceImpl(Definitions* definitions) : definitions_(definitions) {}

  grpc::Status ApplyDefinitions(grpc::ServerContext* ctx, const v1::ApplyDefinitionsRequest* request,
                                v1::ApplyDefinitionsResponse* response) override;

 private:
  Definitions* definitions_;
};

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
