#include "services/staffing/staffing.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/common/errors.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/es/screened_append.h"
#include "libs/model/enterprise_model.h"
#include "services/staffing/families.h"

namespace takt::staffing {
namespace {

constexpr char kClockedInType[] = "takt.staffing.v1.ClockedIn";
constexpr char kClockedOutType[] = "takt.staffing.v1.ClockedOut";
constexpr char kJobStartedType[] = "takt.staffing.v1.JobStarted";
constexpr char kJobEndedType[] = "takt.staffing.v1.JobEnded";
constexpr int kMaxCoverageDays = 93;
const absl::Time kEarliest = absl::FromCivil(absl::CivilDay(2000, 1, 1), absl::UTCTimeZone());

// The content of a punch, for telling a resend from a conflicting record
// under the same source key: who, what, when, and the work order a job
// starts on. Not the station, which a recorded event may have taken from
// the clock-in (a punch without one).
size_t PunchHash(const std::string& person, int kind, absl::Time at, const std::string& job_work_order) {
  return std::hash<std::string>()(absl::StrCat(person, std::string(1, '\0'), kind, std::string(1, '\0'),
                                               absl::ToUnixMicros(at), std::string(1, '\0'), job_work_order));
}
std::string DayText(absl::CivilDay d) { return absl::FormatCivilTime(d); }

absl::Status CheckText(std::string_view field, const std::string& text) {
  if (text.size() > kMaxPersonalText) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": at most ", kMaxPersonalText, " bytes"));
  }
  return absl::OkStatus();
}

// The worked time of [in, out) outside the person's rostered shifts.
int64_t OvertimeOf(const StaffBook& book, const kpi::FacilityCalendar& cal, const std::string& person,
                   absl::Time in, absl::Time out) {
  absl::Duration inside = absl::ZeroDuration();
  book.ForEachAssignmentOf(person, DayText(cal.ProductionDay(in) - 1), DayText(cal.ProductionDay(out)),
                           [&](const v1::ShiftAssigned& a) {
                             const absl::Time lo = std::max(ToTime(a.start()), in);
                             const absl::Time hi = std::min(ToTime(a.end()), out);
                             if (lo < hi) inside += hi - lo;
                           });
  return absl::ToInt64Microseconds((out - in) - inside);
}

}  // namespace

Staffing::Staffing(eventlog::EventLog* log, model::ModelStore* models, KeyStore* keys, bool record_reads)
    : log_(log),
      models_(models),
      keys_(keys),
      record_reads_(record_reads),
      books_(log, {.context = kStaffingContext,
                   .stream = StaffStream,
                   .initial = [](const std::string&) { return StaffBook(); }}) {}

absl::Status Staffing::WithFacts(const std::string& facility, absl::Time now,
                                 const std::function<absl::Status(const Facts&)>& fn) {
  const kpi::FacilityCalendar* calendar = models_->Calendar(facility);
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("facility '", facility, "' has no calendar (shifts) in the enterprise model"));
  }
  Facts facts;
  facts.calendar = calendar;
  facts.now = now;
  facts.station_exists = [this, &facility](const std::string& station) {
    bool found = false;
    models_->Read([&](const model::EnterpriseModel& m) {
      found = m.HasWorkUnit(facility, station) || m.HasWorkCenter(facility, station);
    });
    return found;
  };
  return fn(facts);
}

// ---- The record -----------------------------------------------------------------

