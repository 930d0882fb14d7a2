// File: cli.h
// -----------------------------------------------------------------------------
// `takt budgets ...`: the budget record from YAML, postings from an ERP or
// general-ledger export (JSON Lines), and variance reports, as clients of
// takt.budgets.v1.BudgetsService.
#ifndef TAKT_SERVICES_BUDGETS_CLI_H_
#define TAKT_SERVICES_BUDGETS_CLI_H_

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

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_CLI_H_
