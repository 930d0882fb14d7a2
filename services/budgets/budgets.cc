#include "services/budgets/budgets.h"

#include <functional>
#include <set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/es/screened_append.h"
#include "libs/kpi/calendar.h"
#include "services/budgets/variance.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::budgets {
namespace {

namespace schv1 = ::takt::scheduling::v1;

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

// Adds a posting to its account's monthly totals.
absl::Status Accumulate(ActualByMonth& actual, absl::CivilMonth month, const std::string& account, int64_t amount,
                        int64_t quantity_nanos) {
  Actual& a = actual[{month, account}];
  TAKT_RETURN_IF_ERROR(AddChecked(a.amount, amount, "an account's monthly amount"));
  return AddChecked(a.quantity_nanos, quantity_nanos, "an account's monthly quantity");
}

// The same, of a recorded posting.
absl::Status Accumulate(ActualByMonth& actual, const v1::PostingRecorded& p) {
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay day, model::ParseDay(p.day()));
  TAKT_ASSIGN_OR_RETURN(int64_t q, QuantityNanos(p.quantity()));
  return Accumulate(actual, absl::CivilMonth(day), p.account(), p.amount(), q);
}

}  // namespace

std::string BudgetStream(const std::string& facility) { return facility + kBudgetSuffix; }

Budgets::Budgets(eventlog::EventLog* log, model::ModelStore* models)
    : log_(log),
      models_(models),
      books_(log, {.context = kBudgetsContext,
                   .stream = BudgetStream,
                   .initial = [](const std::string&) { return BudgetBook(); }}),
      output_follower_(log, kSchedulingContext) {}

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
              [&](int i, const BudgetBook& book) { return DecideBudget(book, request.commands(i), m, facility); });
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
      TAKT_RETURN_IF_ERROR(Accumulate(f->actual, p));
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
    return absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has ", batch.postings_size(),
                                                   " postings; at most ", kMaxPostingsPerBatch,
                                                   " per batch (split it)"));
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
    absl::CivilMonth month;
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
      recorded.push_back({std::move(p), absl::CivilMonth(*day), *quantity});
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
    if (absl::Status s = Accumulate(f->actual, recorded[k].month, p.account(), p.amount(), recorded[k].quantity_nanos);
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

absl::StatusOr<OutputByMonth> Budgets::OutputOf(const std::string& facility) {
  absl::MutexLock lock(&output_mu_);
  // The folds below run under the lock (the analysis does not see into lambdas).
  std::map<std::string, OutputByMonth>* outputs = &outputs_;
  auto add = [&](const std::string& f, absl::Time at, const std::string& product, int64_t good, int64_t scrap,
                 int64_t rework) -> absl::Status {
    const kpi::FacilityCalendar* calendar = models_->Calendar(f);
    if (calendar == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("facility '", f, "' has no calendar this machine can load"));
    }
    Output& o = (*outputs)[f][{absl::CivilMonth(calendar->ProductionDay(at)), product}];
    TAKT_RETURN_IF_ERROR(AddChecked(o.good, good, "good output"));
    TAKT_RETURN_IF_ERROR(AddChecked(o.scrap, scrap, "scrap"));
    return AddChecked(o.rework, rework, "rework");
  };
  absl::Status caught_up = output_follower_.CatchUp([&](const eventlog::LoggedEvent& logged) -> absl::Status {
    const auto& e = logged.envelope;
    if (e.event_type() == schv1::ProductionCounted::descriptor()->full_name()) {
      schv1::ProductionCounted c;
      if (!c.ParseFromString(e.payload())) return absl::DataLossError("a ProductionCounted does not parse");
      return add(e.facility(), ToTime(e.occurred_time()), c.product(), c.good(), c.scrap(), c.rework());
    }
    if (e.event_type() == schv1::ProductionCountCorrected::descriptor()->full_name()) {
      schv1::ProductionCountCorrected c;
      if (!c.ParseFromString(e.payload())) return absl::DataLossError("a correction does not parse");
      auto f = FacilityOfPlanStream(e.facility());
      if (!f) return absl::OkStatus();
      return add(*f, ToTime(c.counted_time()), c.product(), c.corrected().good() - c.previous().good(),
                 c.corrected().scrap() - c.previous().scrap(), c.corrected().rework() - c.previous().rework());
    }
    return absl::OkStatus();
  });
  if (!caught_up.ok()) {
    outputs_.clear();  // the follower starts over
    return caught_up;
  }
  auto it = outputs_.find(facility);
  return it == outputs_.end() ? OutputByMonth() : it->second;
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
  if (!request.region().empty()) {
    if (!request.facility().empty()) return absl::InvalidArgumentError("give a facility or a region, not both");
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
    known = m.HasRegion(region);
    for (const std::string& f : m.Facilities()) {
      for (absl::CivilMonth month = from; month <= to; ++month) {
        if (m.RegionOf(f, absl::CivilDay(month)) == region) members[f].insert(month);
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
  TAKT_ASSIGN_OR_RETURN(OutputByMonth output, OutputOf(facility));
  ActualByMonth actual;
  {
    Slot* slot = SlotOf(facility);
    absl::MutexLock lock(&slot->mu);
    TAKT_ASSIGN_OR_RETURN(FacilityPostings * f, Load(*slot, facility));
    for (auto it = f->actual.lower_bound({from, ""}); it != f->actual.end() && it->first.first <= to; ++it) {
      actual.insert(*it);
    }
  }
  TAKT_ASSIGN_OR_RETURN(BudgetBook book, books_.Snapshot(facility));
  if (!book.configured()) {
    return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no ledger yet"));
  }
  TAKT_ASSIGN_OR_RETURN(v1::VarianceResponse response, VarianceReport(book, actual, output, from, to, by_month));
  response.set_facility(facility);
  return response;
}

}  // namespace takt::budgets