absl::Status Staffing::SealCommands(v1::ApplyStaffRequest& request) {
  const std::string& facility = request.facility();
  std::set<std::string> registered_here;
  auto known = [&](const std::string& person) -> absl::Status {
    TAKT_RETURN_IF_ERROR(ValidateId("person", person));
    if (registered_here.contains(person)) return absl::OkStatus();
    bool found = false;
    TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const StaffBook& b) { found = b.FindPerson(person) != nullptr; }));
    if (!found) return absl::NotFoundError(absl::StrCat("person ", person, " is not registered in this facility"));
    return absl::OkStatus();
  };
  for (int i = 0; i < request.commands_size(); ++i) {
    v1::StaffCommand& c = *request.mutable_commands(i);
    auto sealed = [&]() -> absl::Status {
      if (c.has_register_person()) {
        const v1::RegisterPerson r = c.register_person();
        TAKT_RETURN_IF_ERROR(ValidateId("person", r.person()));
        if (r.name().empty()) return absl::InvalidArgumentError("name: required");
        TAKT_RETURN_IF_ERROR(CheckText("name", r.name()));
        TAKT_RETURN_IF_ERROR(CheckText("contact", r.contact()));
        v1::PersonRegistered* e = c.mutable_sealed_person();
        e->set_person(r.person());
        e->set_home_station(r.home_station());
        TAKT_ASSIGN_OR_RETURN(*e->mutable_name(), Seal(*keys_, facility, r.person(), "name", r.name()));
        if (!r.contact().empty()) {
          TAKT_ASSIGN_OR_RETURN(*e->mutable_contact(),
                                Seal(*keys_, facility, r.person(), "contact", r.contact()));
        }
        registered_here.insert(r.person());
      } else if (c.has_record_evaluation()) {
        const v1::RecordEvaluation r = c.record_evaluation();
        TAKT_RETURN_IF_ERROR(known(r.person()));
        TAKT_RETURN_IF_ERROR(CheckText("comments", r.comments()));
        v1::EvaluationRecorded* e = c.mutable_sealed_evaluation();
        e->set_person(r.person());
        e->set_period(r.period());
        e->set_rating(r.rating());
        e->set_evaluator(r.evaluator());
        if (!r.comments().empty()) {
          TAKT_ASSIGN_OR_RETURN(*e->mutable_comments(),
                                Seal(*keys_, facility, r.person(), "comments", r.comments()));
        }
      } else if (c.has_report_incident()) {
        const v1::ReportIncident r = c.report_incident();
        TAKT_RETURN_IF_ERROR(ValidateId("incident", r.incident()));
        if (!r.person().empty()) TAKT_RETURN_IF_ERROR(known(r.person()));
        TAKT_RETURN_IF_ERROR(CheckText("narrative", r.narrative()));
        v1::IncidentReported* e = c.mutable_sealed_incident();
        e->set_incident(r.incident());
        e->set_person(r.person());
        e->set_station(r.station());
        e->set_shift(r.shift());
        if (r.has_occurred()) *e->mutable_occurred() = r.occurred();
        e->set_classification(r.classification());
        e->set_days_away(r.days_away());
        e->set_days_restricted(r.days_restricted());
        if (!r.narrative().empty()) {
          // A narrative without a person is sealed under the incident.
          // An incident without a person seals under its own subject, which
          // no person id can name (ValidateId refuses ':').
          const std::string subject = r.person().empty() ? "incident:" + r.incident() : r.person();
          TAKT_ASSIGN_OR_RETURN(*e->mutable_narrative(),
                                Seal(*keys_, facility, subject, "narrative", r.narrative()));
        }
      } else if (c.has_record_absence()) {
        v1::RecordAbsence* r = c.mutable_record_absence();
        if (r->has_sealed_reason()) {
          return absl::InvalidArgumentError("record_absence.sealed_reason is set by the server; send reason");
        }
        TAKT_RETURN_IF_ERROR(known(r->person()));
        TAKT_RETURN_IF_ERROR(CheckText("reason", r->reason()));
        if (!r->reason().empty()) {
          TAKT_ASSIGN_OR_RETURN(*r->mutable_sealed_reason(),
                                Seal(*keys_, facility, r->person(), "absence", r->reason()));
          r->clear_reason();
        }
      } else if (c.has_sealed_person() || c.has_sealed_evaluation() || c.has_sealed_incident()) {
        return absl::InvalidArgumentError(
            "sealed_* commands are what the server records; send register_person, record_evaluation "
            "or report_incident");
      }
      return absl::OkStatus();
    }();
    if (!sealed.ok()) {
      return absl::Status(sealed.code(), absl::StrCat("commands[", i, "]: ", sealed.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ApplyStaffResponse> Staffing::ApplyStaff(const v1::ApplyStaffRequest& request,
                                                            const es::CommandOrigin& origin) {
  const std::string facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  if (request.commands_size() == 0) return absl::InvalidArgumentError("the request has no commands");
  if (request.commands_size() > kMaxCommandsPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxCommandsPerRequest,
                                                   " commands per request (split it)"));
  }
  if (!request.request_id().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("request_id", request.request_id(), kMaxRequestIdLength));
  }
  v1::ApplyStaffRequest sealed = request;
  TAKT_RETURN_IF_ERROR(SealCommands(sealed));
  return books_.Execute<v1::ApplyStaffResponse>(
      facility, sealed, origin,
      [&](StaffBook& scratch, es::Decided& out, v1::ApplyStaffResponse& response) -> absl::Status {
        return WithFacts(facility, origin.now, [&](const Facts& facts) -> absl::Status {
          std::set<CoverageKey> touched;
          TAKT_ASSIGN_OR_RETURN(
              es::Decided::Counts counts,
              out.EmitEach<StaffBook>(scratch, "commands", sealed.commands_size(),
                                      [&](int i, const StaffBook& s) -> absl::StatusOr<std::vector<es::Event>> {
                                        const auto& c = sealed.commands(i);
                                        auto events = DecideStaff(s, c, facts);
                                        if (events.ok() && !events->empty()) {
                                          auto affected = AffectedCoverage(s, c, facts);
                                          touched.insert(affected.begin(), affected.end());
                                        }
                                        return events;
                                      }));
          for (es::Event& e : CoverageEvents(scratch, touched, facts)) {
            TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
          }
          response.set_changed(counts.changed);
          response.set_unchanged(counts.unchanged);
          return absl::OkStatus();
        });
      },
      request.validate_only());
}

absl::StatusOr<v1::RosterResponse> Staffing::AssignRoster(const v1::RosterRequest& request,
                                                          const es::CommandOrigin& origin) {
  const std::string facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  if (request.assign_size() + request.unassign_size() + request.publish_size() == 0) {
    return absl::InvalidArgumentError("the roster request assigns, unassigns and publishes nothing");
  }
  if (request.assign_size() + request.unassign_size() > kMaxAssignmentsPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxAssignmentsPerRequest,
                                                   " assignments per request (split it)"));
  }
  if (!request.request_id().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("request_id", request.request_id(), kMaxRequestIdLength));
  }
  return books_.Execute<v1::RosterResponse>(
      facility, request, origin,
      [&](StaffBook& scratch, es::Decided& out, v1::RosterResponse& response) -> absl::Status {
        return WithFacts(facility, origin.now, [&](const Facts& facts) -> absl::Status {
          TAKT_RETURN_IF_ERROR(DecideRoster(scratch, out, request, facts, response));
          if (response.problems_size() == 0 || request.validate_only()) return absl::OkStatus();
          std::vector<std::string> listed;
          for (const auto& p : response.problems()) {
            if (listed.size() == 5) break;
            listed.push_back(absl::StrCat("[", p.index(), "] ", p.reason()));
          }
          return absl::FailedPreconditionError(absl::StrCat(
              response.problems_size(), " of the roster's changes are refused, nothing was recorded: ",
              absl::StrJoin(listed, "; "), response.problems_size() > 5 ? "; ..." : ""));
        });
      },
      request.validate_only());
}

