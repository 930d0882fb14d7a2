// File: planning.h
// -----------------------------------------------------------------------------
// A facility's planning state, pure: routings, setup matrices, calendar
// exceptions and work orders with their lifecycle, folded from the events of
// stream "<facility>.plan" in the scheduling context. Commands are decided
// against it (state + command -> events); events are applied to it (state +
// event -> state). It also turns the released work orders into a scheduling
// problem for the solver (units with calendars from the facility's shifts
// minus exceptions), turns a solution into a proposal, and checks a proposal
// before it is committed.
#ifndef TAKT_SERVICES_SCHEDULING_PLANNING_H_
#define TAKT_SERVICES_SCHEDULING_PLANNING_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/plan_stream.h"
#include "libs/model/enterprise_model.h"
#include "services/scheduling/crew.h"
#include "services/scheduling/solver/problem.h"
#include "takt/eventlog/v1/envelope.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::scheduling {

struct PlanningProblem {
  sched::Problem problem;
  absl::Time origin;  // problem time 0; problem times are seconds after it
  std::vector<std::string> unit_ids;                       // by unit index
  std::vector<std::pair<std::string, std::string>> steps;  // (order, step) by op index
  // The crew gaps that closed units (when planning respects crew).
  std::vector<CrewGap> crew_gaps;
};

// The longest planning horizon (ProposeSchedule's horizon_days, and how
// far a committed plan may reach).
inline constexpr int kMaxHorizonDays = 366;

// The most crew shortages a schedule lists (it counts them all).
inline constexpr int kMaxCrewShortages = 100;

struct WorkOrderState {
  v1::WorkOrderCreated created;
  std::string status = "created";  // released, held, cancelled, completed
  double weight = 1;
  std::optional<absl::Time> completed;
  std::optional<absl::Time> planned_start, planned_end;
};

class Planning {
 public:
  explicit Planning(std::string facility) : facility_(std::move(facility)) {}

  const std::string& facility() const { return facility_; }

  // The events a command records (none if what it asks is already true).
  // Errors name the culprit.
  absl::StatusOr<std::vector<model::ModelEvent>> Decide(const v1::PlanningCommand& command,
                                                        const model::EnterpriseModel& model) const;
  absl::Status Apply(const model::ModelEvent& event);

  // A correction of the count `original` (the event at
  // command.corrects_sequence of the facility's shop-floor stream, or null
  // if there is none). None if the figures are already those.
  absl::StatusOr<std::vector<model::ModelEvent>> DecideCorrection(
      const v1::CorrectCount& command, const eventlog::v1::Envelope* original) const;

  // The released work orders as a problem, from `origin` over
  // `horizon_days`. With `crew`, each unit is also closed in the shifts its
  // station's crew is short (crew.h).
  absl::StatusOr<PlanningProblem> BuildProblem(const model::EnterpriseModel& model,
                                               absl::Time origin, int horizon_days,
                                               const CrewFacts* crew = nullptr) const;
  // A what-if plan; nothing changes. `crew` is required when the request
  // respects crew.
  absl::StatusOr<v1::Schedule> Propose(const model::EnterpriseModel& model,
                                       const v1::ScheduleRequest& request, absl::Time now,
                                       const CrewFacts* crew = nullptr) const;
  // Checks a proposal against the current state (every released order
  // exactly once, feasible with today's routings and calendars, and crew
  // when the proposal respected it); the event that commits it.
  absl::StatusOr<model::ModelEvent> DecideCommit(const model::EnterpriseModel& model,
                                                 const v1::Schedule& schedule,
                                                 const CrewFacts* crew = nullptr) const;

  const std::map<std::string, WorkOrderState>& work_orders() const { return orders_; }
  const std::string& committed_schedule_id() const { return committed_id_; }

 private:
  absl::Status CheckRouting(const v1::RoutingDefined& r, const model::EnterpriseModel& m) const;

  std::string facility_;
  std::map<std::string, v1::RoutingDefined> routings_;          // by product
  std::map<std::string, v1::SetupMatrixDefined> setups_;        // by work center
  std::vector<v1::CalendarExceptionAdded> exceptions_;
  std::map<std::string, WorkOrderState> orders_;
  std::string committed_id_;
  std::map<uint64_t, v1::Quantities> corrected_;  // count sequence -> latest figures
};

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_PLANNING_H_
