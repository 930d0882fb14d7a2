#include "libs/host/rpc.h"

#include "absl/strings/str_cat.h"

namespace takt::host {

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

std::string Actor(const grpc::ServerContext* ctx) {
  std::string peer = ctx->peer();
  size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) peer.resize(colon);
  return absl::StrCat("peer:", peer);
}

}  // namespace takt::host
