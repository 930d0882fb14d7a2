// File: bench_quality.h
// -----------------------------------------------------------------------------
// `takt bench quality`: measurements ingested with durable acknowledgements
// and SPC rules evaluated, one characteristic's chart over 90 days, and the
// capability of one characteristic for a region over a quarter (pooled
// moments from the rollups), on the embedded log.
#ifndef TAKT_BENCH_BENCH_QUALITY_H_
#define TAKT_BENCH_BENCH_QUALITY_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_log.h"

namespace takt::cli {

struct BenchQualityOptions {
  int facilities = 4;       // one region
  int days = 90;
  int every_minutes = 10;   // one subgroup of 5 per characteristic
  int characteristics = 4;  // per facility
  int queries = 300;        // per query kind
};
absl::StatusOr<std::vector<BenchResult>> RunQualityBenchmark(const BenchQualityOptions& options);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_QUALITY_H_
