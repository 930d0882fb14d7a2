// File: model_store.h
// -----------------------------------------------------------------------------
// The enterprise model as every service reads it: folded from stream
// enterprise/enterprise by subscription (so it works in a process that only
// reads the enterprise context), refreshed on demand. The enterprise
// service writes that stream (services/enterprise); everyone else follows.
// Thread-safe; readers take a shared lock.
#ifndef TAKT_LIBS_MODEL_MODEL_STORE_H_
#define TAKT_LIBS_MODEL_MODEL_STORE_H_

#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/event_log.h"
#include "libs/model/enterprise_model.h"

namespace takt::model {

inline constexpr char kEnterpriseContext[] = "enterprise";
inline constexpr char kEnterpriseStream[] = "enterprise";

class ModelStore {
 public:
  explicit ModelStore(eventlog::EventLog* log) : log_(log) {}

  // Reads the enterprise stream from where this store stands to its end.
  absl::Status Refresh();

  // A facility's calendar, or nullptr if unknown. Calendars stay valid for
  // the store's lifetime (a redefinition retires, not frees, the old one).
  const kpi::FacilityCalendar* Calendar(const std::string& facility) const;

  // Whether the facility is defined; refreshes once when it is not known
  // yet (the enterprise service may have defined it a moment ago).
  bool KnowsFacility(const std::string& facility);
  // OK iff `facility` is a valid id (INVALID_ARGUMENT) the model defines
  // (NOT_FOUND naming it); refreshes once as KnowsFacility does.
  absl::Status CheckFacility(const std::string& facility);

  // Runs `fn` with the model under a shared lock.
  void Read(const std::function<void(const EnterpriseModel&)>& fn) const;

 private:
  eventlog::EventLog* log_;
  absl::Mutex refresh_mu_;
  std::unique_ptr<eventlog::Subscription> subscription_ ABSL_GUARDED_BY(refresh_mu_);
  mutable absl::Mutex mu_;
  EnterpriseModel model_ ABSL_GUARDED_BY(mu_);
  uint64_t head_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace takt::model

#endif  // TAKT_LIBS_MODEL_MODEL_STORE_H_
