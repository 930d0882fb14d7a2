#include "services/scheduling/planning_store.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/eventlog/command.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "services/scheduling/ingest.h"

namespace takt::scheduling {
namespace {

// The client's request id of a command request ("" if it has none).
std::string GetRequestId(const google::protobuf::Message& request) {
  const auto* field = request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) return "";
  return request.GetReflection()->GetString(request, field);
}

}  // namespace

absl::StatusOr<PlanningStore::Facility*> PlanningStore::Load(const std::string& facility) {
  auto it = facilities_.find(facility);
  if (it != facilities_.end()) return it->second.get();
  bool known = false;
  models_->Read([&](const model::EnterpriseModel& m) { known = m.Facility(facility) != nullptr; });
  if (!known) {
    (void)models_->Refresh();
    models_->Read([&](const model::EnterpriseModel& m) { known = m.Facility(facility) != nullptr; });
  }
  if (!known) return absl::NotFoundError(absl::StrCat("facility '", facility, "' is not defined"));
  auto f = std::make_unique<Facility>(facility);
  const eventlog::StreamId stream{kSchedulingContext, PlanStream(facility)};
  for (uint64_t from = 1;;) {
    TAKT_ASSIGN_OR_RETURN(auto events, log_->ReadStream(stream, from, 10000));
    if (events.empty()) break;
    for (const auto& e : events) {
      TAKT_RETURN_IF_ERROR(f->planning.Apply(model::ModelEvent{e.envelope.event_type(), e.envelope.payload()}));
      f->head = e.envelope.sequence();
      if (!e.envelope.request_fingerprint().empty()) {
        eventlog::Envelope first = e.envelope;
        first.clear_payload();
        f->requests.emplace(first.request_id(), std::move(first));
      }
    }
    from = f->head + 1;
  }
  Facility* out = f.get();
  facilities_[facility] = std::move(f);
  return out;
}

absl::StatusOr<bool> PlanningStore::Resent(Facility* f, const std::string& request_id,
                                           const google::protobuf::Message& request,
                                           google::protobuf::Message* response) {
  if (request_id.empty()) return false;
  auto it = f->requests.find(request_id);
  if (it == f->requests.end()) return false;
  TAKT_RETURN_IF_ERROR(
      eventlog::ReplayOutcome(it->second, eventlog::RequestFingerprint(request), response));
  return true;
}

