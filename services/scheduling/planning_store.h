// File: planning_store.h
// -----------------------------------------------------------------------------
// The planning state of every facility in a running scheduling service:
// each facility's Planning folded from its stream "<facility>.plan" on first
// use, changed only through es::AggregateStore (decide on a copy, append with
// the expected sequence, fold in). Thread-safe.
#ifndef TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_
#define TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/es/aggregate_store.h"
#include "libs/model/model_store.h"
#include "services/scheduling/crew.h"
#include "services/scheduling/planning.h"
#include "takt/scheduling/v1/planning_service.pb.h"

namespace takt::scheduling {

class PlanningStore {
 public:
  PlanningStore(eventlog::EventLog* log, model::ModelStore* models);

  // Decides every command against the state as it stands after the ones
  // before it and appends all events as one batch (all or nothing).
  absl::StatusOr<v1::ExecuteResponse> Execute(const v1::ExecuteRequest& request,
                                              const std::string& actor, absl::Time now);
  // What-if: nothing is recorded.
  absl::StatusOr<v1::Schedule> Propose(const v1::ScheduleRequest& request, absl::Time now);
  absl::StatusOr<v1::CommitScheduleResponse> Commit(const v1::CommitScheduleRequest& request,
                                                    const std::string& actor, absl::Time now);
  absl::StatusOr<v1::ListWorkOrdersResponse> List(const std::string& facility);

 private:
  // NOT_FOUND unless the enterprise model defines the facility.
  absl::Status CheckKnown(const std::string& facility);

  eventlog::EventLog* log_;
  model::ModelStore* models_;
  // Each facility's Planning, from stream "<facility>.plan".
  es::AggregateStore<Planning> plans_;
  // Each facility's crew, from the staffing context's "<facility>.staff".
  CrewReader crew_;
};

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_PLANNING_STORE_H_
