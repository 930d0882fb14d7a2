// File: explain.h
// -----------------------------------------------------------------------------
// KPI explain: recomputes a KPI for any scope (enterprise, region, facility,
// area, work center, work unit) over production days straight from the raw
// events of the log, with the recomputation the context that owns the
// events contributes (production: rollup::ProductionFold::recompute, written
// apart from its projection; a family: its explain fold), sharing nothing
// with the rollups' store but the formula registry (and the enterprise
// model for calendars and scope), and puts it beside the value the rollups
// give at the same log positions. The two must be equal; a difference is
// reported element by element, never hidden.
#ifndef TAKT_SERVICES_AUDIT_EXPLAIN_H_
#define TAKT_SERVICES_AUDIT_EXPLAIN_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/es/context.h"
#include "libs/model/enterprise_model.h"
#include "services/rollups/contribution.h"
#include "services/rollups/rollup_store.h"
#include "takt/audit/v1/audit.pb.h"

namespace takt::audit {

// Explains a KPI. Needs the embedded log (positions are stream sequences;
// on Kafka they are partition offsets): UNIMPLEMENTED otherwise.
// `production`: the registered contribution (rollup::FindProductionFold);
// `contexts`: every registered context (a family is recomputed from all of
// a facility's streams in its context).
absl::StatusOr<v1::ExplainResponse> Explain(eventlog::EventLog& log, bool embedded_log,
                                            const model::EnterpriseModel& model,
                                            const rollup::RollupStore& store,
                                            const rollup::ProductionFold* production,
                                            const std::vector<es::ContextDescriptor>& contexts,
                                            const v1::ExplainRequest& request);

}  // namespace takt::audit

#endif  // TAKT_SERVICES_AUDIT_EXPLAIN_H_
