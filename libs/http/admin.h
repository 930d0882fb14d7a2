// File: admin.h
// -----------------------------------------------------------------------------
// The operators' endpoints on a plain HTTP port of their own (`takt serve
// --admin-listen`), for Prometheus and the orchestrator's probes:
//   GET /metrics  the Prometheus text format (libs/metrics);
//   GET /livez    200 while the process serves requests at all;
//   GET /readyz   200 when every gRPC service is SERVING (what gRPC health
//                 answers), else 503 naming those that are not.
// No authentication and no TLS: bind it to an address only the cluster
// reaches (the helm chart's NetworkPolicy does).
#ifndef TAKT_LIBS_HTTP_ADMIN_H_
#define TAKT_LIBS_HTTP_ADMIN_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace takt::http {

struct AdminOptions {
  std::string listen;  // host:port (port 0: any free port)
  std::function<std::string()> metrics;
  // Each gRPC service and whether it is SERVING.
  std::function<std::vector<std::pair<std::string, bool>>()> readiness;
};

class AdminServer {
 public:
  static absl::StatusOr<std::unique_ptr<AdminServer>> Start(AdminOptions options);
  virtual ~AdminServer() = default;
  virtual int port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace takt::http

#endif  // TAKT_LIBS_HTTP_ADMIN_H_
