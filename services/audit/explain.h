// File: explain.h
// -----------------------------------------------------------------------------
// KPI explain: recomputes a KPI for any scope (enterprise, region, facility,
// area, work center, work unit) over production days straight from the raw
// events of the log, along a code path that shares
// nothing with the rollups projection but the formula registry (and the
// enterprise model for calendars and scope), and puts it beside the value the
// projection gives at the same log positions. The two must be equal; a
// difference is reported element by element, never hidden.
#ifndef TAKT_SERVICES_AUDIT_EXPLAIN_H_
#define TAKT_SERVICES_AUDIT_EXPLAIN_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"
#include "services/rollups/rollup_store.h"
#include "takt/audit/v1/audit.pb.h"

namespace takt::audit {

// Element sums of a facility (all its units and its work orders; `units`
// null) or of some of its units, over the instants [from, to), from the
// events of the facility's scheduling streams up to the given sequences
// (inclusive).
struct Recomputed {
  kpi::ElementSums sums;
  uint64_t events_read = 0;
  uint64_t events_used = 0;
};
absl::StatusOr<Recomputed> RecomputeElements(eventlog::EventLog& log, const std::string& facility,
                                             const std::set<std::string>* units, absl::Time from,
                                             absl::Time to, uint64_t upto_shop_floor,
                                             uint64_t upto_plan);

// Explains a KPI. Needs the embedded log (positions are stream sequences;
// on Kafka they are partition offsets): UNIMPLEMENTED otherwise.
absl::StatusOr<v1::ExplainResponse> Explain(eventlog::EventLog& log, bool embedded_log,
                                            const model::EnterpriseModel& model,
                                            const rollup::RollupStore& store,
                                            const v1::ExplainRequest& request);

}  // namespace takt::audit

#endif  // TAKT_SERVICES_AUDIT_EXPLAIN_H_
