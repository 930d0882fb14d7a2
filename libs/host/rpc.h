// File: rpc.h
// -----------------------------------------------------------------------------
// What every gRPC handler shares: absl::Status to grpc::Status, and the
// actor recorded for a call.
#ifndef TAKT_LIBS_HOST_RPC_H_
#define TAKT_LIBS_HOST_RPC_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"

namespace takt::host {

// The same code and message (absl and gRPC share the canonical codes).
grpc::Status ToGrpc(const absl::Status& s);

// Who made the call. Authentication comes later; until then the peer's
// address (without its ephemeral port): "peer:ipv4:127.0.0.1".
std::string Actor(const grpc::ServerContext* ctx);

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_RPC_H_
