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

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/plan_stream.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"
#include "takt/scheduling/v1/ingest.pb.h"

namespace takt::scheduling {

// At most this many observations per batch (the log's limit per append):
// a larger batch is refused whole, once, at the edge.
inline constexpr int kMaxObservationsPerBatch = 10000;
// At most this many rejections are listed in an acknowledgement.
inline constexpr int kMaxListedRejections = 100;

// The batch as a whole: INVALID_ARGUMENT for an empty or oversized batch.
absl::Status CheckBatchSize(const v1::ObservationBatch& batch);

// Moves rejections beyond kMaxListedRejections into the count
// `rejected_not_listed`.
void BoundRejections(v1::IngestAck& ack);

// Observations may be at most this far in the future (clock skew).
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);

// takt::scheduling::Horizon
//
// The earliest source time a facility accepts now, and why. Observations
// before it are refused one by one: an observation far in the past is
// almost always a gateway clock reset (1970-01-01), and history that old
// belongs to an import, not to a live feed.
struct Horizon {
  absl::Time at = absl::InfinitePast();
  std::string why;
};

// takt::scheduling::HorizonPolicy
//
// Per server (`takt serve --earliest-observation`, `--max-lateness`); per
// facility, FacilityDefined.commissioned_on. The horizon of a facility is
// the latest of: `earliest`; the start of its commissioning day; and
// `max_lateness` before the newest observation it has accepted.
struct HorizonPolicy {
  absl::Time earliest = absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone());
  absl::Duration max_lateness = absl::Hours(24 * 35);  // zero: no bound
};

// takt::scheduling::Horizons
//
// Tracks the newest accepted observation of each facility (seeded from the
// last event of its stream after a restart, a lower bound of the newest)
// and gives each batch its horizon. Thread-safe.
class Horizons {
 public:
  explicit Horizons(HorizonPolicy policy) : policy_(policy) {}

  Horizon For(eventlog::EventLog& log, const std::string& facility,
              const model::EnterpriseModel& model) ABSL_LOCKS_EXCLUDED(mu_);
  void Accepted(const std::string& facility, absl::Time newest) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const HorizonPolicy policy_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> newest_ ABSL_GUARDED_BY(mu_);
};

struct Screened {
  eventlog::AppendRequest append;        // the valid observations as events
  std::vector<uint32_t> event_index;     // batch index of each event
  std::vector<v1::Rejection> rejected;
};

// Validates a batch; never fails as a whole except for a bad facility.
absl::StatusOr<Screened> Screen(const v1::ObservationBatch& batch,
                                const model::EnterpriseModel& model, absl::Time now,
                                const std::string& actor, const Horizon& horizon = {});

// Whether the model knows every name the batch uses (facility, work units,
// products of counts without a planned run time): lookups only, so that a
// service following the model elsewhere can refresh it before screening.
bool KnowsAllNames(const v1::ObservationBatch& batch, const model::EnterpriseModel& model);

// The acknowledgement of a batch refused as a whole (its facility is
// unknown or not valid): every observation rejected with `why`'s code and
// message, the list bounded by BoundRejections.
v1::IngestAck RejectAll(const v1::ObservationBatch& batch, const absl::Status& why);

// Screens and appends a batch; the ack is returned only once durable.
// With `horizons`, observations before the facility's horizon are refused.
absl::StatusOr<v1::IngestAck> IngestBatch(eventlog::EventLog& log,
                                          const model::EnterpriseModel& model,
                                          const v1::ObservationBatch& batch, absl::Time now,
                                          const std::string& actor,
                                          Horizons* horizons = nullptr);

// IngestBatch in two halves, so that a stream can screen and start its next
// batch while this one is being made durable (eventlog::StartAppend).
// Batches started one after the other from one thread are recorded in that
// order.
struct IngestInProgress {
  v1::IngestAck ack;  // the rejections so far
  std::unique_ptr<eventlog::AppendInProgress> append;  // none: nothing to append
  absl::Time now;
  Horizon horizon;
  absl::Time newest = absl::InfinitePast();  // the newest observation appended
};

// Screens the batch and starts appending its valid observations. Fails as
// a whole like IngestBatch (bad size, unknown or invalid facility).
absl::StatusOr<IngestInProgress> StartIngest(eventlog::EventLog& log,
                                             const model::EnterpriseModel& model,
                                             const v1::ObservationBatch& batch, absl::Time now,
                                             const std::string& actor, Horizons* horizons = nullptr);

// Waits until the batch is durable and completes its acknowledgement.
// ALREADY_EXISTS: some observation reuses a recorded source sequence with
// other content and nothing of the batch was recorded; IngestOneByOne then
// records the others.
absl::StatusOr<v1::IngestAck> FinishIngest(IngestInProgress& started, const std::string& facility,
                                           Horizons* horizons = nullptr);

// After FinishIngest's ALREADY_EXISTS: screens the batch again (as started)
// and appends its observations one at a time, so that only the conflicting
// ones are rejected (ALREADY_EXISTS each).
absl::StatusOr<v1::IngestAck> IngestOneByOne(eventlog::EventLog& log,
                                             const model::EnterpriseModel& model,
                                             const v1::ObservationBatch& batch,
                                             const std::string& actor, IngestInProgress& started,
                                             Horizons* horizons = nullptr);

}  // namespace takt::scheduling

#endif  // TAKT_SERVICES_SCHEDULING_INGEST_H_
