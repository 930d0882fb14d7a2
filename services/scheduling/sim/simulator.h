// File: simulator.h
// -----------------------------------------------------------------------------
// A multi-site plant simulator for demos, tests and benchmarks. It generates
// an enterprise (regions, plants in several time zones with three shifts
// including an overnight one, lines and machines, products) and the
// observations their gateways would send: machines run, fail and are
// repaired (exponential times from each machine's MTBF and MTTR), change
// over between orders, stop briefly, pause for planned maintenance, and
// count good, scrap and rework parts. Gateways resend some batches after
// "reconnects" and deliver some hours late. Deterministic for a seed.
#ifndef TAKT_SERVICES_SCHEDULING_SIM_SIMULATOR_H_
#define TAKT_SERVICES_SCHEDULING_SIM_SIMULATOR_H_

#include <cstdint>
#include <vector>

#include "absl/time/civil_time.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"
#include "takt/scheduling/v1/ingest.pb.h"

namespace takt::sim {

struct SimOptions {
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  absl::CivilDay start;            // first production day simulated
  int lines_per_facility = 2;
  int units_per_line = 3;
  double resend_fraction = 0.05;   // batches sent twice
  double late_fraction = 0.03;     // batches delivered after later ones
};

struct Simulation {
  enterprise::v1::ApplyDefinitionsRequest enterprise;
  // In sending order (resends and late batches included).
  std::vector<scheduling::v1::ObservationBatch> batches;
  uint64_t observations = 0;  // distinct observations
  uint64_t resent_batches = 0;
  uint64_t late_batches = 0;
};

Simulation Simulate(const SimOptions& options);

}  // namespace takt::sim

#endif  // TAKT_SERVICES_SCHEDULING_SIM_SIMULATOR_H_
