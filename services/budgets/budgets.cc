#include "services/budgets/budgets.h"

#include <functional>
#include <set>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/ids.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/es/screened_append.h"
#include "libs/kpi/calendar.h"
#include "services/budgets/savings.h"
#include "services/budgets/variance.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::budgets {
namespace {

namespace schv1 = ::takt::scheduling::v1;
namespace stv1 = ::takt::staffing::v1;

constexpr char kClockedOutType[] = "takt.staffing.v1.ClockedOut";

constexpr char kPostingType[] = "takt.budgets.v1.PostingRecorded";
constexpr size_t kMaxText = 200;
constexpr size_t kReadBatch = 10000;

size_t PostingHash(const v1::PostingRecorded& p) {
  return std::hash<std::string>()(absl::StrCat(p.account(), std::string(1, '\0'), p.cost_centre(),
                                               std::string(1, '\0'), p.day(), std::string(1, '\0'), p.amount(),
                                               std::string(1, '\0'), p.quantity(), std::string(1, '\0'),
                                               p.product(), std::string(1, '\0'), p.reverses(),
                                               std::string(1, '\0'), p.text()));
}

absl::StatusOr<int64_t> QuantityNanos(const std::string& text) {
  if (text.empty()) return 0;
  auto q = ParseDecimal(text);
  if (!q.ok()) return q.status();
  return q->nanos;
}

absl::Status AddChecked(int64_t& sum, int64_t amount, const char* what) {
  if (!AddTo(sum, amount)) return absl::OutOfRangeError(absl::StrCat(what, " leaves the int64 range"));
  return absl::OkStatus();
}

absl::Status AddOutputTo(Output& o, const Output& delta) {
  TAKT_RETURN_IF_ERROR(AddChecked(o.good, delta.good, "good output"));
  TAKT_RETURN_IF_ERROR(AddChecked(o.scrap, delta.scrap, "scrap"));
  return AddChecked(o.rework, delta.rework, "rework");
}

// Adds a posting to its account's monthly and daily totals.
absl::Status Accumulate(PostingTotals& t, absl::CivilDay day, const v1::PostingRecorded& p, int64_t quantity_nanos) {
  const absl::CivilMonth m(day);
  for (Actual* a : {&t.monthly[{m, p.account()}], &t.daily[{day, p.account(), p.product()}],
                    &t.by_cost_centre[{m, p.cost_centre(), p.account()}]}) {
    TAKT_RETURN_IF_ERROR(AddChecked(a->amount, p.amount(), "an account's amount"));
    TAKT_RETURN_IF_ERROR(AddChecked(a->quantity_nanos, quantity_nanos, "an account's quantity"));
    ++a->postings;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status AddOutput(OutputByMonth& months, OutputByDay& days, absl::CivilDay day, const std::string& product,
                       const Output& delta) {
  TAKT_RETURN_IF_ERROR(AddOutputTo(months[{absl::CivilMonth(day), product}], delta));
  return AddOutputTo(days[{day, product}], delta);
}

absl::Status AccumulatePosting(PostingTotals& totals, const v1::PostingRecorded& p) {
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, model::ParseDay(p.day()));
  TAKT_ASSIGN_OR_RETURN(int64_t q, QuantityNanos(p.quantity()));
  return Accumulate(totals, day, p, q);
}

absl::StatusOr<std::optional<Produced>> ProductionOf(const eventlog::LoggedEvent& logged) {
  const auto& e = logged.envelope;
  if (e.event_type() == schv1::ProductionCounted::descriptor()->full_name()) {
    schv1::ProductionCounted c;
    if (!c.ParseFromString(e.payload())) return absl::DataLossError("a ProductionCounted does not parse");
    return Produced{e.facility(), ToTime(e.occurred_time()), c.product(), {c.good(), c.scrap(), c.rework()}};
  }
  if (e.event_type() == schv1::ProductionCountCorrected::descriptor()->full_name()) {
    schv1::ProductionCountCorrected c;
    if (!c.ParseFromString(e.payload())) return absl::DataLossError("a correction does not parse");
    auto f = FacilityOfPlanStream(e.facility());
    if (!f) return std::nullopt;
    return Produced{*f, ToTime(c.counted_time()), c.product(),
                    {c.corrected().good() - c.previous().good(), c.corrected().scrap() - c.previous().scrap(),
                     c.corrected().rework() - c.previous().rework()}};
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<Attended>> AttendanceOf(const eventlog::LoggedEvent& logged) {
  const auto& e = logged.envelope;
  if (e.event_type() != kClockedOutType) return std::nullopt;
  stv1::ClockedOut c;
  if (!c.ParseFromString(e.payload())) return absl::DataLossError("a ClockedOut does not parse");
  if (FacilityOfPlanStream(e.facility()) || absl::EndsWith(e.facility(), kStaffSuffix)) return std::nullopt;
  return Attended{e.facility(), ToTime(c.clocked_in()), c.worked_us()};
}

bool TakesAttendance(const BudgetBook& book) {
  for (const auto& [id, a] : book.accounts()) {
    if (a.kind() == v1::DIRECT_LABOUR && a.hours_from_attendance()) return true;
  }
  return false;
}

absl::StatusOr<ActualByMonth> WithAttendedHours(const BudgetBook& book, ActualByMonth actual,
                                                const AttendedByMonth& attended_us,
                                                std::set<absl::CivilMonth>* months) {
  for (const auto& [id, a] : book.accounts()) {
    if (a.kind() != v1::DIRECT_LABOUR || !a.hours_from_attendance()) continue;
    for (const auto& [m, us] : attended_us) {
      if (us == 0) continue;
      // Microseconds to nanos of an hour: x 10^9 / (3.6 x 10^9), half to even.
      TAKT_ASSIGN_OR_RETURN(int64_t hours_nanos, MulDiv(us, 10, 36));
      actual[{m, id}].quantity_nanos = hours_nanos;
      if (months != nullptr) months->insert(m);
    }
  }
  return actual;
}

absl::StatusOr<v1::VarianceResponse> FinishedReport(const BudgetBook& book, const std::string& facility,
                                                    ActualByMonth actual, const ActualByCostCentre& by_cost_centre,
                                                    const OutputByMonth& output,
                                                    const AttendedByMonth& attended, absl::CivilMonth from,
                                                    absl::CivilMonth to, bool by_month) {
  std::set<absl::CivilMonth> attended_months;
  TAKT_ASSIGN_OR_RETURN(actual, WithAttendedHours(book, std::move(actual), attended, &attended_months));
  TAKT_ASSIGN_OR_RETURN(v1::VarianceResponse response, VarianceReport(book, actual, output, from, to, by_month));
  response.set_facility(facility);
  uint32_t n = 0;
  for (absl::CivilMonth m : attended_months) n += (m >= from && m <= to) ? 1 : 0;
  response.mutable_total()->set_months_with_attended_hours(n);
  for (auto& month : *response.mutable_months()) {
    auto m = ParseMonth(month.month());
    if (m.ok() && attended_months.contains(*m)) month.set_months_with_attended_hours(1);
  }
  // By cost centre and account: actual against the static budget.
  std::map<std::pair<std::string, std::string>, v1::CostCentreLine> lines;
  for (auto it = by_cost_centre.lower_bound({from, "", ""});
       it != by_cost_centre.end() && std::get<0>(it->first) <= to; ++it) {
    v1::CostCentreLine& l = lines[{std::get<1>(it->first), std::get<2>(it->first)}];
    int64_t v = l.actual();
    TAKT_RETURN_IF_ERROR(AddChecked(v, it->second.amount, "a cost centre's actual"));
    l.set_actual(v);
  }
  for (absl::CivilMonth m = from; m <= to; ++m) {
    const std::string version = book.ApprovedVersion(m);
    if (version.empty()) continue;
    for (const auto& [cc, unused] : book.cost_centres()) {
      for (const auto& [account, unused2] : book.accounts()) {
        const int64_t budget = book.Budget(version, m, cc, account);
        if (budget == 0) continue;
        v1::CostCentreLine& l = lines[{cc, account}];
        int64_t v = l.static_budget();
        TAKT_RETURN_IF_ERROR(AddChecked(v, budget, "a cost centre's budget"));
        l.set_static_budget(v);
      }
    }
  }
  for (auto& [key, l] : lines) {
    l.set_cost_centre(key.first);
    l.set_account(key.second);
    int64_t v = l.actual();
    TAKT_RETURN_IF_ERROR(AddChecked(v, -l.static_budget(), "a cost centre's variance"));
    l.set_static_variance(v);
    *response.add_cost_centres() = std::move(l);
  }
  return response;
}

std::string BudgetStream(const std::string& facility) { return facility + kBudgetSuffix; }

Budgets::Budgets(eventlog::EventLog* log, model::ModelStore* models)
    : log_(log),
      models_(models),
      books_(log, {.context = kBudgetsContext,
                   .stream = BudgetStream,
                   .initial = [](const std::string&) { return BudgetBook(); }}),
      output_follower_(log, kSchedulingContext),
      attendance_follower_(log, kStaffingContext) {}

// ---- The record ----------------------------------------------------------------

absl::StatusOr<v1::ApplyBudgetResponse> Budgets::ApplyBudget(const v1::ApplyBudgetRequest& request,
                                                             const es::CommandOrigin& origin) {
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  if (request.commands_size() == 0) return absl::InvalidArgumentError("the request has no commands");
  if (request.commands_size() > kMaxCommandsPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxCommandsPerRequest, " commands per request (split it)"));
  }
  if (!request.request_id().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("request_id", request.request_id(), kMaxRequestIdLength));
  }
  return books_.Execute<v1::ApplyBudgetResponse>(
      facility, request, origin,
      [&](BudgetBook& scratch, es::Decided& out, v1::ApplyBudgetResponse& response) -> absl::Status {
        absl::Status status;
        models_->Read([&](const model::EnterpriseModel& m) {
          auto counts = out.EmitEach<BudgetBook>(
              scratch, "commands", request.commands_size(),
              [&](int i, const BudgetBook& book) { return DecideBudget(book, request.commands(i), m, facility, origin); });
          if (!counts.ok()) {
            status = counts.status();
            return;
          }
          response.set_changed(counts->changed);
          response.set_unchanged(counts->unchanged);
        });
        return status;
      },
      request.validate_only());
}

// ---- Postings ---------------------------------------------------------------------

Budgets::Slot* Budgets::SlotOf(const std::string& facility) {
  absl::MutexLock lock(&slots_mu_);
  auto& slot = slots_[facility];
  if (!slot) slot = std::make_unique<Slot>();
  return slot.get();
}

absl::StatusOr<Budgets::FacilityPostings*> Budgets::Load(Slot& slot, const std::string& facility) {
  if (slot.state) return slot.state.get();
  auto f = std::make_unique<FacilityPostings>();
  const eventlog::StreamId stream{kBudgetsContext, facility};
  for (;;) {
    TAKT_ASSIGN_OR_RETURN(auto events, log_->ReadStream(stream, f->head + 1, kReadBatch));
    if (events.empty()) break;
    for (const auto& logged : events) {
      const auto& e = logged.envelope;
      f->head = e.sequence();
      if (e.event_type() != kPostingType) continue;
      v1::PostingRecorded p;
      if (!p.ParseFromString(e.payload())) {
        return absl::DataLossError(absl::StrCat("budgets/", facility, " sequence ", e.sequence(), " does not parse"));
      }
      f->documents[p.document()] = {PostingHash(p), e.sequence(), false};
      if (!p.reverses().empty()) f->documents[p.reverses()].reversed = true;
      TAKT_RETURN_IF_ERROR(AccumulatePosting(f->totals, p));
    }
  }
  slot.state = std::move(f);
  return slot.state.get();
}

absl::StatusOr<v1::PostingAck> Budgets::Ingest(const v1::PostingBatch& batch, const std::string& actor,
                                               absl::Time now) {
  if (batch.postings_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has no postings"));
  }
  if (batch.postings_size() > kMaxPostingsPerBatch) {
    return WithField(WithReason(absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has ", batch.postings_size(),
                                                   " postings; at most ", kMaxPostingsPerBatch,
                                                   " per batch (split it)")), "BATCH_TOO_LARGE"), "postings");
  }
  const std::string& facility = batch.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  v1::PostingAck ack;
  ack.set_batch_id(batch.batch_id());
  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityPostings * f, Load(*slot, facility));
  auto reject = [&](int i, absl::StatusCode code, std::string reason) {
    if (ack.rejected_size() >= kMaxListedRejections) {
      ack.set_rejected_not_listed(ack.rejected_not_listed() + 1);
      return;
    }
    auto* x = ack.add_rejected();
    x->set_index(static_cast<uint32_t>(i));
    if (batch.postings(i).document().size() <= kMaxIdLength) x->set_document(batch.postings(i).document());
    x->set_code(static_cast<int>(code));
    x->set_reason(std::move(reason));
  };
  eventlog::AppendRequest append;
  append.context = kBudgetsContext;
  append.facility = facility;
  append.expected_sequence = static_cast<int64_t>(f->head);
  // What this batch adds, applied once durable.
  absl::flat_hash_map<std::string, Document> added;
  absl::flat_hash_set<std::string> reversed_here;
  struct Recorded {
    v1::PostingRecorded posting;
    absl::CivilDay day;
    int64_t quantity_nanos;
  };
  std::vector<Recorded> recorded;
  absl::flat_hash_map<std::string, size_t> recorded_at;  // document -> index in `recorded`
  const absl::CivilDay today = absl::ToCivilDay(now, absl::UTCTimeZone());
  TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const BudgetBook& book) {
    for (int i = 0; i < batch.postings_size(); ++i) {
      const v1::Posting& in = batch.postings(i);
      if (absl::Status s = ValidateId("document", in.document()); !s.ok()) {
        reject(i, absl::StatusCode::kInvalidArgument, std::string(s.message()));
        continue;
      }
      if (!book.configured()) {
        reject(i, absl::StatusCode::kFailedPrecondition,
               absl::StrCat("facility '", facility, "' has no ledger yet (takt budgets apply: configure_ledger)"));
        continue;
      }
      const v1::AccountDefined* account = book.FindAccount(in.account());
      if (account == nullptr) {
        reject(i, absl::StatusCode::kNotFound,
               absl::StrCat("account '", in.account().substr(0, kMaxIdLength), "' is not defined"));
        continue;
      }
      if (!book.HasCostCentre(in.cost_centre())) {
        reject(i, absl::StatusCode::kNotFound,
               absl::StrCat("cost centre '", in.cost_centre().substr(0, kMaxIdLength), "' is not defined"));
        continue;
      }
      auto day = model::ParseDay(in.day());
      if (!day.ok()) {
        reject(i, absl::StatusCode::kInvalidArgument, absl::StrCat("day: ", day.status().message()));
        continue;
      }
      if (*day > today + 1) {
        reject(i, absl::StatusCode::kInvalidArgument, absl::StrCat("day ", in.day(), " is in the future"));
        continue;
      }
      auto amount = ParseAmount(in.amount(), book.currency());
      if (!amount.ok()) {
        reject(i, absl::StatusCode::kInvalidArgument, std::string(amount.status().message()));
        continue;
      }
      auto quantity = QuantityNanos(in.quantity());
      if (!quantity.ok()) {
        reject(i, absl::StatusCode::kInvalidArgument, absl::StrCat("quantity: ", quantity.status().message()));
        continue;
      }
      if (!in.product().empty()) {
        if (absl::Status s = ValidateId("product", in.product()); !s.ok()) {
          reject(i, absl::StatusCode::kInvalidArgument, std::string(s.message()));
          continue;
        }
      }
      if (in.text().size() > kMaxText) {
        reject(i, absl::StatusCode::kInvalidArgument, absl::StrCat("text is longer than ", kMaxText, " bytes"));
        continue;
      }
      v1::PostingRecorded p;
      p.set_document(in.document());
      p.set_account(in.account());
      p.set_cost_centre(in.cost_centre());
      p.set_day(absl::FormatCivilTime(*day));
      p.set_amount(*amount);
      if (!in.quantity().empty()) p.set_quantity(FormatDecimal({*quantity}));
      p.set_product(in.product());
      p.set_reverses(in.reverses());
      p.set_text(in.text());
      const size_t hash = PostingHash(p);
      const Document* known = nullptr;
      if (auto it = added.find(p.document()); it != added.end()) {
        known = &it->second;
      } else if (auto it2 = f->documents.find(p.document()); it2 != f->documents.end() && it2->second.sequence != 0) {
        known = &it2->second;
      }
      if (known != nullptr) {
        if (known->hash == hash) {
          ack.set_duplicates(ack.duplicates() + 1);
        } else {
          reject(i, absl::StatusCode::kAlreadyExists,
                 absl::StrCat("document '", p.document(), "' was recorded with other content; a correction is a "
                              "reversal (a new document naming it in `reverses`) and a new posting"));
        }
        continue;
      }
      if (!p.reverses().empty()) {
        // The original: earlier in this batch, or recorded before it.
        v1::PostingRecorded o;
        bool found = false, reversed = reversed_here.contains(p.reverses());
        if (auto at = recorded_at.find(p.reverses()); at != recorded_at.end()) {
          o = recorded[at->second].posting;
          found = true;
        }
        if (!found) {
          auto original = f->documents.find(p.reverses());
          if (original != f->documents.end() && original->second.sequence != 0) {
            reversed = reversed || original->second.reversed;
            auto read = log_->ReadStream({kBudgetsContext, facility}, original->second.sequence, 1);
            if (!read.ok() || read->empty() || !o.ParseFromString((*read)[0].envelope.payload())) {
              reject(i, absl::StatusCode::kUnavailable, "the reversed document could not be read; resend");
              continue;
            }
            found = true;
          }
        }
        if (!found) {
          reject(i, absl::StatusCode::kNotFound,
                 absl::StrCat("reverses '", p.reverses().substr(0, kMaxIdLength), "': no such document recorded"));
          continue;
        }
        if (reversed) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("document '", p.reverses(), "' is already reversed"));
          continue;
        }
        auto oq = QuantityNanos(o.quantity());
        if (o.account() != p.account() || o.cost_centre() != p.cost_centre() || o.amount() != -p.amount() ||
            !oq.ok() || *oq != -*quantity) {
          reject(i, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("a reversal of '", o.document(), "' must have its account (", o.account(),
                              "), cost centre (", o.cost_centre(), ") and negated amount (",
                              FormatAmount(-o.amount(), *MinorExponent(book.currency())), ") and quantity"));
          continue;
        }
        reversed_here.insert(p.reverses());
      }
      added[p.document()] = {hash, 0, false};
      // No source id on the envelope: documents are deduplicated here (the
      // index above, rebuilt from the stream), and the log's own source-id
      // index would cost a lookup per posting (a third of the import).
      eventlog::Envelope e;
      e.set_schema_version(1);
      e.set_actor(actor);
      e.set_event_type(kPostingType);
      *e.mutable_occurred_time() = ToProto(absl::FromCivil(*day, absl::UTCTimeZone()));
      e.set_payload(p.SerializeAsString());
      append.events.push_back(std::move(e));
      recorded_at[p.document()] = recorded.size();
      recorded.push_back({std::move(p), *day, *quantity});
      ack.set_accepted(ack.accepted() + 1);
    }
  }));
  if (append.events.empty()) {
    ack.set_head_sequence(f->head);
    return ack;
  }
  auto head = es::AppendScreened(*log_, std::move(append), f->head);
  if (!head.ok()) {
    slot->state.reset();  // reloaded from the log on the next batch
    return head.status();
  }
  for (size_t k = 0; k < recorded.size(); ++k) {
    const v1::PostingRecorded& p = recorded[k].posting;
    f->documents[p.document()] = {added[p.document()].hash, f->head + 1 + k, false};
    if (!p.reverses().empty()) f->documents[p.reverses()].reversed = true;
    if (absl::Status s = Accumulate(f->totals, recorded[k].day, p, recorded[k].quantity_nanos);
        !s.ok()) {
      slot->state.reset();  // reload from the log next time
      return s;
    }
  }
  f->head = *head;
  ack.set_head_sequence(f->head);
  return ack;
}

