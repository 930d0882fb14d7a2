// File: host.h
// -----------------------------------------------------------------------------
// `takt serve` as a library: a host that opens the event log (embedded by
// default, Kafka when brokers are given) and the enterprise read model,
// then composes the modules it is given (libs/host/module.h; the list is
// services/registry.h): their stores, gRPC services (plus health and
// reflection) and background loops. Tests start it on 127.0.0.1:0.
#ifndef TAKT_LIBS_HOST_HOST_H_
#define TAKT_LIBS_HOST_HOST_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/auth/transport.h"
#include "libs/host/module.h"
#include "libs/common/default_address.h"

namespace takt::host {

// Which reads are recorded as events, with the reader (`takt serve
// --record-reads`): an auditor's replays, exports, verifications and
// explanations (audit: HistoryRead); reads of people's personal data
// (personal-data: PersonalDataRead); KPI queries, the dashboard's included
// (kpis: a KpisRead in the stream of each facility the answer covers, in
// context "kpi_reads"; off by default, as a dashboard queries every second).
struct ReadRecording {
  bool audit = true;
  bool personal_data = true;
  bool kpis = false;
};
// "audit,personal-data,kpis" (any of them) or "none"; INVALID_ARGUMENT
// naming an unknown one.
absl::StatusOr<ReadRecording> ParseReadRecording(const std::string& list);

struct ServerOptions {
  // Rollups, signing keys and (embedded mode) the log live here.
  std::string data_dir = "takt-data";
  std::string listen = kDefaultAddress;
  // Non-empty: the log is Kafka (topics takt.<context>.v1 must exist) and
  // this process owns the enterprise and scheduling streams under
  // transactional id takt-<owner_id>.
  std::string kafka_brokers;
  std::string owner_id = "serve";
  std::map<std::string, std::string> kafka_config;  // extra librdkafka properties
  // Which modules this process runs, by name; empty means all. A subset
  // needs Kafka: the process then owns (writes) the contexts its modules
  // declare and only reads the others.
  std::vector<std::string> services;
  // The modules' own `takt serve` flags (ModuleInfo::add_serve_flags), by
  // name without dashes ("earliest-observation" -> "2000-01-01"); a module
  // uses its default for a flag not given.
  std::map<std::string, std::string> module_flags;
  // TLS, mutual TLS and people's tokens (libs/auth/transport.h); plaintext
  // only with security.insecure set explicitly.
  auth::TransportOptions security;
  // Non-empty: HTTP/JSON (and the dashboard) on this host:port, TLS with
  // `security`'s certificate unless insecure (libs/http/gateway.h).
  std::string http_listen;
  // The dashboard's files (web/), served at "/" with http_listen; empty:
  // none. Chart.js comes from Debian's libjs-chart.js at /lib/chart.js/.
  std::string http_static;
  ReadRecording record_reads;
  // Backups over the network (OperationsService/Backup) go to new
  // directories directly under this one; empty: none are taken.
  std::string backup_root;
  // Non-empty: /metrics, /livez and /readyz on this host:port, plain HTTP
  // without authentication (libs/http/admin.h).
  std::string admin_listen;
  // On Shutdown(): how long calls in flight (streams of batches included)
  // may take to finish before they are cancelled.
  absl::Duration shutdown_grace = absl::Seconds(10);
  // A stream of batches silent this long is closed (host::OpenStream;
  // process-wide: the last server started sets it).
  absl::Duration stream_idle_timeout = absl::Minutes(10);
};

// Checks a service list against the modules; returns it with duplicates
// removed, or every module when empty.
absl::StatusOr<std::vector<std::string>> ResolveServices(const std::vector<std::string>& services,
                                                         bool kafka,
                                                         const std::vector<ModuleInfo>& modules);

// What Backup() copied (takt.operations.v1.BackupResponse).
struct BackupResult {
  std::string dir;
  std::vector<std::string> parts;  // "keys", "log", "personal-keys", ...
  uint64_t bytes = 0;
  absl::Time created;
  bool log_included = false;  // false on Kafka
};

class TaktServer {
 public:
  static absl::StatusOr<std::unique_ptr<TaktServer>> Start(const ServerOptions& options,
                                                           const std::vector<ModuleInfo>& modules);
  virtual ~TaktServer() = default;
  // The port actually bound (useful with port 0).
  virtual int port() const = 0;
  // The full names of the gRPC services the modules registered (health
  // and reflection aside), e.g. "takt.rollups.v1.RollupService".
  virtual std::vector<std::string> services() const = 0;
  // The HTTP port actually bound (0 without --http-listen).
  virtual int http_port() const = 0;
  // The admin port actually bound (0 without --admin-listen).
  virtual int admin_port() const = 0;
  // The HTTP routes served (method as "/takt.rollups.v1.RollupService/QueryKpis").
  virtual std::vector<HttpRoute> http_routes() const = 0;
  // Blocks until Shutdown() is called from another thread.
  virtual void Wait() = 0;
  virtual void Shutdown() = 0;
  // Waits until every module's background work (the rollups projection)
  // has caught up with the log (tests, benchmarks).
  virtual absl::Status WaitForProjection(absl::Duration timeout) = 0;
  // A consistent copy, while serving, of what the log cannot rebuild into
  // `dir` (absolute, new, outside the data directory): the embedded log's
  // checkpoint, the signing keys, the modules' own state, and a
  // MANIFEST.json. Nothing is left of a copy that failed.
  virtual absl::StatusOr<BackupResult> Backup(const std::string& dir) = 0;
};

}  // namespace takt::host

#endif  // TAKT_LIBS_HOST_HOST_H_
