// File: simulate.h
// -----------------------------------------------------------------------------
// `takt quality simulate`: the quality side of the demo plants (the
// enterprise `takt simulate` defines, same --facilities/--days/--seed): an
// inspection plan per plant, bore subgroups every 30 minutes and finish
// inspections every two hours, control limits approved from the first day,
// a planted mean shift in one plant and a drift (trend) in another so that
// rules fire, NCRs with corrective actions at various stages; then the
// quality section of a director's summary: Cpk by plant (worst first),
// rule violations, open NCRs by age, CAPA on-time rate. Deterministic for
// a seed.
#ifndef TAKT_SERVICES_QUALITY_SIMULATE_H_
#define TAKT_SERVICES_QUALITY_SIMULATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "takt/quality/v1/quality_service.pb.h"
#include "libs/common/default_address.h"

namespace takt::quality {

struct QualitySimOptions {
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  absl::CivilDay start;
};

// What a simulation sends, per facility (pure; tested without a server).
struct QualitySimulation {
  std::vector<v1::ApplyPlansRequest> plans;
  std::vector<v1::SampleBatch> batches;  // one per facility and day
  std::vector<std::string> facilities;
  std::string shifted, drifting;         // the plants with planted signals
};
QualitySimulation SimulateQuality(const QualitySimOptions& options);

struct QualitySimArgs {
  std::string target = kDefaultAddress;
  QualitySimOptions options;
  std::string start;  // YYYY-MM-DD; empty: days before yesterday (as takt simulate)
};
int RunQualitySimulate(const QualitySimArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_SIMULATE_H_
