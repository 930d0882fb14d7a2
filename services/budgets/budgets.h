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
#include <optional>
#include <set>
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

// What a scheduling event says was produced, where and when: a
// ProductionCounted of stream F, or a ProductionCountCorrected of F.plan
// (the difference, at the instant counted). nullopt for other events.
struct Produced {
  std::string facility;
  absl::Time at;
  std::string product;
  Output delta;
};
absl::StatusOr<std::optional<Produced>> ProductionOf(const eventlog::LoggedEvent& event);

// Adds production of a facility-local production day to both sums.
absl::Status AddOutput(OutputByMonth& months, OutputByDay& days, absl::CivilDay day, const std::string& product,
                       const Output& delta);
// Time a staffing ClockedOut says was attended: the facility, the clock-in
// and the microseconds worked. nullopt for other events.
struct Attended {
  std::string facility;
  absl::Time clocked_in;
  int64_t worked_us = 0;
};
absl::StatusOr<std::optional<Attended>> AttendanceOf(const eventlog::LoggedEvent& event);

// The actual sums with the hours of accounts that take them from
// attendance (AccountDefined.hours_from_attendance) replaced, in each month
// with attended time, by the attended hours; `months` gets those months.
absl::StatusOr<ActualByMonth> WithAttendedHours(const BudgetBook& book, ActualByMonth actual,
                                                const AttendedByMonth& attended_us,
                                                std::set<absl::CivilMonth>* months);

// Whether any labour account takes its hours from attendance.
bool TakesAttendance(const BudgetBook& book);
// The facility's report: WithAttendedHours, then VarianceReport, with the
// months that took attended hours counted and the breakdown by cost centre
// (actual against the approved version's static budget per cost centre and
// account over the range).
absl::StatusOr<v1::VarianceResponse> FinishedReport(const BudgetBook& book, const std::string& facility,
                                                    ActualByMonth actual, const ActualByCostCentre& by_cost_centre,
                                                    const OutputByMonth& output,
                                                    const AttendedByMonth& attended, absl::CivilMonth from,
                                                    absl::CivilMonth to, bool by_month);

// Adds a posting to a facility's totals.
absl::Status AccumulatePosting(PostingTotals& totals, const v1::PostingRecorded& posting);

class Budgets {
 public:
  Budgets(eventlog::EventLog* log, model::ModelStore* models);

  absl::StatusOr<v1::ApplyBudgetResponse> ApplyBudget(const v1::ApplyBudgetRequest& request,
                                                      const es::CommandOrigin& origin);
  absl::StatusOr<v1::PostingAck> Ingest(const v1::PostingBatch& batch, const std::string& actor, absl::Time now);
  absl::StatusOr<v1::VarianceResponse> Variances(const v1::VarianceRequest& request);
  absl::StatusOr<v1::SavingsResponse> Savings(const v1::SavingsRequest& request);
  // explain.cc.
  absl::StatusOr<v1::VarianceExplanation> ExplainVariances(const v1::VarianceRequest& request);

 private:
  struct Document {
    size_t hash = 0;
    uint64_t sequence = 0;
    bool reversed = false;
  };
  struct FacilityPostings {
    uint64_t head = 0;
    absl::flat_hash_map<std::string, Document> documents;
    PostingTotals totals;
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
  // Calls `read` with the facility's facts, caught up with scheduling's
  // streams and, when `attendance`, staffing's (under the facts lock: keep
  // it short).
  absl::Status ReadFacts(const std::string& facility, bool attendance,
                         const std::function<absl::Status(const FacilityFacts&)>& read)
      ABSL_LOCKS_EXCLUDED(facts_mu_);
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
  // Scheduling's counts and staffing's attendance of every facility
  // (subscriptions: on Kafka their topics).
  absl::Mutex facts_mu_;
  es::ContextFollower output_follower_ ABSL_GUARDED_BY(facts_mu_);
  es::ContextFollower attendance_follower_ ABSL_GUARDED_BY(facts_mu_);
  std::map<std::string, FacilityFacts> facts_ ABSL_GUARDED_BY(facts_mu_);
};

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_BUDGETS_H_