// ---- Output from scheduling ------------------------------------------------------

absl::Status Budgets::ReadFacts(const std::string& facility, bool attendance,
                                const std::function<absl::Status(const FacilityFacts&)>& read) {
  absl::MutexLock lock(&facts_mu_);
  // The folds below run under the lock (the analysis does not see into lambdas).
  std::map<std::string, FacilityFacts>* facts = &facts_;
  absl::Status caught_up = output_follower_.CatchUp([&](const eventlog::LoggedEvent& logged) -> absl::Status {
    TAKT_ASSIGN_OR_RETURN(std::optional<Produced> produced, ProductionOf(logged));
    if (!produced) return absl::OkStatus();
    const kpi::FacilityCalendar* calendar = models_->Calendar(produced->facility);
    if (calendar == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("facility '", produced->facility, "' has no calendar this machine can load"));
    }
    FacilityFacts& f = (*facts)[produced->facility];
    return AddOutput(f.months, f.days, calendar->ProductionDay(produced->at), produced->product, produced->delta);
  });
  if (caught_up.ok() && attendance) {
    caught_up = attendance_follower_.CatchUp([&](const eventlog::LoggedEvent& logged) -> absl::Status {
      TAKT_ASSIGN_OR_RETURN(std::optional<Attended> attended, AttendanceOf(logged));
      if (!attended) return absl::OkStatus();
      const kpi::FacilityCalendar* calendar = models_->Calendar(attended->facility);
      if (calendar == nullptr) {
        // Not skipped (its hours would be lost): the follower starts over
        // once the model knows the facility.
        return absl::FailedPreconditionError(
            absl::StrCat("facility '", attended->facility, "' has no calendar this machine can load"));
      }
      return AddChecked((*facts)[attended->facility]
                            .attended_us[absl::CivilMonth(calendar->ProductionDay(attended->clocked_in))],
                        attended->worked_us, "attended time");
    });
  }
  if (!caught_up.ok()) {
    // Both followers start over.
    output_follower_ = es::ContextFollower(log_, kSchedulingContext);
    attendance_follower_ = es::ContextFollower(log_, kStaffingContext);
    facts_.clear();
    return caught_up;
  }
  static const FacilityFacts* const kNone = new FacilityFacts();
  auto it = facts_.find(facility);
  return read(it == facts_.end() ? *kNone : it->second);
}

