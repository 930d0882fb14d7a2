// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.enterprise.v1.EnterpriseService: thin handlers over Definitions,
// each authorized first (host::Authorize).
#ifndef TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
#define TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_

#include "services/enterprise/definitions.h"
#include "services/enterprise/navigation.h"
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

  // Navigation (navigation.h), each a read of the scope it lists under.
  grpc::Status ListRegions(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kRegion, *request, response);
  }
  grpc::Status ListFacilities(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kFacility, *request, response);
  }
  grpc::Status ListAreas(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kArea, *request, response);
  }
  grpc::Status ListWorkCenters(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kWorkCenter, *request, response);
  }
  grpc::Status ListWorkUnits(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kWorkUnit, *request, response);
  }
  grpc::Status ListProducts(grpc::ServerContext* ctx, const v1::ListElementsRequest* request,
                      v1::ListElementsResponse* response) override {
    return List(ctx, ElementKind::kProduct, *request, response);
  }
  grpc::Status GetRegion(grpc::ServerContext* ctx, const v1::GetElementRequest* request, v1::Element* response) override {
    return Get(ctx, ElementKind::kRegion, *request, response);
  }
  grpc::Status GetFacility(grpc::ServerContext* ctx, const v1::GetElementRequest* request, v1::Element* response) override {
    return Get(ctx, ElementKind::kFacility, *request, response);
  }
  grpc::Status GetProduct(grpc::ServerContext* ctx, const v1::GetElementRequest* request, v1::Element* response) override {
    return Get(ctx, ElementKind::kProduct, *request, response);
  }

 private:
  grpc::Status List(grpc::ServerContext* ctx, ElementKind kind, const v1::ListElementsRequest& request,
                    v1::ListElementsResponse* response);
  grpc::Status Get(grpc::ServerContext* ctx, ElementKind kind, const v1::GetElementRequest& request,
                   v1::Element* response);
  // Read on the element's scope (the product catalogue: read anywhere).
  grpc::Status AuthorizeRead(grpc::ServerContext* ctx, ElementKind kind, const std::string& parent_or_name);

  Definitions* definitions_;
  model::ModelStore* models_;
};

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_GRPC_SERVICE_H_
