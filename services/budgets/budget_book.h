// File: budget_book.h
// -----------------------------------------------------------------------------
// A facility's budget record, pure: the ledger's currencies, the chart of
// accounts, cost centres, budgets by version, cost centre, account and month,
// planned output, approvals, standard cost cards and budget exchange rates
// (stream "<facility>.budget" of the budgets context). DecideBudget turns a
// command into the events it records (none when it is already true); Apply
// folds an event.
#ifndef TAKT_SERVICES_BUDGETS_BUDGET_BOOK_H_
#define TAKT_SERVICES_BUDGETS_BUDGET_BOOK_H_

#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "libs/es/event.h"
#include "libs/model/enterprise_model.h"
#include "services/budgets/initiatives.h"
#include "services/budgets/money.h"
#include "takt/budgets/v1/budgets_service.pb.h"
#include "takt/budgets/v1/events.pb.h"

namespace takt::budgets {

// "2026-03" <-> the month's first day.
absl::StatusOr<absl::CivilMonth> ParseMonth(const std::string& yyyy_mm);
std::string MonthText(absl::CivilMonth m);

// A standard cost card line, parsed.
struct StandardQuantity {
  std::string account;
  Decimal per_unit;
};

class BudgetBook {
 public:
  absl::Status Apply(const es::Event& event);

  bool configured() const { return !currency_.empty(); }
  const std::string& currency() const { return currency_; }
  const std::string& reporting_currency() const { return reporting_currency_; }
  const v1::AccountDefined* FindAccount(const std::string& account) const;
  const std::map<std::string, v1::AccountDefined>& accounts() const { return accounts_; }
  bool HasCostCentre(const std::string& cc) const { return cost_centres_.contains(cc); }
  const v1::CostCentreDefined* FindCostCentre(const std::string& cc) const {
    auto it = cost_centres_.find(cc);
    return it == cost_centres_.end() ? nullptr : &it->second;
  }
  const std::map<std::string, v1::CostCentreDefined>& cost_centres() const { return cost_centres_; }
  // The standard price of an account (0 when it has none).
  Decimal StandardPrice(const std::string& account) const;

  // The version approved for a month ("" when none is).
  std::string ApprovedVersion(absl::CivilMonth month) const;
  bool IsApproved(const std::string& version) const;
  // The budget of one cell, and the sum over cost centres of an account.
  int64_t Budget(const std::string& version, absl::CivilMonth month, const std::string& cost_centre,
                 const std::string& account) const;
  int64_t AccountBudget(const std::string& version, absl::CivilMonth month, const std::string& account) const;
  int64_t PlannedOutput(const std::string& version, absl::CivilMonth month) const;
  bool HasBudget(const std::string& version) const;
  // The card in force for a product in a month; null if none.
  const std::vector<StandardQuantity>* StandardCard(const std::string& product, absl::CivilMonth month) const;
  std::optional<Decimal> ExchangeRate(absl::CivilMonth month) const;
  // The month's actual average rate, when recorded.
  std::optional<Decimal> ActualRate(absl::CivilMonth month) const;
  // A product's standard cost of one unit in a month, minor units: its
  // card's lines at standard prices plus the overheads absorbed on its
  // standard labour hours (each term rounded half to even); nullopt when
  // the product has no card in force.
  absl::StatusOr<std::optional<int64_t>> StandardUnitCost(const std::string& product, absl::CivilMonth month) const;

  const Initiatives& initiatives() const { return initiatives_; }

 private:
  std::string currency_, reporting_currency_;
  std::map<std::string, v1::AccountDefined> accounts_;
  std::map<std::string, Decimal> prices_;
  std::map<std::string, v1::CostCentreDefined> cost_centres_;
  // (version, month, account, cost centre) -> minor units.
  std::map<std::tuple<std::string, absl::CivilMonth, std::string, std::string>, int64_t> budgets_;
  std::map<std::pair<std::string, absl::CivilMonth>, int64_t> planned_;
  std::map<absl::CivilMonth, std::string> approvals_;  // from month -> version
  std::map<std::string, std::map<absl::CivilMonth, std::vector<StandardQuantity>>> standards_;
  std::map<absl::CivilMonth, Decimal> rates_;
  std::map<absl::CivilMonth, Decimal> actual_rates_;
  Initiatives initiatives_;
};

// The events `command` records against `book` (none when already true).
// `model` checks cost centres (areas and work centers of `facility`) and
// products; `origin` is who decides and when (initiative approvals).
// Errors are INVALID_ARGUMENT, NOT_FOUND or FAILED_PRECONDITION
// naming the field and value.
absl::StatusOr<std::vector<es::Event>> DecideBudget(const BudgetBook& book, const v1::BudgetCommand& command,
                                                    const model::EnterpriseModel& model,
                                                    const std::string& facility, const es::CommandOrigin& origin);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_BUDGET_BOOK_H_