// ---- Variances ------------------------------------------------------------------

absl::StatusOr<v1::VarianceResponse> Budgets::Variances(const v1::VarianceRequest& request) {
  auto from = ParseMonth(request.from_month());
  if (!from.ok()) return absl::InvalidArgumentError(absl::StrCat("from_month: ", from.status().message()));
  auto to = ParseMonth(request.to_month());
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to_month: ", to.status().message()));
  if (*to < *from) return absl::InvalidArgumentError("to_month is before from_month");
  if (*to - *from >= kMaxVarianceMonths) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxVarianceMonths, " months per report"));
  }
  if (!request.region().empty() && !request.facility().empty()) {
    return absl::InvalidArgumentError("give a facility or a region, not both");
  }
  if (request.facility().empty()) {  // a region, or the enterprise (every plant)
    return RegionVariances(request.region(), *from, *to, request.by_month());
  }
  return FacilityVariances(request.facility(), *from, *to, request.by_month());
}

absl::StatusOr<v1::VarianceResponse> Budgets::RegionVariances(const std::string& region, absl::CivilMonth from,
                                                              absl::CivilMonth to, bool by_month) {
  // The facilities of each month.
  std::map<std::string, std::set<absl::CivilMonth>> members;
  bool known = false;
  models_->Read([&](const model::EnterpriseModel& m) {
    known = region.empty() || m.HasRegion(region);
    for (const std::string& f : m.Facilities()) {
      for (absl::CivilMonth month = from; month <= to; ++month) {
        if (region.empty() || m.RegionOf(f, absl::CivilDay(month)) == region) members[f].insert(month);
      }
    }
  });
  if (!known) return absl::NotFoundError(absl::StrCat("region '", region.substr(0, kMaxIdLength), "' is not defined"));
  v1::VarianceResponse response;
  response.set_region(region);
  std::map<absl::CivilMonth, v1::VarianceReport> months;
  for (const auto& [facility, in_region] : members) {
    absl::StatusOr<v1::VarianceResponse> report = FacilityVariances(facility, from, to, /*by_month=*/true);
    if (absl::IsFailedPrecondition(report.status()) && absl::StrContains(report.status().message(), "no ledger")) {
      response.add_without_ledger(facility);  // said, not silently left out
      continue;
    }
    if (!report.ok()) return report.status();
    v1::VarianceResponse& one = *report;
    if (response.currency().empty()) {
      response.set_currency(one.reporting_currency());
      response.set_reporting_currency(one.reporting_currency());
    } else if (one.reporting_currency() != response.currency()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "facility '", facility, "' reports in ", one.reporting_currency(), ", others of ", region, " in ",
          response.currency(), ": a region's report needs one reporting currency"));
    }
    TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(facility));
    response.add_facilities(facility);
    for (v1::VarianceReport& month : *one.mutable_months()) {
      TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(month.month()));
      if (!in_region.contains(m)) continue;
      TAKT_RETURN_IF_ERROR(ToReportingCurrency(book, m, month));
      v1::VarianceReport& into = months[m];
      into.set_month(month.month());
      TAKT_RETURN_IF_ERROR(AddReport(into, month));
    }
  }
  v1::VarianceReport* total = response.mutable_total();
  for (auto& [m, month] : months) {
    TAKT_RETURN_IF_ERROR(AddReport(*total, month));
    if (by_month) *response.add_months() = std::move(month);
  }
  FinishReport(*total);
  for (auto& month : *response.mutable_months()) FinishReport(month);
  return response;
}

