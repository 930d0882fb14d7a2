#include "services/enterprise/grpc_service.h"

#include "libs/host/rpc.h"

namespace takt::enterprise {

grpc::Status EnterpriseServiceImpl::ApplyDefinitions(grpc::ServerContext* ctx,
                                                     const v1::ApplyDefinitionsRequest* request,
                                                     v1::ApplyDefinitionsResponse* response) {
  auto r = definitions_->Apply(*request, {host::Actor(ctx), absl::Now()});
  if (!r.ok()) return host::ToGrpc(r.status());
  *response = *std::move(r);
  return grpc::Status::OK;
}

}  // namespace takt::enterprise
