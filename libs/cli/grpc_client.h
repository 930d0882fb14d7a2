// File: grpc_client.h
// -----------------------------------------------------------------------------
// What every client command shares: finding a service's address in
// --target, and reporting a failed call.
#ifndef TAKT_LIBS_CLI_GRPC_CLIENT_H_
#define TAKT_LIBS_CLI_GRPC_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"

namespace takt::cli {

// The address of `service` in a --target value: either one address for all
// services ("host:port") or one per service
// ("enterprise=host:port,scheduling=host:port,rollups=host:port").
absl::StatusOr<std::string> TargetFor(const std::string& target, const std::string& service);

// A channel to `service`; a bad --target is reported on `err` and gives null.
// Plaintext unless TAKT_TLS_CA names the server's CA certificate (PEM);
// then TLS, with the client certificate TAKT_TLS_CERT and key TAKT_TLS_KEY
// when set (facility systems, services) and the bearer token TAKT_TOKEN
// when set (people).
std::shared_ptr<grpc::Channel> Connect(const std::string& target, const std::string& service,
                                       std::ostream& err);

// Protobuf JSON of a message, field names as in the .proto files.
std::string ToJson(const google::protobuf::Message& message);

// Prints "takt: what: message (gRPC code N)"; returns exit code 2.
int Fail(std::ostream& err, const std::string& what, const grpc::Status& s);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_GRPC_CLIENT_H_