absl::StatusOr<v1::VarianceResponse> Budgets::FacilityVariances(const std::string& facility, absl::CivilMonth from,
                                                                absl::CivilMonth to, bool by_month) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(facility));
  if (!book.configured()) {
    return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no ledger yet"));
  }
  OutputByMonth output;
  AttendedByMonth attended;
  TAKT_RETURN_IF_ERROR(ReadFacts(facility, TakesAttendance(book), [&](const FacilityFacts& facts) {
    for (auto it = facts.months.lower_bound({from, ""}); it != facts.months.end() && it->first.first <= to; ++it) {
      output.insert(*it);
    }
    attended = facts.attended_us;
    return absl::OkStatus();
  }));
  ActualByMonth actual;
  ActualByCostCentre by_cost_centre;
  {
    Slot* slot = SlotOf(facility);
    absl::MutexLock lock(&slot->mu);
    TAKT_ASSIGN_OR_RETURN(FacilityPostings * f, Load(*slot, facility));
    const PostingTotals& t = f->totals;
    for (auto it = t.monthly.lower_bound({from, ""}); it != t.monthly.end() && it->first.first <= to; ++it) {
      actual.insert(*it);
    }
    for (auto it = t.by_cost_centre.lower_bound({from, "", ""});
         it != t.by_cost_centre.end() && std::get<0>(it->first) <= to; ++it) {
      by_cost_centre.insert(*it);
    }
  }
  return FinishedReport(book, facility, std::move(actual), by_cost_centre, output, attended, from, to, by_month);
}

}  // namespace takt::budgets