// ---- Attendance -----------------------------------------------------------------

Staffing::Slot* Staffing::SlotOf(const std::string& facility) {
  absl::MutexLock lock(&slots_mu_);
  auto& slot = slots_[facility];
  if (!slot) slot = std::make_unique<Slot>();
  return slot.get();
}

absl::StatusOr<Staffing::FacilityState*> Staffing::Load(Slot& slot, const std::string& facility) {
  if (slot.state) return slot.state.get();
  auto f = std::make_unique<FacilityState>();
  const eventlog::StreamId stream{kStaffingContext, facility};
  for (;;) {
    TAKT_ASSIGN_OR_RETURN(auto events, log_->ReadStream(stream, f->head + 1, 10000));
    if (events.empty()) break;
    for (const auto& logged : events) {
      const auto& e = logged.envelope;
      f->head = e.sequence();
      auto& seen = f->seen[e.source_id()][e.source_sequence()];
      if (e.event_type() == kClockedInType) {
        v1::ClockedIn r;
        if (!r.ParseFromString(e.payload())) return absl::DataLossError("a ClockedIn does not parse");
        f->open[r.person()] = {ToTime(r.at()), r.station(), std::nullopt, absl::InfinitePast()};
        seen = PunchHash(r.person(), v1::IN, ToTime(r.at()), "");
      } else if (e.event_type() == kClockedOutType) {
        v1::ClockedOut r;
        if (!r.ParseFromString(e.payload())) return absl::DataLossError("a ClockedOut does not parse");
        f->open.erase(r.person());
        absl::Time& last = f->last_out.try_emplace(r.person(), absl::InfinitePast()).first->second;
        last = std::max(last, ToTime(r.at()));
        seen = PunchHash(r.person(), v1::OUT, ToTime(r.at()), "");
      } else if (e.event_type() == kJobStartedType) {
        v1::JobStarted r;
        if (!r.ParseFromString(e.payload())) return absl::DataLossError("a JobStarted does not parse");
        if (auto o = f->open.find(r.person()); o != f->open.end()) {
          o->second.job = OpenJob{ToTime(r.at()), r.station(), r.work_order()};
        }
        seen = PunchHash(r.person(), v1::JOB_START, ToTime(r.at()), r.work_order());
      } else if (e.event_type() == kJobEndedType) {
        v1::JobEnded r;
        if (!r.ParseFromString(e.payload())) return absl::DataLossError("a JobEnded does not parse");
        if (auto o = f->open.find(r.person()); o != f->open.end()) {
          o->second.job.reset();
          o->second.last_job_end = ToTime(r.at());
        }
        seen = PunchHash(r.person(), v1::JOB_END, ToTime(r.at()), "");
      } else {
        f->seen[e.source_id()].erase(e.source_sequence());
      }
    }
  }
  slot.state = std::move(f);
  return slot.state.get();
}

