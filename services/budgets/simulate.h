// File: simulate.h
// -----------------------------------------------------------------------------
// The budgets part of the demo plants (`takt budgets simulate`, and a step
// of `takt simulate`): for the plants and days of the production simulation
// (services/scheduling/sim), each plant's ledger (USD; plants in emea keep
// EUR books; reports in USD at monthly budget rates), chart of accounts,
// an approved budget planned for the output the plant is about to make,
// standard cost cards for every product, and ledger postings for the
// period: at standard, except for planted causes (steel bought dearer in
// the first plant, more steel used in the second, slow labour in the third,
// energy overspent in the fourth), and one posting reversed and reposted.
// Deterministic for a seed.
#ifndef TAKT_SERVICES_BUDGETS_SIMULATE_H_
#define TAKT_SERVICES_BUDGETS_SIMULATE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "takt/budgets/v1/budgets_service.pb.h"

namespace takt::budgets {

struct BudgetsSimOptions {
  int facilities = 6;
  int days = 3;
  uint64_t seed = 1;
  absl::CivilDay start;
};

struct BudgetsSimulation {
  std::vector<std::string> facilities;
  std::vector<std::string> regions;
  std::vector<v1::ApplyBudgetRequest> records;  // per facility
  std::vector<v1::PostingBatch> postings;       // per facility
};
BudgetsSimulation SimulateBudgets(const BudgetsSimOptions& options);

struct BudgetsSimArgs {
  std::string target;
  BudgetsSimOptions options;
  std::string start;  // YYYY-MM-DD; empty: days before yesterday (as takt simulate)
};
// Sends the simulation, then prints each region's variances and the three
// most unfavourable variances with their cause.
int RunBudgetsSimulate(const BudgetsSimArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_SIMULATE_H_
