// File: recompute.h
// -----------------------------------------------------------------------------
// The scheduling context's independent recomputation of the production
// elements for audit explain: straight from the raw events of a facility's
// shop-floor and planning streams (chains checked as they are read), on a
// code path that shares nothing with rollup_projection.cc but the element
// definitions.
#ifndef TAKT_SERVICES_SCHEDULING_RECOMPUTE_H_
#define TAKT_SERVICES_SCHEDULING_RECOMPUTE_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"
#include "services/rollups/contribution.h"

namespace takt::scheduling {

// Element sums of a facility (all its units and its work orders; `units`
// null) or of some of its units, over the instants [from, to), from the
// events of the facility's scheduling streams up to the given sequences
// (inclusive).
absl::StatusOr<rollup::Recomputed> RecomputeElements(eventlog::EventLog& log,
                                                     const std::string& facility,
                                                     const std::set<std::string>* units,
                                                     absl::Time from, absl::Time to,
                                                     uint64_t upto_shop_floor, uint64_t upto_plan);

// The scheduling context's contribution to the rollups: its projection and
// the recomputation above, for services/scheduling/module.cc.
rollup::ProductionFold ProductionFold();

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_RECOMPUTE_H_