absl::StatusOr<v1::AttendanceAck> Staffing::Ingest(const v1::AttendanceBatch& batch, absl::Time now,
                                                   const std::string& actor) {
  if (batch.records_size() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has no records"));
  }
  if (batch.records_size() > kMaxRecordsPerBatch) {
    return WithField(WithReason(absl::InvalidArgumentError(absl::StrCat("batch ", batch.batch_id(), " has ", batch.records_size(),
                                                   " records; at most ", kMaxRecordsPerBatch,
                                                   " per batch (split it)")), "BATCH_TOO_LARGE"), "records");
  }
  const std::string& facility = batch.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  const kpi::FacilityCalendar* calendar = models_->Calendar(facility);
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no calendar"));
  }
  v1::AttendanceAck ack;
  ack.set_batch_id(batch.batch_id());
  Slot* slot = SlotOf(facility);
  absl::MutexLock lock(&slot->mu);
  TAKT_ASSIGN_OR_RETURN(FacilityState * f, Load(*slot, facility));
  eventlog::AppendRequest append;
  append.context = kStaffingContext;
  append.facility = facility;
  append.expected_sequence = static_cast<int64_t>(f->head);
  // What this batch changes, applied once it is durable.
  absl::flat_hash_map<std::string, std::optional<Open>> opened;
  absl::flat_hash_map<std::string, absl::Time> closed;
  absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, size_t>> keys;
  std::map<std::string, bool> station_known;
  auto reject = [&](int i, absl::StatusCode code, std::string reason) {
    const v1::AttendanceRecord& r = batch.records(i);
    if (ack.rejected_size() >= kMaxListedRejections) {
      ack.set_rejected_not_listed(ack.rejected_not_listed() + 1);
      return;
    }
    v1::AttendanceRejection* x = ack.add_rejected();
    x->set_index(static_cast<uint32_t>(i));
    if (r.source_id().size() <= kMaxIdLength) x->set_source_id(r.source_id());
    x->set_source_sequence(r.source_sequence());
    x->set_code(static_cast<int>(code));
    x->set_reason(std::move(reason));
  };
  TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const StaffBook& book) {
    for (int i = 0; i < batch.records_size(); ++i) {
      const v1::AttendanceRecord& r = batch.records(i);
      if (absl::Status s = ValidateId("source_id", r.source_id()); !s.ok()) {
        reject(i, absl::StatusCode::kInvalidArgument, std::string(s.message()));
        continue;
      }
      if (r.source_sequence() == 0) {
        reject(i, absl::StatusCode::kInvalidArgument, "source_sequence must be set (from 1)");
        continue;
      }
      if (r.kind() != v1::IN && r.kind() != v1::OUT && r.kind() != v1::JOB_START && r.kind() != v1::JOB_END) {
        reject(i, absl::StatusCode::kInvalidArgument, "kind must be IN, OUT, JOB_START or JOB_END");
        continue;
      }
      if (r.kind() == v1::JOB_START || !r.work_order().empty()) {
        if (absl::Status s = ValidateId("work_order", r.work_order()); !s.ok()) {
          reject(i, absl::StatusCode::kInvalidArgument, std::string(s.message()));
          continue;
        }
      }
      if (!r.has_at()) {
        reject(i, absl::StatusCode::kInvalidArgument, "at must be set");
        continue;
      }
      const absl::Time at = ToTime(r.at());
      if (at > now + kMaxFutureSkew) {
        reject(i, absl::StatusCode::kInvalidArgument, absl::StrCat("at ", absl::FormatTime(at), " is in the future"));
        continue;
      }
      if (at < kEarliest) {
        reject(i, absl::StatusCode::kOutOfRange,
               absl::StrCat("at ", absl::FormatTime(at), " is before 2000-01-01 (a clock reset?)"));
        continue;
      }
      const size_t hash = PunchHash(r.person(), r.kind(), at, r.kind() == v1::JOB_START ? r.work_order() : "");
      const size_t* recorded = nullptr;
      if (auto s = f->seen.find(r.source_id()); s != f->seen.end()) {
        if (auto k = s->second.find(r.source_sequence()); k != s->second.end()) recorded = &k->second;
      }
      if (recorded == nullptr) {
        if (auto s = keys.find(r.source_id()); s != keys.end()) {
          if (auto k = s->second.find(r.source_sequence()); k != s->second.end()) recorded = &k->second;
        }
      }
      if (recorded != nullptr) {
        if (*recorded == hash) {
          ack.set_duplicates(ack.duplicates() + 1);
        } else {
          reject(i, absl::StatusCode::kAlreadyExists,
                 absl::StrCat("source sequence ", r.source_sequence(), " of '", r.source_id(),
                              "' was recorded with other content"));
        }
        continue;
      }
      if (book.FindPerson(r.person()) == nullptr) {
        reject(i, absl::StatusCode::kNotFound,
               absl::StrCat("person '", r.person().substr(0, kMaxIdLength), "' is not registered in ", facility));
        continue;
      }
      if (!r.station().empty()) {
        auto emplaced = station_known.try_emplace(r.station(), false);
        bool& known = emplaced.first->second;
        if (emplaced.second) {
          models_->Read([&](const model::EnterpriseModel& m) {
            known = m.HasWorkUnit(facility, r.station()) || m.HasWorkCenter(facility, r.station());
          });
        }
        if (!known) {
          reject(i, absl::StatusCode::kNotFound,
                 absl::StrCat("station '", r.station().substr(0, kMaxIdLength), "' is not in ", facility));
          continue;
        }
      }
      std::optional<Open> open;
      if (auto o = opened.find(r.person()); o != opened.end()) {
        open = o->second;
      } else if (auto o2 = f->open.find(r.person()); o2 != f->open.end()) {
        open = o2->second;
      }
      eventlog::Envelope e;
      e.set_schema_version(1);
      e.set_actor(actor);
      e.set_source_id(r.source_id());
      e.set_source_sequence(r.source_sequence());
      *e.mutable_occurred_time() = r.at();
      if (r.kind() == v1::IN) {
        v1::ClockedIn in;
        if (open && at - open->at <= kMaxShift) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " is clocked in since ", absl::FormatTime(open->at),
                              "; a clock-out must come first"));
          continue;
        }
        if (open) {
          // A clock-out was missed more than 24 h ago: that clock-in is
          // abandoned (no time worked), not a lock-out.
          *in.mutable_abandoned_clock_in() = ToProto(open->at);
        }
        absl::Time last_out = absl::InfinitePast();
        if (auto l = closed.find(r.person()); l != closed.end()) {
          last_out = l->second;
        } else if (auto l2 = f->last_out.find(r.person()); l2 != f->last_out.end()) {
          last_out = l2->second;
        }
        if (at < last_out) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("clock-in at ", absl::FormatTime(at), " is before ", r.person(),
                              "'s last clock-out at ", absl::FormatTime(last_out),
                              ": attendance may not overlap"));
          continue;
        }
        in.set_person(r.person());
        *in.mutable_at() = r.at();
        in.set_station(r.station());
        e.set_event_type(kClockedInType);
        e.set_payload(in.SerializeAsString());
        opened[r.person()] = Open{at, r.station(), std::nullopt, absl::InfinitePast()};
      } else if (r.kind() == v1::JOB_START) {
        if (!open) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " is not clocked in (a job starts after the clock-in)"));
          continue;
        }
        if (open->job) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " is on work order '", open->job->work_order, "' since ",
                              absl::FormatTime(open->job->at), "; end it first"));
          continue;
        }
        if (at < open->at) {
          reject(i, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("job start at ", absl::FormatTime(at), " is before the clock-in at ",
                              absl::FormatTime(open->at)));
          continue;
        }
        if (at < open->last_job_end) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat("job start at ", absl::FormatTime(at), " is before the end of the last job at ",
                              absl::FormatTime(open->last_job_end), ": booked time may not overlap"));
          continue;
        }
        v1::JobStarted job;
        job.set_person(r.person());
        *job.mutable_at() = r.at();
        job.set_station(r.station().empty() ? open->station : r.station());
        job.set_work_order(r.work_order());
        open->job = OpenJob{at, job.station(), r.work_order()};
        e.set_event_type(kJobStartedType);
        e.set_payload(job.SerializeAsString());
        opened[r.person()] = *open;
      } else if (r.kind() == v1::JOB_END) {
        if (!open || !open->job) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " has no job open (send the job start first)"));
          continue;
        }
        if (!r.work_order().empty() && r.work_order() != open->job->work_order) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " is on work order '", open->job->work_order, "', not '",
                              r.work_order(), "'"));
          continue;
        }
        if (at < open->job->at) {
          reject(i, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("job end at ", absl::FormatTime(at), " is before its start at ",
                              absl::FormatTime(open->job->at)));
          continue;
        }
        v1::JobEnded job;
        job.set_person(r.person());
        *job.mutable_at() = r.at();
        job.set_station(open->job->station);
        job.set_work_order(open->job->work_order);
        *job.mutable_started() = ToProto(open->job->at);
        job.set_booked_us(absl::ToInt64Microseconds(at - open->job->at));
        e.set_event_type(kJobEndedType);
        e.set_payload(job.SerializeAsString());
        open->job.reset();
        open->last_job_end = at;
        opened[r.person()] = *open;
      } else {
        if (!open) {
          reject(i, absl::StatusCode::kFailedPrecondition,
                 absl::StrCat(r.person(), " is not clocked in (send the clock-in first)"));
          continue;
        }
        if (at <= open->at) {
          reject(i, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("clock-out at ", absl::FormatTime(at), " is not after the clock-in at ",
                              absl::FormatTime(open->at)));
          continue;
        }
        if (open->job && at < open->job->at) {
          reject(i, absl::StatusCode::kInvalidArgument,
                 absl::StrCat("clock-out at ", absl::FormatTime(at), " is before the open job's start at ",
                              absl::FormatTime(open->job->at)));
          continue;
        }
        if (at - open->at > kMaxShift) {
          reject(i, absl::StatusCode::kOutOfRange,
                 absl::StrCat("clock-out ", absl::FormatDuration(at - open->at),
                              " after the clock-in: more than 24 h (a missed punch?)"));
          continue;
        }
        v1::ClockedOut out;
        out.set_person(r.person());
        *out.mutable_at() = r.at();
        out.set_station(r.station().empty() ? open->station : r.station());
        if (open->job) {
          out.set_job_work_order(open->job->work_order);
          out.set_job_station(open->job->station);
          out.set_job_booked_us(absl::ToInt64Microseconds(at - open->job->at));
        }
        *out.mutable_clocked_in() = ToProto(open->at);
        out.set_worked_us(absl::ToInt64Microseconds(at - open->at));
        out.set_overtime_us(OvertimeOf(book, *calendar, r.person(), open->at, at));
        e.set_event_type(kClockedOutType);
        e.set_payload(out.SerializeAsString());
        opened[r.person()] = std::nullopt;
        closed[r.person()] = at;
      }
      keys[r.source_id()][r.source_sequence()] = hash;
      append.events.push_back(std::move(e));
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
  f->head = *head;
  for (auto& [person, open] : opened) {
    if (open) {
      f->open[person] = *open;
    } else {
      f->open.erase(person);
    }
  }
  for (auto& [person, at] : closed) f->last_out[person] = at;
  for (auto& [source, seqs] : keys) {
    auto& mine = f->seen[source];
    for (auto& [seq, hash] : seqs) mine[seq] = hash;
  }
  ack.set_head_sequence(f->head);
  return ack;
}

