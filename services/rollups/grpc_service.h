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

// Answers from `store`, reporting positions and lag in `reads`.
std::unique_ptr<grpc::Service> NewRollupService(eventlog::EventLog* log, model::ModelStore* models,
                                                RollupStore* store, std::vector<ReadPosition> reads);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_GRPC_SERVICE_H_
