// File: aggregate_store.h
// -----------------------------------------------------------------------------
// The one write path of every context: an aggregate's state is the fold of
// its stream; a command is decided against that state and its events are
// appended with the expected sequence (the stream head the decision saw).
//
//   es::AggregateStore<Planning> plans(log, {.context = "scheduling",
//                                            .stream = PlanStream,
//                                            .initial = [](auto& f) { return Planning(f); }});
//   auto r = plans.Execute<v1::ExecuteResponse>(facility, request, who, now,
//       [&](Planning& scratch, es::Decided& out, v1::ExecuteResponse& response) {
//         ... TAKT_RETURN_IF_ERROR(out.Emit(scratch, event)); ...
//       });
//
// What the store does, so that no context writes it again:
//  - loads the aggregate on first use (ReadStream from sequence 1) and keeps
//    it; a state type `State` has `absl::Status Apply(const es::Event&)`
//    and is copyable (decisions run on a scratch copy: all or nothing);
//  - answers a resend of a client's request id with the response recorded
//    with its first event (es/command.h), after a restart too, and refuses
//    the same id with other content (ALREADY_EXISTS);
//  - appends with the expected sequence; when another writer moved the
//    stream (FAILED_PRECONDITION, ABORTED) or the log already holds the
//    request id (ALREADY_EXISTS, duplicate), reloads and decides again (at
//    most kMaxAttempts times), so a retry after an unknown commit gets the
//    original answer, not an error;
//  - folds what became durable into the kept state.
// Thread-safe: one command at a time per store (the service is the
// streams' only writer); Read() and Snapshot() take the same lock.
#ifndef TAKT_LIBS_ES_AGGREGATE_STORE_H_
#define TAKT_LIBS_ES_AGGREGATE_STORE_H_

#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/es/command.h"
#include "libs/es/event.h"
#include "libs/eventlog/event_log.h"

namespace takt::es {

// The events a decision produced, in order.
class Decided {
 public:
  // Folds `event` into the decision's scratch state and keeps it: the next
  // command of the same request is decided against the state after it.
  template <typename State>
  absl::Status Emit(State& scratch, Event event) {
    TAKT_RETURN_IF_ERROR(scratch.Apply(event));
    events_.push_back(std::move(event));
    return absl::OkStatus();
  }
  // Decides the `count` items of one request in order (its repeated field
  // `field`: "commands", "definitions"), each against the state after the
  // ones before: `decide(i, scratch)` gives item i's events, none when it
  // changes nothing. An error names the item ("commands[3]: ...") and
  // fails the whole request. Counts the items that changed something and
  // those that did not.
  struct Counts {
    uint32_t changed = 0;
    uint32_t unchanged = 0;
  };
  template <typename State>
  absl::StatusOr<Counts> EmitEach(
      State& scratch, std::string_view field, int count,
      const std::function<absl::StatusOr<std::vector<Event>>(int i, const State& scratch)>& decide) {
    Counts counts;
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<std::vector<Event>> decided = decide(i, scratch);
      if (!decided.ok()) {
        return absl::Status(decided.status().code(),
                            absl::StrCat(std::string(field), "[", i, "]: ", decided.status().message()));
      }
      ++(decided->empty() ? counts.unchanged : counts.changed);
      for (Event& e : *decided) TAKT_RETURN_IF_ERROR(Emit(scratch, std::move(e)));
    }
    return counts;
  }

  const std::vector<Event>& events() const { return events_; }
  bool empty() const { return events_.empty(); }

 private:
  std::vector<Event> events_;
};

template <typename State>
class AggregateStore {
 public:
  struct Options {
    std::string context;
    // The stream of an aggregate (its facility, or a derived name).
    std::function<std::string(const std::string& key)> stream = [](const std::string& key) {
      return key;
    };
    // The state of an empty stream.
    std::function<State(const std::string& key)> initial;
  };
  template <typename Response>
  using Decider = std::function<absl::Status(State& scratch, Decided& out, Response& response)>;

  static constexpr int kMaxAttempts = 3;

  AggregateStore(eventlog::EventLog* log, Options options)
      : log_(log), options_(std::move(options)) {}