// ---- Improvement savings -----------------------------------------------------------

namespace takt::budgets {

absl::StatusOr<std::vector<v1::InitiativeSavings>> Budgets::FacilitySavings(const std::string& facility,
                                                                            absl::CivilDay from, absl::CivilDay to) {
  TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(facility));
  if (!book.configured()) {
    return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no ledger yet"));
  }
  std::vector<v1::InitiativeSavings> out;
  if (book.initiatives().all().empty()) return out;
  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityPostings * f, Load(*slot, facility));
  const ActualByDay* daily = &f->totals.daily;
  TAKT_RETURN_IF_ERROR(ReadFacts(facility, false, [&](const FacilityFacts& facts) -> absl::Status {
    for (const auto& [id, initiative] : book.initiatives().all()) {
      TAKT_ASSIGN_OR_RETURN(v1::InitiativeSavings s,
                            MeasureSavings(book, facility, initiative, *daily, facts.days, from, to));
      out.push_back(std::move(s));
    }
    return absl::OkStatus();
  }));
  return out;
}

namespace {

// An initiative counts in a total when it has a figure in the range.
bool Counts(const v1::InitiativeSavings& s) {
  for (const auto& m : s.months()) {
    if (m.planned() != 0 || m.measured() != 0 || m.confirmed() != 0) return true;
  }
  return false;
}

constexpr char kNoRegion[] = "(no region)";

}  // namespace

