#include "services/enterprise/model_store.h"

#include "libs/eventlog/command.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"

#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"

namespace takt::enterprise {

eventlog::Envelope CommandEnvelope(const model::ModelEvent& event, const std::string& actor,
                                   const std::string& request_id, absl::Time now) {
  eventlog::Envelope env;
  env.set_event_type(event.type);
  env.set_schema_version(1);
  env.set_actor(actor);
  env.set_request_id(request_id);
  *env.mutable_occurred_time() = ToProto(now);
  env.set_payload(event.payload);
  return env;
}

absl::Status ModelStore::Refresh() {
  absl::MutexLock refresh_lock(&refresh_mu_);
  if (!subscription_) {
    TAKT_ASSIGN_OR_RETURN(subscription_, log_->Subscribe(kEnterpriseContext, {}));
  }
  // Read up to where the log ends now (a poll can come back empty before a
  // Kafka consumer's first fetch).
  TAKT_ASSIGN_OR_RETURN(eventlog::Cursor end, log_->EndCursor(kEnterpriseContext));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    bool at_end = true;
    for (const auto& [partition, offset] : end) {
      auto it = subscription_->cursor().find(partition);
      if (offset > 0 && (it == subscription_->cursor().end() || it->second < offset)) {
        at_end = false;
      }
    }
    if (at_end) return absl::OkStatus();
    if (absl::Now() > deadline) {
      return absl::UnavailableError("could not read the enterprise stream to its end in time");
    }
    auto events = subscription_->Poll(10000, absl::Milliseconds(100));
    if (!events.ok()) {
      subscription_.reset();  // resume from the start next time; applied ones are skipped
      return events.status();
    }
    absl::MutexLock lock(&mu_);
    for (const auto& e : *events) {
      if (e.envelope.facility() != kEnterpriseStream) continue;
      if (e.envelope.sequence() != head_ + 1) continue;  // seen already
      TAKT_RETURN_IF_ERROR(
          model_.Apply(model::ModelEvent{e.envelope.event_type(), e.envelope.payload()}));
      head_ = e.envelope.sequence();
    }
  }
}

absl::StatusOr<ApplyOutcome> ModelStore::Apply(
    const std::vector<const google::protobuf::Message*>& definitions, const std::string& request_id,
    const std::string& actor, const std::string& fingerprint, bool validate_only,
    std::vector<model::ModelEvent>* decided_events) {
  absl::MutexLock write_lock(&write_mu_);
  TAKT_RETURN_IF_ERROR(Refresh());
  // Decide against a scratch copy that folds each decision in, so that a
  // facility and its areas can come in one request.
  model::EnterpriseModel scratch;
  uint64_t expected;
  {
    absl::ReaderMutexLock lock(&mu_);
    expected = head_;
  }
  // Rebuild the scratch model from the log (cheap: master data is small).
  {
    TAKT_ASSIGN_OR_RETURN(auto events,
                          log_->ReadStream({kEnterpriseContext, kEnterpriseStream}, 1, expected));
    for (const auto& e : events) {
      if (!validate_only && !fingerprint.empty() && e.envelope.request_id() == request_id &&
          !e.envelope.request_fingerprint().empty()) {
        // A resend: the outcome recorded with the request's first event.
        v1::ApplyDefinitionsResponse original;
        TAKT_RETURN_IF_ERROR(eventlog::ReplayOutcome(e.envelope, fingerprint, &original));
        return ApplyOutcome{original.changed(), original.unchanged()};
      }
      TAKT_RETURN_IF_ERROR(
          scratch.Apply(model::ModelEvent{e.envelope.event_type(), e.envelope.payload()}));
    }
  }
  ApplyOutcome outcome;
  eventlog::AppendRequest request;
  request.context = kEnterpriseContext;
  request.facility = kEnterpriseStream;
  request.expected_sequence = static_cast<int64_t>(expected);
  for (size_t i = 0; i < definitions.size(); ++i) {
    auto decided = scratch.Decide(*definitions[i], absl::Now());
    if (!decided.ok()) {
      return absl::Status(decided.status().code(),
                          absl::StrCat("definitions[", i, "]: ", decided.status().message()));
    }
    if (decided->empty()) {
      ++outcome.unchanged;
      continue;
    }
    ++outcome.changed;
    for (const model::ModelEvent& e : *decided) {
      if (decided_events != nullptr) decided_events->push_back(e);
      TAKT_RETURN_IF_ERROR(scratch.Apply(e));
      request.events.push_back(CommandEnvelope(e, actor, request_id, absl::Now()));
    }
  }
  if (request.events.empty() || validate_only) return outcome;
  if (!fingerprint.empty()) {
    v1::ApplyDefinitionsResponse response;
    response.set_changed(outcome.changed);
    response.set_unchanged(outcome.unchanged);
    eventlog::RecordOutcome(fingerprint, response, request.events[0]);
  }
  std::vector<model::ModelEvent> appended_events;
  for (const auto& e : request.events) {
    appended_events.push_back(model::ModelEvent{e.event_type(), e.payload()});
  }
  auto appended = log_->Append(std::move(request));
  if (!appended.ok()) return appended.status();
  if (appended->events[0].duplicate) {
    // A resend of a request already applied: report what it did then.
    outcome.unchanged += outcome.changed;
    outcome.changed = 0;
    TAKT_RETURN_IF_ERROR(Refresh());
    return outcome;
  }
  // Fold what was just made durable (readers of the log see it later).
  absl::MutexLock lock(&mu_);
  if (head_ == expected) {
    for (const model::ModelEvent& e : appended_events) TAKT_RETURN_IF_ERROR(model_.Apply(e));
    head_ = appended->head_sequence;
  }
  return outcome;
}

const kpi::FacilityCalendar* ModelStore::Calendar(const std::string& facility) const {
  absl::ReaderMutexLock lock(&mu_);
  return model_.Calendar(facility);
}

void ModelStore::Read(const std::function<void(const model::EnterpriseModel&)>& fn) const {
  absl::ReaderMutexLock lock(&mu_);
  fn(model_);
}

}  // namespace takt::enterprise
