// File: bench_staffing.h
// -----------------------------------------------------------------------------
// `takt bench staffing`: attendance punches ingested with durable
// acknowledgements (in process and through gRPC, one stream per plant), a
// roster of 1,000 assignments validated (validate_only: every check, nothing
// recorded), and erasing one person (the erasure event, then the key
// destroyed, flushed and compacted away) after a history of rosters,
// attendance, evaluations and incidents; on the embedded log.
#ifndef TAKT_BENCH_BENCH_STAFFING_H_
#define TAKT_BENCH_BENCH_STAFFING_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_log.h"

namespace takt::cli {

struct BenchStaffingOptions {
  int facilities = 4;
  int people = 200;       // per facility
  int days = 60;          // of rosters and attendance (2 punches per person and day)
  int roster_size = 1000;  // assignments in the validated roster
  int queries = 50;       // roster validations
  int erasures = 100;     // people erased (spread over the facilities)
};
absl::StatusOr<std::vector<BenchResult>> RunStaffingBenchmark(const BenchStaffingOptions& options);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_STAFFING_H_
