// File: bench_service.h
// -----------------------------------------------------------------------------
// `takt bench ingest` and `takt bench query`: end-to-end figures of the
// rollups path on the embedded log.
#ifndef TAKT_BENCH_BENCH_SERVICE_H_
#define TAKT_BENCH_BENCH_SERVICE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_log.h"

namespace takt::cli {

struct BenchIngestOptions {
  int facilities = 24;
  int days = 7;
  int streams = 4;  // concurrent gateway connections
  // Mutual TLS (fresh loopback credentials: a CA, the server's certificate,
  // a client certificate "service:bench"); the results' names end in _tls.
  bool tls = false;
  // On librdkafka's in-process mock Kafka cluster (in memory, bounded
  // retention: keep the run small) instead of the embedded log; the
  // results' names end in _kafka_mock.
  bool kafka_mock = false;
  // The gateways' clients in a process of their own (`takt bench
  // ingest-clients`, run from this binary), so that the server's CPU time
  // and the clients' show apart: results ingest_server_cpu and
  // ingest_clients_cpu (observations per CPU-second, CPU seconds), names
  // ending in _clients_apart. Not with --tls.
  bool clients_process = false;
};
absl::StatusOr<std::vector<BenchResult>> RunIngestBenchmark(const BenchIngestOptions& options);

// `takt bench ingest-clients`: the simulation of `facilities` x `days`
// (the same the benchmark generates) streamed to `target` over `streams`
// plaintext connections. Prints "start" when it begins streaming, then one
// JSON line {"acked", "seconds", "cpu_seconds"}.
struct BenchClientsOptions {
  std::string target;
  int facilities = 24;
  int days = 7;
  int streams = 4;
};
absl::Status RunIngestClients(const BenchClientsOptions& options, std::ostream& out);

struct BenchQueryOptions {
  int facilities = 50;
  int units = 20;
  int days = 90;
  int queries = 1000;  // per query kind
  // Where the loaded data stays for `takt serve --data-dir` (the dashboard's
  // page-load benchmark); empty: a temporary directory, removed after.
  std::string keep_data;
};
absl::StatusOr<std::vector<BenchResult>> RunQueryBenchmark(const BenchQueryOptions& options);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_SERVICE_H_
