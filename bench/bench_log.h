// File: bench_log.h
// -----------------------------------------------------------------------------
// `takt bench log`: end-to-end throughput of the embedded log with durable
// acknowledgements.
#ifndef TAKT_BENCH_BENCH_LOG_H_
#define TAKT_BENCH_BENCH_LOG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace takt::cli {

struct BenchResult {
  std::string name;
  double events_per_second = 0;
  double appends_per_second = 0;  // 0 for read benchmarks
  double p50_ms = 0;
  double p99_ms = 0;
  uint64_t events = 0;
  double seconds = 0;
};

struct BenchLogOptions {
  std::string data_dir;          // empty: a temporary directory, removed after
  // Multiplies the number of events each scenario appends (1.0: 20k single
  // appends with 1 appender, 200k with 64, 600k events in batches of 100
  // with 1 appender, 1.6M with 64).
  double scale = 1.0;
  size_t payload_bytes = 200;
  // Run only the scenarios whose name contains this (empty: all).
  std::string only;
};

absl::StatusOr<std::vector<BenchResult>> RunLogBenchmark(const BenchLogOptions& options);

// One line per result: text for people, or one JSON object per line.
std::string FormatBenchResult(const BenchResult& r, bool json);

// The p-quantile (0..1) of `v` (reordered).
double Percentile(std::vector<double>& v, double p);

// A fresh directory "takt-bench-<name>-<pid>" under the system's temp dir.
std::string BenchTempDir(const char* name);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_LOG_H_
