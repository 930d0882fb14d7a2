#include "libs/host/rpc.h"

#include "absl/strings/str_cat.h"
#include "libs/auth/transport.h"

namespace takt::host {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

std::string Actor(const grpc::ServerContext* ctx) { return auth::PrincipalOf(ctx).Actor(); }

grpc::Status CheckBatchFacility(const grpc::ServerContext* ctx, const std::string& facility) {
  const auth::Principal p = auth::PrincipalOf(ctx);
  if (p.kind != auth::PrincipalKind::kFacilitySystem || p.name == facility) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat(p.Actor(), " may write only its own facility's data, not facility '",
                                   facility.substr(0, 64), "'; the batches before it were acknowledged"));
}

}  // namespace takt::host
