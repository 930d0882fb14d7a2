#include "services/rollups/family_projection.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"

namespace takt::rollup {

absl::Status FoldIntoHours(const kpi::FamilyRegistration& family, kpi::Fold& fold,
                           const std::vector<eventlog::LoggedEvent>& events,
                           const CalendarLookup& calendars, std::vector<FamilyHourDelta>& out,
                           const ZoneMissing* zone_missing, std::set<std::string>* parked) {
  std::vector<kpi::FamilyDelta> deltas;
  for (const eventlog::LoggedEvent& e : events) {
    deltas.clear();
    const auto where = [&] {
      return absl::StrCat(e.envelope.context(), "/", e.envelope.facility(), " sequence ",
                          e.envelope.sequence(), " (", e.envelope.event_type(), ")");
    };
    absl::Status folded = fold.Apply(e.envelope, deltas);
    if (!folded.ok()) {
      return absl::Status(folded.code(), absl::StrCat("family '", family.family.name, "': ",
                                                      where(), ": ", folded.message()));
    }
    for (kpi::FamilyDelta& d : deltas) {
      if (d.values.size() != family.family.elements.size()) {
        return absl::InternalError(absl::StrCat(
            "family '", family.family.name, "': ", where(), ": the fold gave ", d.values.size(),
            " values, the family has ", family.family.elements.size(), " elements"));
      }
      const kpi::FacilityCalendar* cal = calendars(d.facility);
      if (cal == nullptr && zone_missing != nullptr && *zone_missing && (*zone_missing)(d.facility)) {
        if (parked != nullptr) parked->insert(d.facility);
        continue;
      }
      if (cal == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            "family '", family.family.name, "': ", where(), ": facility '", d.facility,
            "' is not defined (yet)"));
      }
      const absl::Time hour = cal->HourStart(d.at);
      out.push_back({std::move(d.facility), std::move(d.unit), hour, cal->ProductionDay(hour),
                     std::move(d.values)});
    }
  }
  return absl::OkStatus();
}

FamilyProjection::FamilyProjection(eventlog::EventLog* log, RollupStore* store,
                                   const kpi::FamilyRegistration* family,
                                   CalendarLookup calendars, size_t max_events_per_batch,
                                   ZoneMissing zone_missing)
    : log_(log),
      store_(store),
      family_(family),
      calendars_(std::move(calendars)),
      zone_missing_(std::move(zone_missing)),
      max_events_(max_events_per_batch),
      fold_(family->fold()) {}

std::string FamilyProjection::CursorKey(const kpi::FamilyRegistration& family) {
  return absl::StrCat(family.context, "#", family.family.name);
}

absl::Status FamilyProjection::Start() {
  // Rows written under another element list cannot be added to: rebuild
  // this family (only it) from the start of the log.
  TAKT_RETURN_IF_ERROR(store_->CheckFamilyLayout(family_->family, CursorKey(*family_)));
  TAKT_ASSIGN_OR_RETURN(parked_, store_->Parked(CursorKey(*family_)));
  TAKT_ASSIGN_OR_RETURN(cursor_, store_->LoadCursor(CursorKey(*family_)));
  TAKT_ASSIGN_OR_RETURN(subscription_, log_->Subscribe(family_->context, cursor_));
  return absl::OkStatus();
}

absl::StatusOr<size_t> FamilyProjection::Step(absl::Duration timeout) {
  // A parked facility whose calendar can be built now: this family is
  // rebuilt from the log, with a new fold.
  for (const std::string& facility : parked_) {
    if (calendars_(facility) == nullptr) continue;
    log::Info(absl::StrCat("rollups: facility '", facility, "' has its calendar again: rebuilding family '",
                           family_->family.name, "' from the log"));
    TAKT_RETURN_IF_ERROR(store_->ClearFamily(family_->family, CursorKey(*family_)));
    subscription_.reset();
    fold_ = family_->fold();
    parked_.clear();
    break;
  }
  if (!subscription_) TAKT_RETURN_IF_ERROR(Start());
  absl::StatusOr<std::vector<eventlog::LoggedEvent>> polled = subscription_->Poll(max_events_, timeout);
  if (!polled.ok()) {
    // A reader that failed part-way may have moved past what it could not
    // deliver: resume at the stored cursor, never after it.
    subscription_.reset();
    return polled.status();
  }
  const std::vector<eventlog::LoggedEvent>& events = *polled;
  if (events.empty()) {
    // The cursor can move without events (Kafka checkpoint records and
    // transaction markers): store it so that the lag reaches zero.
    const eventlog::Cursor next = subscription_->cursor();
    if (next != cursor_) {
      absl::Status s = store_->ApplyFamily(family_->family.name, {}, CursorKey(*family_), next, false);
      if (!s.ok()) {
        subscription_.reset();
        return s;
      }
      cursor_ = next;
    }
    return 0;
  }
  std::vector<FamilyHourDelta> deltas;
  std::set<std::string> parked;
  absl::Status folded = FoldIntoHours(*family_, *fold_, events, calendars_, deltas, &zone_missing_, &parked);
  if (!folded.ok()) {
    subscription_.reset();  // resume at the stored cursor next time
    return folded;
  }
  // Parked before the batch that dropped their deltas is stored.
  for (const std::string& facility : parked) {
    if (parked_.count(facility)) continue;
    log::Warn(absl::StrCat("rollups: family '", family_->family.name, "': parking facility '", facility,
                           "': its calendar cannot be built on this machine (time zone missing from tzdata); "
                           "rebuilt once it can; other facilities go on"));
    if (absl::Status s = store_->Park(CursorKey(*family_), facility); !s.ok()) {
      subscription_.reset();
      return s;
    }
    parked_.insert(facility);
  }
  const eventlog::Cursor next = subscription_->cursor();
  absl::Status written =
      store_->ApplyFamily(family_->family.name, deltas, CursorKey(*family_), next, /*sync=*/false);
  if (!written.ok()) {
    subscription_.reset();
    return written;
  }
  cursor_ = next;
  return events.size();
}

}  // namespace takt::rollup
