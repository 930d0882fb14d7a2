// File: model_store.h
// -----------------------------------------------------------------------------
// The enterprise model of a running server: rebuilt from stream
// enterprise/enterprise on start, changed only by appending decided events
// to that stream (optimistic concurrency on its head) and folding them in.
// Thread-safe; readers take a shared lock.
#ifndef TAKT_SERVICES_ENTERPRISE_MODEL_STORE_H_
#define TAKT_SERVICES_ENTERPRISE_MODEL_STORE_H_

#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"

namespace takt::enterprise {

inline constexpr char kEnterpriseContext[] = "enterprise";
inline constexpr char kEnterpriseStream[] = "enterprise";

struct ApplyOutcome {
  uint32_t changed = 0;
  uint32_t unchanged = 0;
};

// The envelope of an event decided from a person's command: type,
// payload, who asked, the request id that makes a resend idempotent, and
// when.
eventlog::Envelope CommandEnvelope(const model::ModelEvent& event, const std::string& actor,
                                   const std::string& request_id, absl::Time now);

class ModelStore {
 public:
  explicit ModelStore(eventlog::EventLog* log) : log_(log) {}

  // Reads the enterprise stream from where this store stands to its end (by
  // subscription, so it works where the context is only read).
  absl::Status Refresh();

  // Decides every definition against the model as it would stand after the
  // ones before it, then appends all resulting events as one batch with
  // `request_id`. With the request's `fingerprint` (eventlog/command.h), the
  // outcome is recorded with the events: a resend gets the original
  // outcome, after a restart too, and other content under the same request
  // id is ALREADY_EXISTS.
  // With `validate_only`, nothing is written and `decided` gets the events
  // that would be.
  absl::StatusOr<ApplyOutcome> Apply(const std::vector<const google::protobuf::Message*>& definitions,
                                     const std::string& request_id, const std::string& actor,
                                     const std::string& fingerprint = "", bool validate_only = false,
                                     std::vector<model::ModelEvent>* decided = nullptr);

  // A facility's calendar, or nullptr if unknown. Calendars stay valid for
  // the store's lifetime (a redefinition retires, not frees, the old one).
  const kpi::FacilityCalendar* Calendar(const std::string& facility) const;

  // Runs `fn` with the model under a shared lock.
  void Read(const std::function<void(const model::EnterpriseModel&)>& fn) const;

 private:
  eventlog::EventLog* log_;
  absl::Mutex write_mu_;  // one Apply at a time
  absl::Mutex refresh_mu_;
  std::unique_ptr<eventlog::Subscription> subscription_ ABSL_GUARDED_BY(refresh_mu_);
  mutable absl::Mutex mu_;
  model::EnterpriseModel model_ ABSL_GUARDED_BY(mu_);
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_MODEL_STORE_H_
