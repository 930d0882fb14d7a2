// File: answer.h
// -----------------------------------------------------------------------------
// A director's KPI question answered from the rollups: the scope, period
// and breakdown parsed, the KPIs (default OEE, availability, effectiveness,
// quality) computed as ratios of summed elements, the downtime Pareto with
// each reason's share, and what the answer is based on: the projection's
// position in every context it reads and how far behind the log it is.
#ifndef TAKT_SERVICES_ROLLUPS_ANSWER_H_
#define TAKT_SERVICES_ROLLUPS_ANSWER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/rollups/rollup_store.h"
#include "takt/rollups/v1/rollups.pb.h"

namespace takt::rollup {

// What the rollups read: a context, and the key its position is stored
// under (the context itself for production; "<context>#<family>" for an
// element family, which keeps its own position).
struct ReadPosition {
  std::string context;
  std::string cursor_key;
};

// The answer's positions (`position.context` is the cursor key) and lag
// cover every position in `reads`.
absl::StatusOr<rollups::v1::QueryKpisResponse> AnswerQuery(
    const RollupStore& store, const model::ModelStore& models, eventlog::EventLog& log,
    const std::vector<ReadPosition>& reads, const rollups::v1::QueryKpisRequest& request);

}  // namespace takt::rollup

#endif  // TAKT_SERVICES_ROLLUPS_ANSWER_H_