// ---- Queries ----------------------------------------------------------------------

absl::StatusOr<v1::CoverageResponse> Staffing::GetCoverage(const v1::CoverageRequest& request) {
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  auto from = model::ParseDay(request.from());
  auto to = model::ParseDay(request.to());
  if (!from.ok()) return absl::InvalidArgumentError(absl::StrCat("from: ", from.status().message()));
  if (!to.ok()) return absl::InvalidArgumentError(absl::StrCat("to: ", to.status().message()));
  if (*to < *from) return absl::InvalidArgumentError("to is before from");
  if (*to - *from >= kMaxCoverageDays) {
    return absl::InvalidArgumentError(absl::StrCat("at most ", kMaxCoverageDays, " days at once"));
  }
  const kpi::FacilityCalendar* calendar = models_->Calendar(facility);
  if (calendar == nullptr) return absl::FailedPreconditionError(absl::StrCat("facility '", facility, "' has no calendar"));
  v1::CoverageResponse response;
  TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const StaffBook& book) {
    const std::set<std::string> stations = book.RequiredStations();
    for (absl::CivilDay d = *from; d <= *to; ++d) {
      for (const auto& shift : calendar->SpecOn(d).shifts) {
        for (const std::string& station : stations) {
          const v1::StationRequirementSet* req = book.Requirement(station, shift.name);
          if (req == nullptr) continue;
          const Coverage c = book.CoverageOf({DayText(d), shift.name, station});
          v1::CoverageRow* row = response.add_rows();
          row->set_day(DayText(d));
          row->set_shift(shift.name);
          row->set_station(station);
          row->set_required(c.required);
          row->set_assigned(c.assigned);
          row->set_qualified(c.qualified);
          for (const auto& q : req->qualifications()) row->add_qualifications(q);
          if (c.qualified < c.required) response.set_gaps(response.gaps() + 1);
        }
      }
    }
  }));
  return response;
}

