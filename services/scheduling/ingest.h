// File: ingest.h
// -----------------------------------------------------------------------------
// Facility ingest: validates a batch of shop-floor observations against the
// enterprise model (pure: Screen) and appends the valid ones to the
// facility's scheduling stream as one durable batch (IngestBatch). Each bad
// observation is rejected with its own reason; the others proceed. Resends
// (same source id and sequence, same content) are acknowledged as
// duplicates and not recorded again; that holds across restarts because the
// log keeps the dedup index.
#ifndef TAKT_SERVICES_SCHEDULING_INGEST_H_
#define TAKT_SERVICES_SCHEDULING_INGEST_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"
#include "takt/scheduling/v1/ingest.pb.h"

namespace takt::scheduling {

inline constexpr char kSchedulingContext[] = "scheduling";
// Observations may be at most this far in the future (clock skew).
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);

struct Screened {
  eventlog::AppendRequest append;        // the valid observations as events
  std::vector<uint32_t> event_index;     // batch index of each event
  std::vector<v1::Rejection> rejected;
};

// Validates a batch; never fails as a whole except for a bad facility.
absl::StatusOr<Screened> Screen(const v1::ObservationBatch& batch,
                                const model::EnterpriseModel& model, absl::Time now,
                                const std::string& actor);

// Whether the model knows every name the batch uses (facility, work units,
// products of counts without a planned run time): lookups only, so that a
// service following the model elsewhere can refresh it before screening.
bool KnowsAllNames(const v1::ObservationBatch& batch, const model::EnterpriseModel& model);

// Screens and appends a batch; the ack is returned only once durable.
absl::StatusOr<v1::IngestAck> IngestBatch(eventlog::EventLog& log,
                                          const model::EnterpriseModel& model,
                                          const v1::ObservationBatch& batch, absl::Time now,
                                          const std::string& actor);

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_INGEST_H_
