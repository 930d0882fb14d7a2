// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.enterprise.v1.EnterpriseService: thin handlers over Definitions,
// each authorized first (host::Authorize).
#ifndef TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
#define TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_

#include "services/enterprise/definitions.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"

namespace takt::enterprise {

class EnterpriseServiceImpl final : public v1::EnterpriseService::Service {
 public:
  EnterpriseServiceImpl(Definitions* definitions, model::ModelStore* models)
      : definitions_(definitions), models_(models) {}

  grpc::Status ApplyDefinitions(grpc::ServerContext* ctx, const v1::ApplyDefinitionsRequest* request,
                                v1::ApplyDefinitionsResponse* response) override;
  grpc::Status GrantRole(grpc::ServerContext* ctx, const v1::RoleRequest* request,
                         v1::RoleResponse* response) override;
  grpc::Status RevokeRole(grpc::ServerContext* ctx, const v1::RoleRequest* request,
                          v1::RoleResponse* response) override;
  grpc::Status ListRoleBindings(grpc::ServerContext* ctx, const v1::ListRoleBindingsRequest* request,
                                v1::ListRoleBindingsResponse* response) override;

 private:
  Definitions* definitions_;
  model::ModelStore* models_;
};

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