std::string ExpiringScopeId(const std::string& scope) {
  if (scope.empty()) return "enterprise";
  for (absl::string_view prefix : {"regions/", "facilities/"}) {
    if (absl::StartsWith(scope, prefix)) return scope.substr(prefix.size());
  }
  return scope;
}

absl::StatusOr<v1::ExpiringResponse> Staffing::ListExpiring(const v1::ExpiringRequest& request,
                                                            absl::Time now) {
  absl::CivilDay as_of = absl::ToCivilDay(now, absl::UTCTimeZone());
  if (!request.as_of().empty()) {
    auto d = model::ParseDay(request.as_of());
    if (!d.ok()) return absl::InvalidArgumentError(absl::StrCat("as_of: ", d.status().message()));
    as_of = *d;
  }
  const uint32_t within = request.within_days() == 0 ? 90 : request.within_days();
  if (within > 3660) return absl::InvalidArgumentError("within_days: at most 3660");
  const std::string scope = ExpiringScopeId(request.scope());
  std::vector<std::string> facilities;
  bool region = false;
  models_->Read([&](const model::EnterpriseModel& m) {
    region = m.HasRegion(scope);
    for (const std::string& f : m.Facilities()) {
      if (scope == "enterprise" || f == scope || (region && m.RegionOf(f, as_of) == scope)) facilities.push_back(f);
    }
  });
  if (facilities.empty() && scope != "enterprise") {
    return absl::NotFoundError(absl::StrCat("scope '", scope, "' is neither a region nor a facility"));
  }
  v1::ExpiringResponse response;
  for (const std::string& facility : facilities) {
    TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const StaffBook& book) {
      for (const auto& [id, person] : book.people()) {
        if (person.registered.person().empty()) continue;
        // Per qualification, the certificate that lasts longest (a renewal
        // supersedes the one it renews).
        std::map<std::string, const Certificate*> latest;
        for (const Certificate& c : person.certificates) {
          if (c.revoked_from && *c.revoked_from <= as_of) continue;
          const Certificate*& best = latest[c.granted.qualification()];
          const auto never = [](const Certificate* x) { return x->granted.expires().empty(); };
          if (best == nullptr || (!never(best) && (never(&c) || c.granted.expires() > best->granted.expires()))) {
            best = &c;
          }
        }
        for (const auto& [q, c] : latest) {
          if (c->granted.expires().empty()) {
            response.set_valid(response.valid() + 1);
            continue;
          }
          auto expires = model::DayOf(c->granted.expires(), /*recorded=*/true);
          if (!expires.ok()) continue;
          const int64_t left = *expires - as_of;
          if (left < 0) {
            response.set_expired(response.expired() + 1);
            continue;
          }
          response.set_valid(response.valid() + 1);
          if (left <= 30) response.set_within_30(response.within_30() + 1);
          if (left <= 60) response.set_within_60(response.within_60() + 1);
          if (left <= 90) response.set_within_90(response.within_90() + 1);
          if (left > within) continue;
          v1::ExpiringCertificate* x = response.add_certificates();
          x->set_facility(facility);
          x->set_person(id);
          x->set_qualification(q);
          x->set_certificate(c->granted.certificate());
          x->set_expires(c->granted.expires());
          x->set_days_left(static_cast<int32_t>(left));
        }
      }
    }));
  }
  std::sort(response.mutable_certificates()->begin(), response.mutable_certificates()->end(),
            [](const auto& a, const auto& b) {
              return std::make_tuple(a.days_left(), a.facility(), a.person()) <
                     std::make_tuple(b.days_left(), b.facility(), b.person());
            });
  return response;
}

