// File: initiatives.h
// -----------------------------------------------------------------------------
// Continuous-improvement initiatives of a facility, pure: their lifecycle
// (proposed, approved, in progress, realised, cancelled) and confirmed
// savings, folded from events of stream "<facility>.budget", and the
// decisions that record them. Measuring their savings is savings.h's.
//
// Lifecycle: PROPOSED -> APPROVED (by someone other than the owner) ->
// IN_PROGRESS (the start day: measurement begins) -> REALISED (savings go on
// being measured: sustained or not). PROPOSED, APPROVED and IN_PROGRESS may
// be CANCELLED on a day. A proposal is fixed once recorded (its baseline and
// target are what the savings are measured against); a different proposal
// under the same id is ALREADY_EXISTS. A command that is already true
// records nothing (a resend).
#ifndef TAKT_SERVICES_BUDGETS_INITIATIVES_H_
#define TAKT_SERVICES_BUDGETS_INITIATIVES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "libs/es/event.h"
#include "takt/budgets/v1/budgets_service.pb.h"
#include "takt/budgets/v1/events.pb.h"

namespace takt::model {
class EnterpriseModel;
}  // namespace takt::model

namespace takt::budgets {

class BudgetBook;

inline constexpr int kMaxBaselineDays = 366;

struct Initiative {
  v1::InitiativeProposed proposal;
  absl::CivilDay baseline_from, baseline_to, planned_start;
  v1::InitiativeStage stage = v1::PROPOSED;
  std::string approved_by;
  std::optional<absl::CivilDay> started, realised, cancelled;
  std::map<absl::CivilMonth, v1::SavingsConfirmed> confirmed;
};

class Initiatives {
 public:
  // Folds an initiative event (`type` without the package prefix); false
  // when the type is not an initiative's.
  absl::StatusOr<bool> Apply(const std::string& type, const es::Event& event);

  const Initiative* Find(const std::string& id) const;
  const std::map<std::string, Initiative>& all() const { return initiatives_; }

 private:
  std::map<std::string, Initiative> initiatives_;
};

// The events an initiative command records (none when already true), or
// nullopt when `command` is not an initiative's. `book` checks accounts and
// the currency; `model` checks products. Approvals and confirmations: the
// approver is not the owner; when the caller is an authenticated person,
// the approver named must be that person and the owner may not approve
// their own initiative whatever the command says. Savings are confirmed
// only for months that have ended (by `origin.now`, UTC) within the running
// time, and an initiative cannot be cancelled on or before the last day of
// a month already confirmed.
std::optional<absl::StatusOr<std::vector<es::Event>>> DecideInitiative(const BudgetBook& book,
                                                                         const v1::BudgetCommand& command,
                                                                         const model::EnterpriseModel& model,
                                                                         const es::CommandOrigin& origin);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_INITIATIVES_H_
