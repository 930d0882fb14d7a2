// File: grpc_service.h
// -----------------------------------------------------------------------------
// The scheduling context's gRPC services, thin over its domain:
// FacilityIngestService (shop-floor observations, ingest.h) and
// SchedulingService (work orders and schedules, planning_store.h).
#ifndef TAKT_SERVICES_SCHEDULING_GRPC_SERVICE_H_
#define TAKT_SERVICES_SCHEDULING_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/scheduling/ingest.h"
#include "services/scheduling/planning_store.h"

namespace takt::scheduling {

// Facility ingest. `follows_model`: this process does not write the
// enterprise model and refreshes it when a batch names something unknown.
std::unique_ptr<grpc::Service> NewIngestService(eventlog::EventLog* log, model::ModelStore* models,
                                                bool follows_model, HorizonPolicy horizon);

std::unique_ptr<grpc::Service> NewSchedulingService(PlanningStore* plans, model::ModelStore* models);

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_GRPC_SERVICE_H_
