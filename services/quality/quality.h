// File: quality.h
// -----------------------------------------------------------------------------
// The quality context's write and read paths, without gRPC (grpc_service.cc
// maps them): plans, streamed samples with SPC evaluated as they arrive,
// control limits, charts, capability and NCR/CAPA.
//
// Streams of facility F (context "quality"): F holds measurements,
// inspections and the rule violations they caused; F.qms holds plans,
// defect codes, limits and NCRs (an es::AggregateStore<QualityBook>).
//
// A batch of samples is screened (each bad sample rejected with its reason),
// its new subgroups are evaluated against the limits in force, and the
// subgroups together with the RuleViolated events they caused are appended
// in one append with the expected sequence: the signals are durable exactly
// when their data is, and acknowledged together. Resends (same source id
// and sequence) are recognised before evaluation from an index of the
// stream's source keys (rebuilt from the stream after a restart), so a
// resend never fires a rule twice. This service is the one writer of F (the
// append's expected sequence refuses any other); should the log still find
// a resend this index did not know, the batch fails with INTERNAL before its
// acknowledgement and the facility's state is reloaded from the log (the
// resend is then known). After a failed append the same reload undoes what
// the batch did to the in-memory series.
// Memory: every subgroup's point and every source key of the facilities a
// process has touched stay in memory (about 100 bytes per subgroup).
#ifndef TAKT_SERVICES_QUALITY_QUALITY_H_
#define TAKT_SERVICES_QUALITY_QUALITY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/es/aggregate_store.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/quality/quality_book.h"
#include "services/quality/spc.h"
#include "takt/quality/v1/quality_service.pb.h"

namespace takt::rollup {
class RollupStore;
struct ScopePart;
}

namespace takt::quality {

inline constexpr int kMaxSamplesPerBatch = 10000;
inline constexpr int kMaxListedRejections = 100;
inline constexpr absl::Duration kMaxFutureSkew = absl::Minutes(5);
// Values further than this many tolerances from nominal are refused as
// implausible (a gauge error). With at most 10,000 resolution steps per
// tolerance, |d| <= 10^5 steps, so sum d^2 holds at least 9 x 10^8 such
// values (about 10^11 within tolerance) before it overflows (then marked
// overflowed, never wrapped).
inline constexpr double kMaxTolerancesFromNominal = 10;

class Quality {
 public:
  // `rollups` (may be null) answers capability: the process must run the
  // rollups module for GetCapability.
  Quality(eventlog::EventLog* log, model::ModelStore* models, rollup::RollupStore* rollups);

  absl::StatusOr<v1::ApplyPlansResponse> ApplyPlans(const v1::ApplyPlansRequest& request,
                                                    const es::CommandOrigin& origin);
  absl::StatusOr<v1::SampleAck> Ingest(const v1::SampleBatch& batch, absl::Time now,
                                       const std::string& actor);
  absl::StatusOr<v1::LimitsApproved> ApproveLimits(const v1::ApproveLimitsRequest& request,
                                                   const es::CommandOrigin& origin);
  absl::StatusOr<v1::ChartResponse> Chart(const v1::ChartRequest& request);
  absl::StatusOr<v1::Capability> GetCapability(const v1::CapabilityRequest& request);
  absl::StatusOr<v1::RtyResponse> GetRty(const v1::RtyRequest& request);
  absl::StatusOr<v1::NcrResponse> ExecuteNcr(const v1::NcrRequest& request,
                                             const es::CommandOrigin& origin);
  absl::StatusOr<v1::ListNcrsResponse> ListNcrs(const v1::ListNcrsRequest& request);
  absl::StatusOr<v1::ListCharacteristicsResponse> ListCharacteristics(
      const v1::ListCharacteristicsRequest& request);

 private:
  struct Series {
    std::vector<Point> points;
    std::vector<uint32_t> revision;  // limits revision per point
    std::vector<std::vector<uint32_t>> rules;  // rules fired per point
    v1::ChartType chart = v1::CHART_TYPE_UNSPECIFIED;  // variables: names its dispersion chart
    RuleEngine engine;
    std::optional<double> last_x;  // I-MR
    std::vector<v1::RuleViolated> violations;
  };
  struct Pending {  // an NCR a violation or failed inspection asks for
    uint64_t sequence;
    v1::NcrRaised raise;
  };
  struct FacilityState {
    uint64_t head = 0;
    absl::flat_hash_map<std::string, Series> series;
    // source id -> source sequence -> content hash.
    absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, size_t>> seen;
    std::vector<Pending> pending_ncrs;
    // The facility's quality record (F.qms) as of book_head, for screening
    // without holding the record's store.
    QualityBook book;
    uint64_t book_head = UINT64_MAX;
  };
  // One facility's state and the lock of its measurement stream's writer.
  struct Slot {
    absl::Mutex mu;
    std::unique_ptr<FacilityState> state ABSL_GUARDED_BY(mu);
  };
  // A subgroup or inspection to add to a series.
  struct Sampled {
    std::string characteristic;
    Point point;
    eventlog::Envelope event;
    const v1::Characteristic* plan = nullptr;
    std::string work_unit;
  };

  Slot* SlotOf(const std::string& facility) ABSL_LOCKS_EXCLUDED(slots_mu_);
  absl::StatusOr<FacilityState*> Load(Slot& slot, const std::string& facility)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);
  absl::Status RefreshBook(FacilityState& f, const std::string& facility);
  // Adds a recorded sample at `sequence` to its series and evaluates the
  // rules; the violations it caused are returned (not recorded).
  std::vector<v1::RuleViolated> Evaluate(const QualityBook& book, FacilityState& f,
                                         const std::string& characteristic, v1::ChartType chart,
                                         const std::vector<uint32_t>& extra, const Point& point,
                                         const std::string& work_unit);
  void Record(FacilityState& f, const v1::RuleViolated& v);
  // The facilities of a scope and their production days (from/to checked).
  absl::StatusOr<std::vector<rollup::ScopePart>> Parts(const std::string& scope,
                                                       const std::string& from,
                                                       const std::string& to);
  absl::StatusOr<std::vector<es::Event>> DecideNcrAuto(const QualityBook& book, const Pending& p,
                                                      absl::Time now);

  eventlog::EventLog* log_;
  model::ModelStore* models_;
  rollup::RollupStore* rollups_;
  es::AggregateStore<QualityBook> books_;
  // Lock order: a facility's Slot::mu, then the record store's, then the
  // model's. Slots are never removed (their state is, to reload it).
  absl::Mutex slots_mu_;
  std::map<std::string, std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(slots_mu_);
};

// The limits in force for a subgroup at measurement-stream `sequence`
// (revision 0: none approved yet).
const v1::LimitsApproved& LimitsAt(const QualityBook& book, const std::string& characteristic,
                                   uint64_t sequence);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_QUALITY_H_
