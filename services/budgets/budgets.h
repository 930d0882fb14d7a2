// File: budgets.h
// -----------------------------------------------------------------------------
// The budgets context's write and read paths, without gRPC (grpc_service.cc
// maps them).
//
// Streams of facility F (context "budgets"): F.budget holds the budget
// record (es::AggregateStore<BudgetBook>); F holds the actual postings.
//
// Postings: a batch is screened posting by posting (each bad one rejected
// with its reason) and its events appended in one append with the expected
// sequence, acknowledged once durable. A document id is unique per
// facility: a resend with the same content is a duplicate, other content
// under the same id is ALREADY_EXISTS; a reversal is a new document that
// names the one it reverses and must cancel it exactly (same account and
// cost centre, negated amount and quantity), once. The index of documents
// (id, content hash, sequence: about 60 bytes each) and the totals per
// month and account are rebuilt from the stream after a restart.
//
// Variances read the actual good output, scrap and rework per product and
// month from the scheduling context's published counts (ProductionCounted
// in stream F, ProductionCountCorrected in F.plan), attributed to the month
// of the facility-local production day they were counted in.
#ifndef TAKT_SERVICES_BUDGETS_BUDGETS_H_
#define TAKT_SERVICES_BUDGETS_BUDGETS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/common/plan_stream.h"
#include "libs/es/aggregate_store.h"
#include "libs/es/context_follower.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/model_store.h"
#include "services/budgets/budget_book.h"
#include "services/budgets/facts.h"
#include "takt/budgets/v1/budgets_service.pb.h"

namespace takt::budgets {

inline constexpr char kBudgetsContext[] = "budgets";
inline constexpr int kMaxPostingsPerBatch = 10000;
inline constexpr int kMaxListedRejections = 100;
inline constexpr int kMaxCommandsPerRequest = 10000;
inline constexpr int kMaxVarianceMonths = 120;
inline constexpr int kMaxSavingsDays = 3660;

std::string BudgetStream(const std::string& facility);

// The variance report of a facility over months, pure: the budget record,
// the actual postings and the output (budgets.cc documents the rules).
absl::StatusOr<v1::VarianceResponse> VarianceReport(const BudgetBook& book, const ActualByMonth& actual,
                                                    const OutputByMonth& output, absl::CivilMonth from,
                                                    absl::CivilMonth to, bool by_month);

// A facility's report of month `m` converted in place to the reporting
// currency at the month's budget rate (every amount rounded half to even
// once; FAILED_PRECONDITION naming the month when it has no rate).
absl::Status ToReportingCurrency(const BudgetBook& book, absl::CivilMonth m, v1::VarianceReport& report);
// Adds every amount and count of `from` into `into`, lines by account.
absl::Status AddReport(v1::VarianceReport& into, const v1::VarianceReport& from);
// Recomputes the derived figures of a summed report (cost per good unit).
void FinishReport(v1::VarianceReport& report);

class Budgets {
 public:
  Budgets(eventlog::EventLog* log, model::ModelStore* models);

  absl::StatusOr<v1::ApplyBudgetResponse> ApplyBudget(const v1::ApplyBudgetRequest& request,
                                                      const es::CommandOrigin& origin);
  absl::StatusOr<v1::PostingAck> Ingest(const v1::PostingBatch& batch, const std::string& actor, absl::Time now);
  absl::StatusOr<v1::VarianceResponse> Variances(const v1::VarianceRequest& request);
  absl::StatusOr<v1::SavingsResponse> Savings(const v1::SavingsRequest& request);

 private:
  struct Document {
    size_t hash = 0;
    uint64_t sequence = 0;
    bool reversed = false;
  };
  struct FacilityPostings {
    uint64_t head = 0;
    absl::flat_hash_map<std::string, Document> documents;
    ActualByMonth actual;
    ActualByDay daily;
  };
  struct Slot {
    absl::Mutex mu;
    std::unique_ptr<FacilityPostings> state ABSL_GUARDED_BY(mu);
  };

  Slot* SlotOf(const std::string& facility) ABSL_LOCKS_EXCLUDED(slots_mu_);
  absl::StatusOr<FacilityPostings*> Load(Slot& slot, const std::string& facility)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(slot.mu);
  absl::StatusOr<v1::VarianceResponse> FacilityVariances(const std::string& facility, absl::CivilMonth from,
                                                         absl::CivilMonth to, bool by_month);
  absl::StatusOr<v1::VarianceResponse> RegionVariances(const std::string& region, absl::CivilMonth from,
                                                       absl::CivilMonth to, bool by_month);
  // Calls `read` with the facility's output, caught up with scheduling's
  // streams (under the output lock: keep it short).
  absl::Status ReadOutput(const std::string& facility,
                          const std::function<absl::Status(const OutputByMonth&, const OutputByDay&)>& read)
      ABSL_LOCKS_EXCLUDED(output_mu_);
  // One facility's initiatives measured over [from, to], facility currency.
  absl::StatusOr<std::vector<v1::InitiativeSavings>> FacilitySavings(const std::string& facility,
                                                                     absl::CivilDay from, absl::CivilDay to);

  eventlog::EventLog* log_;
  model::ModelStore* models_;
  es::AggregateStore<BudgetBook> books_;
  // Lock order: a facility's Slot::mu, then the record store's, then the
  // model's.
  absl::Mutex slots_mu_;
  std::map<std::string, std::unique_ptr<Slot>> slots_ ABSL_GUARDED_BY(slots_mu_);
  // Scheduling's counts of every facility (a subscription: on Kafka its topic).
  absl::Mutex output_mu_;
  es::ContextFollower output_follower_ ABSL_GUARDED_BY(output_mu_);
  struct FacilityOutput {
    OutputByMonth months;
    OutputByDay days;
  };
  std::map<std::string, FacilityOutput> outputs_ ABSL_GUARDED_BY(output_mu_);
};

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_BUDGETS_H_
