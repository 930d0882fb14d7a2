// File: context_follower.h
// -----------------------------------------------------------------------------
// Another context's published events, read on demand. A process may read
// the streams of a context it does not own only through a subscription (on
// Kafka it follows that context's topic, and ReadStream is refused): a
// ContextFollower keeps one subscription and, on each CatchUp, polls it
// until its cursor reaches the context's end as of the call, handing each
// event to the caller's fold (which keys its state by envelope facility).
// Used by scheduling for staffing's crew facts and by budgets for
// scheduling's production counts. Not thread-safe: the owner locks.
#ifndef TAKT_LIBS_ES_CONTEXT_FOLLOWER_H_
#define TAKT_LIBS_ES_CONTEXT_FOLLOWER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"

namespace takt::es {

class ContextFollower {
 public:
  ContextFollower(eventlog::EventLog* log, std::string context) : log_(log), context_(std::move(context)) {}

  // Folds every event appended to the context up to now. DEADLINE_EXCEEDED
  // if the log does not deliver them within `timeout`. After any error the
  // follower starts again from the context's beginning: the caller clears
  // what it folded.
  absl::Status CatchUp(const std::function<absl::Status(const eventlog::LoggedEvent&)>& fold,
                       absl::Duration timeout = absl::Seconds(10)) {
    if (subscription_ == nullptr) {
      auto s = log_->Subscribe(context_, {});
      if (!s.ok()) return s.status();
      subscription_ = *std::move(s);
    }
    auto end = log_->EndCursor(context_);
    if (!end.ok()) return end.status();
    const absl::Time deadline = absl::Now() + timeout;
    while (eventlog::Lag(subscription_->cursor(), *end) > 0) {
      if (absl::Now() > deadline) {
        subscription_.reset();
        return absl::DeadlineExceededError(absl::StrCat("the ", context_, " context did not arrive in time"));
      }
      auto events = subscription_->Poll(kBatch, absl::Milliseconds(100));
      if (!events.ok()) {
        subscription_.reset();
        return events.status();
      }
      for (const eventlog::LoggedEvent& e : *events) {
        if (absl::Status s = fold(e); !s.ok()) {
          subscription_.reset();
          return s;
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kBatch = 10000;
  eventlog::EventLog* log_;
  std::string context_;
  std::unique_ptr<eventlog::Subscription> subscription_;
};

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_CONTEXT_FOLLOWER_H_