v1::PersonView Staffing::ViewOf(const StaffBook& book, const std::string& facility, const Person& p) {
  v1::PersonView v;
  v.set_person(p.registered.person());
  v.set_erased(p.erased);
  v.set_erasure_reason(p.erasure_reason);
  auto show = [&](const v1::Sealed& s) -> std::string {
    if (s.ciphertext().empty()) return "";
    if (p.erased && s.subject() == p.registered.person()) return kErasedText;
    return ShowSealed(*keys_, facility, s);
  };
  v.set_name(show(p.registered.name()));
  v.set_contact(show(p.registered.contact()));
  v.set_home_station(p.registered.home_station());
  for (const Certificate& c : p.certificates) *v.add_certifications() = c.granted;
  for (const auto& e : p.evaluations) {
    auto* x = v.add_evaluations();
    x->set_period(e.period());
    x->set_rating(e.rating());
    x->set_comments(show(e.comments()));
  }
  for (const std::string& id : p.incidents) {
    const Incident* i = book.FindIncident(id);
    if (i == nullptr) continue;
    auto* x = v.add_incidents();
    x->set_incident(id);
    x->set_classification(i->reported.classification());
    x->set_days_away(i->reported.days_away());
    x->set_days_restricted(i->reported.days_restricted());
    x->set_narrative(show(i->reported.narrative()));
    *x->mutable_occurred() = i->reported.occurred();
  }
  v.set_trainings(p.trainings);
  v.set_absences(p.absences);
  return v;
}