  // Decides `request` against aggregate `key` and appends what it decided
  // (nothing when the decider emits nothing, or with `validate_only`).
  // `request`'s top-level `request_id`, when set, makes it resendable;
  // without one the events get a fresh request id.
  template <typename Response>
  absl::StatusOr<Response> Execute(const std::string& key, const google::protobuf::Message& request,
                                   const CommandOrigin& origin, const Decider<Response>& decide,
                                   bool validate_only = false) {
    absl::MutexLock lock(&mu_);
    const std::string client_id = ClientRequestId(request);
    const std::string fingerprint = client_id.empty() ? "" : RequestFingerprint(request);
    for (int attempt = 1;; ++attempt) {
      TAKT_ASSIGN_OR_RETURN(Aggregate * a, Load(key));
      Response response;
      if (!client_id.empty() && !validate_only) {
        auto it = a->requests.find(client_id);
        if (it != a->requests.end()) {
          TAKT_RETURN_IF_ERROR(ReplayOutcome(it->second, fingerprint, &response));
          return response;
        }
      }
      State scratch = a->state;
      Decided decided;
      TAKT_RETURN_IF_ERROR(decide(scratch, decided, response));
      if (decided.empty() || validate_only) return response;
      eventlog::AppendRequest append;
      append.context = options_.context;
      append.facility = options_.stream(key);
      append.expected_sequence = static_cast<int64_t>(a->head);
      const std::string request_id = client_id.empty() ? NewUuid() : client_id;
      for (const Event& e : decided.events()) {
        append.events.push_back(CommandEnvelope(e, origin.actor, request_id, origin.now));
      }
      if (!fingerprint.empty()) RecordOutcome(fingerprint, response, append.events[0]);
      std::optional<eventlog::Envelope> first;
      if (!fingerprint.empty()) first = Remembered(append.events[0], append);
      auto appended = log_->Append(std::move(append));
      const bool raced =
          !appended.ok() && (appended.status().code() == absl::StatusCode::kFailedPrecondition ||
                             appended.status().code() == absl::StatusCode::kAborted ||
                             appended.status().code() == absl::StatusCode::kAlreadyExists);
      if (appended.ok() && appended->events[0].duplicate) {
        // This request landed before (an unknown commit retried): answer
        // with what was recorded then, and reload the stream.
        aggregates_.erase(key);
        if (!fingerprint.empty()) {
          TAKT_ASSIGN_OR_RETURN(
              auto recorded,
              log_->ReadStream({options_.context, options_.stream(key)},
                               appended->events[0].sequence, 1));
          if (!recorded.empty() && !recorded[0].envelope.request_fingerprint().empty()) {
            Response original;
            TAKT_RETURN_IF_ERROR(ReplayOutcome(recorded[0].envelope, fingerprint, &original));
            return original;
          }
        }
        if (attempt < kMaxAttempts) continue;
        return response;
      }
      if (!appended.ok()) {
        // Another writer moved the stream (or it holds this request id):
        // reload it and decide again.
        aggregates_.erase(key);
        if (raced && attempt < kMaxAttempts) continue;
        return appended.status();
      }
      for (const Event& e : decided.events()) TAKT_RETURN_IF_ERROR(a->state.Apply(e));
      a->head = appended->head_sequence;
      if (first) {
        first->set_sequence(appended->events[0].sequence);
        a->requests.emplace(client_id, *std::move(first));
      }
      return response;
    }
  }

  // Runs `fn` on the aggregate's current state (loading it if needed).
  absl::Status Read(const std::string& key, const std::function<void(const State&)>& fn) {
    absl::MutexLock lock(&mu_);
    TAKT_ASSIGN_OR_RETURN(Aggregate * a, Load(key));
    fn(a->state);
    return absl::OkStatus();
  }

  // A copy of the aggregate's current state, for work outside the lock.
  absl::StatusOr<State> Snapshot(const std::string& key) {
    absl::MutexLock lock(&mu_);
    TAKT_ASSIGN_OR_RETURN(Aggregate * a, Load(key));
    return a->state;
  }

  // The head sequence of the aggregate's stream as this store knows it.
  absl::StatusOr<uint64_t> Head(const std::string& key) {
    absl::MutexLock lock(&mu_);
    TAKT_ASSIGN_OR_RETURN(Aggregate * a, Load(key));
    return a->head;
  }

 private:
  struct Aggregate {
    State state;
    uint64_t head = 0;
    // The first event of each request that recorded its outcome (payload
    // dropped): what a resend of that request id is answered with.
    std::map<std::string, eventlog::Envelope> requests;
  };

  static eventlog::Envelope Remembered(const eventlog::Envelope& e,
                                       const eventlog::AppendRequest& append) {
    eventlog::Envelope first = e;
    first.clear_payload();
    first.set_context(append.context);
    first.set_facility(append.facility);
    return first;
  }

  absl::StatusOr<Aggregate*> Load(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = aggregates_.find(key);
    if (it != aggregates_.end()) return it->second.get();
    auto a = std::make_unique<Aggregate>(Aggregate{options_.initial(key), 0, {}});
    const eventlog::StreamId stream{options_.context, options_.stream(key)};
    for (;;) {
      TAKT_ASSIGN_OR_RETURN(auto events, log_->ReadStream(stream, a->head + 1, kLoadBatch));
      if (events.empty()) break;
      for (const auto& e : events) {
        absl::Status applied = a->state.Apply(Event{e.envelope.event_type(), e.envelope.payload()});
        if (!applied.ok()) {
          return absl::Status(applied.code(),
                              absl::StrCat(stream.context, "/", stream.facility, " sequence ",
                                           e.envelope.sequence(), ": ", applied.message()));
        }
        a->head = e.envelope.sequence();
        if (!e.envelope.request_fingerprint().empty()) {
          eventlog::Envelope first = e.envelope;
          first.clear_payload();
          a->requests.emplace(first.request_id(), std::move(first));
        }
      }
    }
    Aggregate* out = a.get();
    aggregates_[key] = std::move(a);
    return out;
  }

  static constexpr size_t kLoadBatch = 10000;

  eventlog::EventLog* log_;
  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Aggregate>> aggregates_ ABSL_GUARDED_BY(mu_);
};

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_AGGREGATE_STORE_H_
