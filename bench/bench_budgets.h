// File: bench_budgets.h
// -----------------------------------------------------------------------------
// `takt bench budgets`: a year of ledger postings imported with durable
// acknowledgements (in process, one batch of 1,000 per append, per plant),
// then a region's variance report over the year by month (every plant's
// postings, budgets, standards and counted output; converted to the
// reporting currency), on the embedded log.
#ifndef TAKT_BENCH_BENCH_BUDGETS_H_
#define TAKT_BENCH_BENCH_BUDGETS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bench/bench_log.h"

namespace takt::cli {

struct BenchBudgetsOptions {
  int facilities = 4;                // in one region
  int postings_per_month = 20000;    // per plant
  int queries = 200;                 // region reports timed
};
absl::StatusOr<std::vector<BenchResult>> RunBudgetsBenchmark(const BenchBudgetsOptions& options);

}  // namespace takt::cli

#endif  // TAKT_BENCH_BENCH_BUDGETS_H_
