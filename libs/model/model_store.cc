#include "libs/model/model_store.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"

namespace takt::model {

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
      absl::Status applied = model_.Apply(ModelEvent{e.envelope.event_type(), e.envelope.payload()});
      if (!applied.ok()) {
        return absl::Status(applied.code(), absl::StrCat(kEnterpriseContext, "/", kEnterpriseStream,
                                                         " sequence ", e.envelope.sequence(), ": ",
                                                         applied.message()));
      }
      head_ = e.envelope.sequence();
    }
  }
}

const kpi::FacilityCalendar* ModelStore::Calendar(const std::string& facility) const {
  absl::ReaderMutexLock lock(&mu_);
  return model_.Calendar(facility);
}

absl::Status ModelStore::CheckFacility(const std::string& facility) {
  TAKT_RETURN_IF_ERROR(ValidateFacilityId(facility));
  if (!KnowsFacility(facility)) {
    return absl::NotFoundError(absl::StrCat("facility '", facility, "' is not defined"));
  }
  return absl::OkStatus();
}

bool ModelStore::KnowsFacility(const std::string& facility) {
  bool known = false;
  Read([&](const EnterpriseModel& m) { known = m.Facility(facility) != nullptr; });
  if (known) return true;
  (void)Refresh();
  Read([&](const EnterpriseModel& m) { known = m.Facility(facility) != nullptr; });
  return known;
}

void ModelStore::Read(const std::function<void(const EnterpriseModel&)>& fn) const {
  absl::ReaderMutexLock lock(&mu_);
  fn(model_);
}

}  // namespace takt::model
