// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.rollups.v1.RollupService: thin handlers over answer.h.
#ifndef TAKT_SERVICES_ROLLUPS_GRPC_SERVICE_H_
#define TAKT_SERVICES_ROLLUPS_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/rollups/answer.h"
#include "services/rollups/rollup_store.h"

namespace takt::rollup {

// The context of recorded KPI queries (rollups::v1::KpisRead), stream = facility.
inline constexpr char kKpiReadsContext[] = "kpi_reads";

// Answers from `store`, reporting positions and lag in `reads`. With
// `record_reads`, each answer is first recorded as a KpisRead in each
// covered facility's stream; a query that cannot be recorded gets no answer.
std::unique_ptr<grpc::Service> NewRollupService(eventlog::EventLog* log, model::ModelStore* models,
                                                RollupStore* store, std::vector<ReadPosition> reads,
                                                bool record_reads = false);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_GRPC_SERVICE_H_
