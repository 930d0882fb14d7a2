// File: gateway.h
// -----------------------------------------------------------------------------
// HTTP/JSON access to the gRPC services (`takt serve --http-listen`): each
// route the modules declare (host::HttpRoute, a path template in the style
// of Google AIP-127, e.g. "/v1/{scope=regions/*}:queryKpis") maps to a
// unary method. Path variables, query parameters and a JSON body become the
// request message (protobuf's JSON mapping; an unknown parameter is
// refused, naming it), the response is the method's answer as JSON, and an
// error is JSON {"error": {"code", "status", "message"}} under the HTTP
// status of its gRPC code.
//
// The gateway is a client of its own server: it authenticates the caller
// (a bearer token, verified as gRPC verifies it; or, on an --insecure
// server, nobody) and calls the method in-process as that principal, so
// every route is authorized by the very check the gRPC method makes
// (host::Authorize). TLS with the server's certificate and key when gRPC
// has them. The HTTP parsing is cpp-httplib's (Debian).
#ifndef TAKT_LIBS_HTTP_GATEWAY_H_
#define TAKT_LIBS_HTTP_GATEWAY_H_

#include <grpcpp/channel.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "libs/auth/transport.h"

namespace takt::http {

struct Route {
  std::string verb;     // GET or POST
  std::string path;     // "/v1/{scope=regions/*}:queryKpis"
  std::string method;   // "/takt.rollups.v1.RollupService/QueryKpis"
};

struct GatewayOptions {
  std::string listen;               // host:port (port 0: any free port)
  auth::TransportOptions security;  // TLS files and the token keys, as for gRPC
  // Static files served under "/" (the dashboard) and "/lib/" (libraries
  // from Debian packages), by URL prefix to directory.
  std::map<std::string, std::string> static_dirs;
};

// A path template compiled: its regular expression and, in order, the
// request fields its variables fill. INVALID_ARGUMENT for a bad template.
struct CompiledPath {
  std::string regex;
  std::vector<std::string> fields;
};
absl::StatusOr<CompiledPath> CompilePath(const std::string& path_template);

// The request message of a route: a JSON body (an object, or empty), the
// path's variables (field, value) and the query parameters (by field name
// or its lowerCamel JSON name; repeated fields take repeated parameters or
// comma-separated values; bools true or false), through protobuf's JSON
// mapping. INVALID_ARGUMENT names an unknown, repeated or malformed one.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> RequestOf(
    const google::protobuf::Descriptor& input, const std::vector<std::pair<std::string, std::string>>& path_values,
    const std::vector<std::pair<std::string, std::string>>& params, std::string_view body);

// The HTTP status of a gRPC code (google.rpc.Code's mapping).
int HttpStatusOf(int grpc_code);

class Gateway {
 public:
  // Listens and serves until destroyed; `channel` reaches the gRPC server
  // in-process.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(const GatewayOptions& options, std::vector<Route> routes,
                                                        std::shared_ptr<grpc::Channel> channel);
  virtual ~Gateway() = default;
  virtual int port() const = 0;
  // Stops listening and waits for the requests in flight.
  virtual void Stop() = 0;
};

}  // namespace takt::http

#endif  // TAKT_LIBS_HTTP_GATEWAY_H_
