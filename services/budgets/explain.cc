// Budgets::ExplainVariances: an auditor's recomputation of a facility's
// variance report from the raw events, apart from the service's state: the
// budget record folded afresh from stream F.budget, the postings summed
// afresh from stream F (no document index: the log holds only accepted
// postings), scheduling's counts read through a new subscription from the
// context's beginning (and staffing's attendance when a labour account
// takes its hours from it). The report is then computed by the same pure
// VarianceReport (report.cc) and compared field by field with the
// service's answer. The two are taken between the same log positions: when
// anything is appended meanwhile, the pair is taken again (three tries).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/status_macros.h"
#include "libs/es/context_follower.h"
#include "services/budgets/budgets.h"

namespace takt::budgets {
namespace {

constexpr size_t kReadBatch = 10000;
constexpr int kMaxDifferences = 100;

struct Positions {
  uint64_t budget = 0;
  uint64_t postings = 0;
  eventlog::Cursor scheduling;
  eventlog::Cursor staffing;
  bool operator==(const Positions& o) const {
    return budget == o.budget && postings == o.postings && eventlog::Lag(scheduling, o.scheduling) == 0 &&
           eventlog::Lag(o.scheduling, scheduling) == 0 && eventlog::Lag(staffing, o.staffing) == 0 &&
           eventlog::Lag(o.staffing, staffing) == 0;
  }
};

absl::StatusOr<Positions> PositionsOf(eventlog::EventLog& log, const std::string& facility, bool attendance) {
  Positions p;
  TAKT_ASSIGN_OR_RETURN(auto heads, log.Heads(kBudgetsContext));
  for (const auto& h : heads) {
    if (h.stream.facility == facility) p.postings = h.sequence;
    if (h.stream.facility == BudgetStream(facility)) p.budget = h.sequence;
  }
  TAKT_ASSIGN_OR_RETURN(p.scheduling, log.EndCursor(kSchedulingContext));
  if (attendance) {
    TAKT_ASSIGN_OR_RETURN(p.staffing, log.EndCursor(kStaffingContext));
  }
  return p;
}

// Calls `fn` with every event of a stream, in order.
absl::Status ReadAll(eventlog::EventLog& log, const eventlog::StreamId& stream,
                     const std::function<absl::Status(const eventlog::LoggedEvent&)>& fn) {
  uint64_t next = 1;
  for (;;) {
    TAKT_ASSIGN_OR_RETURN(auto events, log.ReadStream(stream, next, kReadBatch));
    if (events.empty()) return absl::OkStatus();
    for (const auto& e : events) {
      TAKT_RETURN_IF_ERROR(fn(e));
      next = e.envelope.sequence() + 1;
    }
  }
}

}  // namespace

absl::StatusOr<v1::VarianceExplanation> Budgets::ExplainVariances(const v1::VarianceRequest& request) {
  if (!request.region().empty()) {
    return absl::InvalidArgumentError(
        "explain takes one facility: a region's report is the sum of its plants' reports converted at each "
        "month's budget rate (explain each plant)");
  }
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  auto from = ParseMonth(request.from_month());
  if (!from.ok()) return absl::InvalidArgumentError(absl::StrCat("from_month: ", from.status().message()));
  auto to = ParseMonth(request.to_month());
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to_month: ", to.status().message()));
  if (*to < *from) return absl::InvalidArgumentError("to_month is before from_month");
  if (*to - *from >= kMaxVarianceMonths) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxVarianceMonths, " months per report"));
  }
  const kpi::FacilityCalendar* calendar = models_->Calendar(facility);
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no calendar this machine can load"));
  }
  // Whether labour hours come from attendance (then staffing's position counts too).
  TAKT_ASSIGN_OR_RETURN(BudgetBook current, books_.Snapshot(facility));
  const bool attendance = TakesAttendance(current);
  v1::VarianceExplanation out;
  for (int attempt = 0;; ++attempt) {
    TAKT_ASSIGN_OR_RETURN(Positions before, PositionsOf(*log_, facility, attendance));
    out.Clear();
    TAKT_ASSIGN_OR_RETURN(*out.mutable_served(), FacilityVariances(facility, *from, *to, request.by_month()));
    // The record.
    BudgetBook book;
    uint64_t budget_sequence = 0;
    TAKT_RETURN_IF_ERROR(ReadAll(*log_, {kBudgetsContext, BudgetStream(facility)},
                                 [&](const eventlog::LoggedEvent& e) -> absl::Status {
                                   budget_sequence = e.envelope.sequence();
                                   return book.Apply({e.envelope.event_type(), e.envelope.payload()});
                                 }));
    if (!book.configured()) {
      return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no ledger yet"));
    }
    // The postings.
    PostingTotals totals;
    uint64_t postings_sequence = 0, postings_read = 0;
    TAKT_RETURN_IF_ERROR(ReadAll(*log_, {kBudgetsContext, facility}, [&](const eventlog::LoggedEvent& e) -> absl::Status {
      postings_sequence = e.envelope.sequence();
      if (e.envelope.event_type() != v1::PostingRecorded::descriptor()->full_name()) return absl::OkStatus();
      v1::PostingRecorded p;
      if (!p.ParseFromString(e.envelope.payload())) {
        return absl::DataLossError(absl::StrCat("budgets/", facility, " sequence ", e.envelope.sequence(),
                                                " does not parse"));
      }
      ++postings_read;
      return AccumulatePosting(totals, p);
    }));
    // Scheduling's counts, through a subscription of its own.
    OutputByMonth output;
    OutputByDay days;
    uint64_t production_read = 0;
    es::ContextFollower counts(log_, kSchedulingContext);
    TAKT_RETURN_IF_ERROR(counts.CatchUp([&](const eventlog::LoggedEvent& e) -> absl::Status {
      TAKT_ASSIGN_OR_RETURN(std::optional<Produced> produced, ProductionOf(e));
      if (!produced || produced->facility != facility) return absl::OkStatus();
      ++production_read;
      return AddOutput(output, days, calendar->ProductionDay(produced->at), produced->product, produced->delta);
    }));
    // Staffing's attendance, likewise, when a labour account takes its hours from it.
    AttendedByMonth attended;
    if (TakesAttendance(book)) {
      es::ContextFollower attendance(log_, kStaffingContext);
      TAKT_RETURN_IF_ERROR(attendance.CatchUp([&](const eventlog::LoggedEvent& e) -> absl::Status {
        TAKT_ASSIGN_OR_RETURN(std::optional<Attended> a, AttendanceOf(e));
        if (!a || a->facility != facility) return absl::OkStatus();
        if (!AddTo(attended[absl::CivilMonth(calendar->ProductionDay(a->clocked_in))], a->worked_us)) {
          return absl::OutOfRangeError("attended time leaves the int64 range");
        }
        return absl::OkStatus();
      }));
    }
    TAKT_ASSIGN_OR_RETURN(*out.mutable_recomputed(), FinishedReport(book, facility, std::move(totals.monthly),
                                                                     totals.by_cost_centre, output, attended, *from, *to, request.by_month()));
    TAKT_ASSIGN_OR_RETURN(Positions after, PositionsOf(*log_, facility, attendance));
    out.set_budget_sequence(budget_sequence);
    out.set_postings_sequence(postings_sequence);
    out.set_postings_read(postings_read);
    out.set_production_events_read(production_read);
    if (before == after) break;
    if (attempt == 2) {
      return absl::UnavailableError("the log kept moving during three explanations; try again when it is quieter");
    }
  }
  google::protobuf::util::MessageDifferencer differ;
  std::string report;
  differ.ReportDifferencesToString(&report);
  out.set_equal(differ.Compare(out.served(), out.recomputed()));
  for (absl::string_view line : absl::StrSplit(report, '\n', absl::SkipEmpty())) {
    if (out.differences_size() >= kMaxDifferences) break;
    out.add_differences(std::string(line));
  }
  return out;
}

}  // namespace takt::budgets
