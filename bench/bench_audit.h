// File: bench_audit.h
// -----------------------------------------------------------------------------
// `takt bench audit`: replay with chain verification, export and offline
// verification of an export, over a log of generated events.
#ifndef TAKT_BENCH_BENCH_AUDIT_H_
#define TAKT_BENCH_BENCH_AUDIT_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_log.h"

namespace takt::cli {

struct BenchAuditOptions {
  int facilities = 20;
  int events_per_facility = 50'000;
};
absl::StatusOr<std::vector<BenchResult>> RunAuditBenchmark(const BenchAuditOptions& options);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_AUDIT_H_
