// File: grpc_service.h
// -----------------------------------------------------------------------------
// takt.audit.v1.AuditService: replay (and export), verification and KPI
// explain, thin over history.h and explain.h. Each call is recorded as a
// HistoryRead event in context "audit", stream = facility, so that who read
// which history is itself part of the audited record.
#ifndef TAKT_SERVICES_AUDIT_GRPC_SERVICE_H_
#define TAKT_SERVICES_AUDIT_GRPC_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "libs/es/context.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/rollups/contribution.h"
#include "services/rollups/rollup_store.h"

namespace takt::audit {

inline constexpr char kAuditContext[] = "audit";

// `store`: the rollups of this process, or null where they do not run
// (explain then answers FAILED_PRECONDITION).
// `production`: the production elements' contribution (explain), or null.
// `record_reads`: each call is recorded as a HistoryRead (takt serve
// --record-reads audit, the default).
std::unique_ptr<grpc::Service> NewAuditService(eventlog::EventLog* log, bool embedded,
                                               model::ModelStore* models, rollup::RollupStore* store,
                                               const rollup::ProductionFold* production,
                                               std::vector<es::ContextDescriptor> contexts,
                                               bool record_reads = true);

}  // namespace takt::audit

#endif  // TAKT_SERVICES_AUDIT_GRPC_SERVICE_H_
