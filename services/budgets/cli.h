// File: cli.h
// -----------------------------------------------------------------------------
// `takt budgets ...`: the budget record from YAML, postings from an ERP or
// general-ledger export (JSON Lines), variance and savings reports, as clients of
// takt.budgets.v1.BudgetsService.
#ifndef TAKT_SERVICES_BUDGETS_CLI_H_
#define TAKT_SERVICES_BUDGETS_CLI_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "takt/budgets/v1/budgets_service.pb.h"

namespace CLI {
class App;
}

namespace takt::budgets {

void AddBudgetsCommands(CLI::App& app, int* exit_code);

// A budget file (YAML: facility, commands) as a request; errors name the
// line and the command at fault.
absl::StatusOr<v1::ApplyBudgetRequest> BudgetFromYaml(const std::string& text);

// A savings answer as text: totals by scope, then each initiative with its
// KPI before and after.
void PrintSavings(const v1::SavingsResponse& response, const std::string& from, const std::string& to,
                  std::ostream& out);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_CLI_H_
