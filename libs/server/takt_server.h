// File: takt_server.h
// -----------------------------------------------------------------------------
// `takt serve` as a library: the event log (embedded by default, Kafka when
// brokers are given), the enterprise model, the gRPC services (enterprise
// definitions, facility ingest, rollup queries, health, reflection) and the
// rollups projection running beside them. Tests start it on 127.0.0.1:0.
#ifndef TAKT_LIBS_SERVER_TAKT_SERVER_H_
#define TAKT_LIBS_SERVER_TAKT_SERVER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace takt::server {

struct ServerOptions {
  // Rollups, signing keys and (embedded mode) the log live here.
  std::string data_dir = "takt-data";
  std::string listen = "127.0.0.1:7470";
  // Non-empty: the log is Kafka (topics takt.<context>.v1 must exist) and
  // this process owns the enterprise and scheduling streams under
  // transactional id takt-<owner_id>.
  std::string kafka_brokers;
  std::string owner_id = "serve";
  std::map<std::string, std::string> kafka_config;  // extra librdkafka properties
  // Which services this process runs: any of "enterprise", "scheduling",
  // "rollups", "audit"; empty means all. A subset needs Kafka: the process then owns
  // (writes) the contexts of its services and only reads the others
  // (scheduling reads the enterprise model; rollups reads both and owns
  // nothing; audit writes the record of reads and replays through the
  // owner of what it reads, so on Kafka it runs beside enterprise and
  // scheduling).
  std::vector<std::string> services;
  // The ingest horizon (see services/scheduling/ingest.h): nothing before
  // `earliest_observation`, nor more than `max_lateness` behind the newest
  // observation a facility has accepted (zero: no such bound).
  absl::Time earliest_observation = absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone());
  absl::Duration max_lateness = absl::Hours(24 * 35);
};

// Checks a service list; returns it with duplicates removed, or all three
// services when empty.
absl::StatusOr<std::vector<std::string>> ResolveServices(const std::vector<std::string>& services,
                                                         bool kafka);

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