absl::StatusOr<v1::SavingsResponse> Budgets::Savings(const v1::SavingsRequest& request) {
  auto from = model::ParseDay(request.from_day());
  if (!from.ok()) return absl::InvalidArgumentError(absl::StrCat("from_day: ", from.status().message()));
  auto to = model::ParseDay(request.to_day());
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to_day: ", to.status().message()));
  if (*to < *from) return absl::InvalidArgumentError("to_day is before from_day");
  if (*to - *from >= kMaxSavingsDays) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxSavingsDays, " days per report"));
  }
  if (!request.facility().empty() && !request.region().empty()) {
    return absl::InvalidArgumentError("give a facility or a region, not both");
  }
  v1::SavingsResponse response;
  if (!request.facility().empty()) {
    TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
    TAKT_ASSIGN_OR_RETURN(std::vector<v1::InitiativeSavings> all, FacilitySavings(request.facility(), *from, *to));
    TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(request.facility()));
    v1::SavingsTotal* total = response.mutable_total();
    total->set_scope(request.facility());
    total->set_currency(book.currency());
    for (auto& s : all) {
      if (Counts(s)) total->set_initiatives(total->initiatives() + 1);
      int64_t v;
      for (auto [get, set, x] : {std::tuple{&v1::SavingsTotal::planned, &v1::SavingsTotal::set_planned, s.planned()},
                                 std::tuple{&v1::SavingsTotal::measured, &v1::SavingsTotal::set_measured, s.measured()},
                                 std::tuple{&v1::SavingsTotal::confirmed, &v1::SavingsTotal::set_confirmed,
                                            s.confirmed()}}) {
        v = (total->*get)();
        TAKT_RETURN_IF_ERROR(AddChecked(v, x, "a savings total"));
        (total->*set)(v);
      }
      *response.add_initiatives() = std::move(s);
    }
    return response;
  }
  // Regions: each facility's months in the reporting currency at the budget
  // rate, counted in the region it belonged to on the month's first day in
  // the range; the enterprise counts plants in no region too.
  std::vector<std::string> regions;
  std::vector<std::string> facilities;
  bool known = true;
  models_->Read([&](const model::EnterpriseModel& m) {
    facilities = m.Facilities();
    if (!request.region().empty()) {
      known = m.HasRegion(request.region());
      regions.push_back(request.region());
    } else {
      regions = m.Regions();
    }
  });
  if (!known) {
    return absl::NotFoundError(
        absl::StrCat("region '", request.region().substr(0, kMaxIdLength), "' is not defined"));
  }
  std::map<std::string, v1::SavingsTotal> by_region, by_facility;
  for (const std::string& r : regions) by_region[r].set_scope(r);
  std::string currency;
  uint32_t counted = 0;  // distinct initiatives with a figure
  for (const std::string& facility : facilities) {
    // Which region's, month by month.
    std::map<absl::CivilMonth, std::string> region_of;
    models_->Read([&](const model::EnterpriseModel& m) {
      for (absl::CivilMonth month(*from); month <= absl::CivilMonth(*to); ++month) {
        std::optional<std::string> r = m.RegionOf(facility, std::max(*from, absl::CivilDay(month)));
        if (r && by_region.contains(*r)) {
          region_of[month] = std::move(*r);
        } else if (!r && request.region().empty()) {
          region_of[month] = kNoRegion;
        }
      }
    });
    if (region_of.empty()) continue;
    auto all = FacilitySavings(facility, *from, *to);
    if (absl::IsFailedPrecondition(all.status()) && absl::StrContains(all.status().message(), "no ledger")) {
      response.add_without_ledger(facility);
      continue;
    }
    if (!all.ok()) return all.status();
    if (all->empty()) continue;
    TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(facility));
    if (currency.empty()) currency = book.reporting_currency();
    if (book.reporting_currency() != currency) {
      return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' reports in ",
                                                        book.reporting_currency(), ", others in ", currency,
                                                        ": a portfolio needs one reporting currency"));
    }
    v1::SavingsTotal& ft = by_facility[facility];
    ft.set_scope(facility);
    ft.set_currency(currency);
    for (auto& s : *all) {
      std::set<std::string> counted_in;
      for (const v1::MonthSavings& month : s.months()) {
        if (month.planned() == 0 && month.measured() == 0 && month.confirmed() == 0) continue;
        TAKT_ASSIGN_OR_RETURN(absl::CivilMonth m, ParseMonth(month.month()));
        auto r = region_of.find(m);
        if (r == region_of.end()) continue;
        std::optional<Decimal> rate = Decimal{kNanosPerUnit};
        if (book.currency() != currency) rate = book.ExchangeRate(m);
        if (!rate) {
          return absl::FailedPreconditionError(absl::StrCat("no budget rate ", book.currency(), " -> ", currency,
                                                            " for ", month.month(), " at ", facility,
                                                            " (set_exchange_rate)"));
        }
        for (v1::SavingsTotal* t : {&by_region[r->second], &ft}) {
          for (auto [get, set, x] :
               {std::tuple{&v1::SavingsTotal::planned, &v1::SavingsTotal::set_planned, month.planned()},
                std::tuple{&v1::SavingsTotal::measured, &v1::SavingsTotal::set_measured, month.measured()},
                std::tuple{&v1::SavingsTotal::confirmed, &v1::SavingsTotal::set_confirmed, month.confirmed()}}) {
            TAKT_ASSIGN_OR_RETURN(int64_t converted, Convert(x, book.currency(), currency, *rate));
            int64_t v = (t->*get)();
            TAKT_RETURN_IF_ERROR(AddChecked(v, converted, "a savings total"));
            (t->*set)(v);
          }
        }
        counted_in.insert(r->second);
      }
      for (const std::string& r : counted_in) by_region[r].set_initiatives(by_region[r].initiatives() + 1);
      if (!counted_in.empty()) {
        ft.set_initiatives(ft.initiatives() + 1);
        ++counted;
      }
      *response.add_initiatives() = std::move(s);
    }
  }
  v1::SavingsTotal* total = response.mutable_total();
  total->set_scope(request.region().empty() ? "enterprise" : request.region());
  total->set_currency(currency);
  for (auto& [r, t] : by_region) {
    t.set_currency(currency);
    for (auto [get, set] : {std::pair{&v1::SavingsTotal::planned, &v1::SavingsTotal::set_planned},
                            std::pair{&v1::SavingsTotal::measured, &v1::SavingsTotal::set_measured},
                            std::pair{&v1::SavingsTotal::confirmed, &v1::SavingsTotal::set_confirmed}}) {
      int64_t v = (total->*get)();
      TAKT_RETURN_IF_ERROR(AddChecked(v, (t.*get)(), "a savings total"));
      (total->*set)(v);
    }
    if (request.region().empty() && (r != kNoRegion || t.initiatives() > 0)) *response.add_regions() = std::move(t);
  }
  total->set_initiatives(counted);
  for (auto& [f, t] : by_facility) *response.add_facilities() = std::move(t);
  return response;
}

}  // namespace takt::budgets