absl::Status Staffing::RecordRead(const std::string& facility, std::vector<std::string> people,
                                  const std::string& what, const std::string& purpose,
                                  const es::CommandOrigin& origin) {
  if (purpose.size() > 1024) return absl::InvalidArgumentError("purpose: at most 1024 bytes");
  if (!record_reads_) return absl::OkStatus();
  // An export of a large facility is recorded in several events of at most
  // kIdsPerRecord ids (an event stays well under the log's size limit).
  constexpr size_t kIdsPerRecord = 4096;
  std::vector<es::Event> records;
  for (size_t i = 0; i < people.size() || (i == 0 && people.empty()); i += kIdsPerRecord) {
    v1::PersonalDataRead read;
    for (size_t k = i; k < std::min(people.size(), i + kIdsPerRecord); ++k) read.add_people(std::move(people[k]));
    read.set_what(what);
    read.set_purpose(purpose);
    records.push_back({read.GetDescriptor()->full_name(), read.SerializeAsString()});
    if (people.empty()) break;
  }
  const v1::PersonalDataRead no_request_id;  // a fresh request id: every read is its own record
  return books_
      .Execute<v1::PersonView>(facility, no_request_id, origin,
                               [&](StaffBook& scratch, es::Decided& out, v1::PersonView&) -> absl::Status {
                                 for (const es::Event& e : records) TAKT_RETURN_IF_ERROR(out.Emit(scratch, e));
                                 return absl::OkStatus();
                               })
      .status();
}

absl::StatusOr<v1::PersonView> Staffing::GetPerson(const v1::PersonRequest& request,
                                                   const es::CommandOrigin& origin) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
  TAKT_RETURN_IF_ERROR(ValidateId("person", request.person()));
  std::optional<v1::PersonView> view;
  TAKT_RETURN_IF_ERROR(books_.Read(request.facility(), [&](const StaffBook& book) {
    if (const Person* p = book.FindPerson(request.person()); p != nullptr) {
      view = ViewOf(book, request.facility(), *p);
    }
  }));
  if (!view) {
    return absl::NotFoundError(absl::StrCat("person ", request.person(), " is not registered in ",
                                            request.facility()));
  }
  TAKT_RETURN_IF_ERROR(RecordRead(request.facility(), {request.person()}, "get_person", request.purpose(), origin));
  return *std::move(view);
}

absl::StatusOr<v1::ExportResponse> Staffing::Export(const v1::ExportRequest& request,
                                                    const es::CommandOrigin& origin) {
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(request.facility()));
  v1::ExportResponse response;
  TAKT_RETURN_IF_ERROR(books_.Read(request.facility(), [&](const StaffBook& book) {
    for (const auto& [id, p] : book.people()) {
      if (!p.registered.person().empty()) *response.add_people() = ViewOf(book, request.facility(), p);
    }
  }));
  std::vector<std::string> people;
  for (const v1::PersonView& v : response.people()) people.push_back(v.person());
  TAKT_RETURN_IF_ERROR(RecordRead(request.facility(), std::move(people), "export", request.purpose(), origin));
  return response;
}

absl::StatusOr<v1::EraseResponse> Staffing::Erase(const v1::EraseRequest& request,
                                                  const es::CommandOrigin& origin) {
  const std::string& facility = request.facility();
  TAKT_RETURN_IF_ERROR(models_->CheckFacility(facility));
  TAKT_RETURN_IF_ERROR(ValidateId("person", request.person()));
  if (!request.request_id().empty()) {
    TAKT_RETURN_IF_ERROR(ValidateId("request_id", request.request_id(), kMaxRequestIdLength));
  }
  TAKT_ASSIGN_OR_RETURN(
      v1::EraseResponse response,
      books_.Execute<v1::EraseResponse>(
          facility, request, origin,
          [&](StaffBook& scratch, es::Decided& out, v1::EraseResponse& r) -> absl::Status {
            TAKT_ASSIGN_OR_RETURN(auto events, DecideErase(scratch, request.person(), request.reason()));
            r.set_person(request.person());
            r.set_sealed_fields(SealedFieldsOf(scratch, request.person()));
            for (es::Event& e : events) TAKT_RETURN_IF_ERROR(out.Emit(scratch, std::move(e)));
            return absl::OkStatus();
          }));
  // The erasure is durable: now the key goes (again, for a resend).
  TAKT_RETURN_IF_ERROR(keys_->Destroy(facility, request.person()));
  return response;
}

absl::Status Staffing::CompleteErasures(const std::string& facility) {
  std::vector<std::string> erased;
  TAKT_RETURN_IF_ERROR(books_.Read(facility, [&](const StaffBook& book) {
    for (const auto& [id, p] : book.people()) {
      if (p.erased) erased.push_back(id);
    }
  }));
  for (const std::string& person : erased) {
    if (!keys_->Erased(facility, person)) TAKT_RETURN_IF_ERROR(keys_->Destroy(facility, person));
  }
  return absl::OkStatus();
}

}  // namespace takt::staffing
