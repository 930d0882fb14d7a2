// File: takt_server.h
// -----------------------------------------------------------------------------
// `takt serve` as a library: the event log (embedded by default, Kafka when
// brokers are given), the enterprise model, the gRPC services (enterprise
// definitions, facility ingest, rollup queries, health, reflection) and the
// rollups projection running beside them. Tests start it on 127.0.0.1:0.
#ifndef TAKT_LIBS_SERVER_TAKT_SERVER_H_
#define TAKT_LIBS_SERVER_TAKT_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace takt::server {

struct ServerOptions {
  std::string data_dir = "takt-data";
  std::string listen = "127.0.0.1:7470";
};

class TaktServer {
 public:
  static absl::StatusOr<std::unique_ptr<TaktServer>> Start(const ServerOptions& options);
  virtual ~TaktServer() = default;
  // The port actually bound (useful with port 0).
  virtual int port() const = 0;
  // Blocks until Shutdown() is called from another thread.
  virtual void Wait() = 0;
  virtual void Shutdown() = 0;
  // Waits until the projection has applied everything in the log (tests).
  virtual absl::Status WaitForProjection(absl::Duration timeout) = 0;
};

}  // namespace takt::server

#endif  // TAKT_LIBS_SERVER_TAKT_SERVER_H_