absl::Status PlanningStore::Append(Facility* f, const std::vector<model::ModelEvent>& events,
                                   const std::string& request_id, const std::string& actor,
                                   absl::Time now, const google::protobuf::Message& request,
                                   const google::protobuf::Message& response) {
  if (events.empty()) return absl::OkStatus();
  eventlog::AppendRequest req;
  req.context = kSchedulingContext;
  req.facility = PlanStream(f->planning.facility());
  req.expected_sequence = static_cast<int64_t>(f->head);
  for (const auto& e : events) req.events.push_back(enterprise::CommandEnvelope(e, actor, request_id, now));
  // Only a client's own request id can be resent (generated ones are new).
  const bool resendable = GetRequestId(request) == request_id;
  std::optional<eventlog::Envelope> first;
  if (resendable) {
    eventlog::RecordOutcome(eventlog::RequestFingerprint(request), response, req.events[0]);
    first = req.events[0];
    first->clear_payload();
    first->set_context(req.context);
    first->set_facility(req.facility);
  }
  auto appended = log_->Append(std::move(req));
  if (!appended.ok()) {
    if (appended.status().code() == absl::StatusCode::kFailedPrecondition ||
        appended.status().code() == absl::StatusCode::kAborted) {
      // Someone else wrote the stream (another owner): reload next time.
      facilities_.erase(f->planning.facility());
    }
    return appended.status();
  }
  if (appended->events[0].duplicate) {
    // A resend of a request recorded before: the state already has it.
    facilities_.erase(f->planning.facility());
    return absl::OkStatus();
  }
  for (const auto& e : events) TAKT_RETURN_IF_ERROR(f->planning.Apply(e));
  f->head = appended->head_sequence;
  if (first) {
    first->set_sequence(appended->events[0].sequence);
    f->requests.emplace(request_id, std::move(*first));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ExecuteResponse> PlanningStore::Execute(const v1::ExecuteRequest& request,
                                                           const std::string& actor, absl::Time now) {
  absl::MutexLock lock(&mu_);
  TAKT_ASSIGN_OR_RETURN(Facility * f, Load(request.facility()));
  v1::ExecuteResponse resp;
  TAKT_ASSIGN_OR_RETURN(bool resent, Resent(f, request.request_id(), request, &resp));
  if (resent) return resp;
  Planning scratch = f->planning;  // decide in order, all or nothing
  std::vector<model::ModelEvent> events;
  for (int i = 0; i < request.commands_size(); ++i) {
    v1::PlanningCommand c = request.commands(i);
    if (c.has_complete_work_order() && !c.complete_work_order().has_completed_time()) {
      *c.mutable_complete_work_order()->mutable_completed_time() = ToProto(now);
    }
    absl::StatusOr<std::vector<model::ModelEvent>> decided;
    if (c.has_correct_count()) {
      // The count it corrects, from the facility's shop-floor stream.
      const uint64_t seq = c.correct_count().corrects_sequence();
      auto original = seq == 0 ? absl::StatusOr<std::vector<eventlog::LoggedEvent>>(
                                     std::vector<eventlog::LoggedEvent>{})
                               : log_->ReadStream({kSchedulingContext, request.facility()}, seq, 1);
      if (!original.ok()) return original.status();
      decided = scratch.DecideCorrection(c.correct_count(),
                                         original->empty() ? nullptr : &original->front().envelope);
    } else {
      models_->Read([&](const model::EnterpriseModel& m) { decided = scratch.Decide(c, m); });
    }
    if (!decided.ok()) {
      return absl::Status(decided.status().code(),
                          absl::StrCat("commands[", i, "]: ", decided.status().message()));
    }
    if (decided->empty()) {
      resp.set_unchanged(resp.unchanged() + 1);
      continue;
    }
    resp.set_changed(resp.changed() + 1);
    for (auto& e : *decided) {
      TAKT_RETURN_IF_ERROR(scratch.Apply(e));
      events.push_back(std::move(e));
    }
  }
  const std::string request_id = request.request_id().empty() ? NewUuid() : request.request_id();
  TAKT_RETURN_IF_ERROR(Append(f, events, request_id, actor, now, request, resp));
  return resp;
}

absl::StatusOr<v1::Schedule> PlanningStore::Propose(const v1::ScheduleRequest& request, absl::Time now) {
  Planning snapshot("");
  {
    absl::MutexLock lock(&mu_);
    TAKT_ASSIGN_OR_RETURN(Facility * f, Load(request.facility()));
    snapshot = f->planning;
  }
  // Solve outside the lock: a what-if takes seconds and changes nothing.
  absl::StatusOr<v1::Schedule> out;
  models_->Read([&](const model::EnterpriseModel& m) { out = snapshot.Propose(m, request, now); });
  return out;
}

absl::StatusOr<v1::CommitScheduleResponse> PlanningStore::Commit(
    const v1::CommitScheduleRequest& request, const std::string& actor, absl::Time now) {
  absl::MutexLock lock(&mu_);
  TAKT_ASSIGN_OR_RETURN(Facility * f, Load(request.facility()));
  v1::CommitScheduleResponse resp;
  TAKT_ASSIGN_OR_RETURN(bool resent, Resent(f, request.request_id(), request, &resp));
  if (resent) return resp;
  absl::StatusOr<model::ModelEvent> event;
  models_->Read([&](const model::EnterpriseModel& m) {
    event = f->planning.DecideCommit(m, request.schedule());
  });
  if (!event.ok()) return event.status();
  const std::string request_id = request.request_id().empty() ? NewUuid() : request.request_id();
  resp.set_schedule_id(request.schedule().schedule_id());
  TAKT_RETURN_IF_ERROR(Append(f, {*event}, request_id, actor, now, request, resp));
  return resp;
}

absl::StatusOr<v1::ListWorkOrdersResponse> PlanningStore::List(const std::string& facility) {
  absl::MutexLock lock(&mu_);
  TAKT_ASSIGN_OR_RETURN(Facility * f, Load(facility));
  v1::ListWorkOrdersResponse resp;
  resp.set_committed_schedule_id(f->planning.committed_schedule_id());
  for (const auto& [id, o] : f->planning.work_orders()) {
    auto* v = resp.add_work_orders();
    v->set_work_order(id);
    v->set_product(o.created.product());
    v->set_quantity(o.created.quantity());
    v->set_status(o.status);
    v->set_weight(o.weight);
    if (o.created.has_release_time()) *v->mutable_release_time() = o.created.release_time();
    if (o.created.has_due_time()) *v->mutable_due_time() = o.created.due_time();
    if (o.planned_start) *v->mutable_planned_start() = ToProto(*o.planned_start);
    if (o.planned_end) *v->mutable_planned_end() = ToProto(*o.planned_end);
    if (o.completed) *v->mutable_completed_time() = ToProto(*o.completed);
  }
  return resp;
}

}  // namespace takt::scheduling
