#include "libs/rollup/projection.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "takt/scheduling/v1/events.pb.h"

namespace takt::rollup {
namespace {

constexpr char kUnitStateChanged[] = "takt.scheduling.v1.UnitStateChanged";
constexpr char kProductionCounted[] = "takt.scheduling.v1.ProductionCounted";
constexpr char kOrderStarted[] = "takt.scheduling.v1.OrderStarted";
constexpr char kOrderEnded[] = "takt.scheduling.v1.OrderEnded";
// Timeline rows for order changes use these codes beside the unit states.
constexpr int kOrderStartCode = 16;
constexpr int kOrderEndCode = 17;

absl::Time OccurredTime(const eventlog::Envelope& e) {
  return absl::FromUnixSeconds(e.occurred_time().seconds()) +
         absl::Nanoseconds(e.occurred_time().nanos());
}

std::optional<kpi::UnitState> ToUnitState(scheduling::v1::UnitState s) {
  switch (s) {
    case scheduling::v1::UNIT_STATE_RUNNING: return kpi::UnitState::kRunning;
    case scheduling::v1::UNIT_STATE_SETUP: return kpi::UnitState::kSetup;
    case scheduling::v1::UNIT_STATE_DELAYED: return kpi::UnitState::kDelayed;
    case scheduling::v1::UNIT_STATE_DOWN: return kpi::UnitState::kDown;
    case scheduling::v1::UNIT_STATE_IDLE: return kpi::UnitState::kIdle;
    case scheduling::v1::UNIT_STATE_PLANNED_DOWNTIME: return kpi::UnitState::kPlannedDowntime;
    default: return std::nullopt;
  }
}

}  // namespace

// What one batch will write.
struct Projection::Pending {
  absl::flat_hash_map<std::pair<const Unit*, int64_t>, kpi::ElementSums> deltas;
  std::vector<TimelineChange> changes;
  std::map<std::pair<std::string, std::pair<absl::Time, std::string>>, kpi::ReasonSums> reasons;

  void Add(const Unit* unit, const kpi::HourlyDelta& d) {
    for (const auto& [hour, sums] : d) deltas[{unit, absl::ToUnixSeconds(hour)}] += sums;
  }
};

const kpi::FacilityCalendar* Projection::CalendarOf(const std::string& facility) {
  auto it = calendar_cache_.find(facility);
  if (it != calendar_cache_.end()) return it->second;
  const kpi::FacilityCalendar* cal = calendars_(facility);
  if (cal != nullptr) calendar_cache_[facility] = cal;  // unknown ones are asked again
  return cal;
}

absl::StatusOr<Projection::Unit*> Projection::FindUnit(const std::string& facility,
                                                       const std::string& unit,
                                                       const kpi::FacilityCalendar* calendar) {
  std::string key;
  key.reserve(facility.size() + unit.size() + 1);
  key.append(facility).push_back('\0');
  key.append(unit);
  auto& slot = units_[key];
  if (!slot) {
    auto u = std::make_unique<Unit>(Unit{facility, unit, calendar, nullptr});
    u->timeline = std::make_unique<kpi::UnitTimeline>(calendar);
    TAKT_ASSIGN_OR_RETURN(auto changes, store_->LoadTimeline(facility, unit));
    for (const auto& [at, state, reason] : changes) {
      if (state == kOrderStartCode || state == kOrderEndCode) {
        u->timeline->RestoreOrder(at, state == kOrderStartCode);
      } else {
        u->timeline->Restore(at, static_cast<kpi::UnitState>(state), reason);
      }
    }
    slot = std::move(u);
  }
  return slot.get();
}

Projection::Projection(eventlog::EventLog* log, RollupStore* store, CalendarLookup calendars,
                       ProjectionOptions options)
    : log_(log), store_(store), calendars_(std::move(calendars)), options_(std::move(options)) {}

absl::Status Projection::Start() {
  TAKT_ASSIGN_OR_RETURN(Cursor cursor, store_->LoadCursor(options_.context));
  stored_cursor_ = cursor;
  TAKT_ASSIGN_OR_RETURN(subscription_, log_->Subscribe(options_.context, cursor));
  return absl::OkStatus();
}

absl::Status Projection::ApplyEvent(const eventlog::Envelope& e, Pending& pending) {
  const bool is_state = e.event_type() == kUnitStateChanged;
  const bool is_count = e.event_type() == kProductionCounted;
  const bool is_order = e.event_type() == kOrderStarted || e.event_type() == kOrderEnded;
  if (!is_state && !is_count && !is_order) {
    ++stats_.events_ignored;
    return absl::OkStatus();
  }
  const kpi::FacilityCalendar* calendar = CalendarOf(e.facility());
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "event ", e.event_id(), " is for facility '", e.facility(), "', which has no calendar"));
  }
  const absl::Time at = OccurredTime(e);
  if (is_state) {
    scheduling::v1::UnitStateChanged change;
    if (!change.ParseFromString(e.payload())) {
      return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
    }
    auto state = ToUnitState(change.state());
    if (!state) {
      return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": unknown unit state"));
    }
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), change.work_unit(), calendar));
    kpi::ReasonDelta reasons;
    pending.Add(u, u->timeline->ChangeState(at, *state, change.reason_code(), &reasons));
    for (const auto& [key, sums] : reasons) {
      kpi::ReasonSums& target = pending.reasons[{e.facility(), key}];
      target.micros += sums.micros;
      target.stoppages += sums.stoppages;
    }
    pending.changes.push_back(TimelineChange{e.facility(), change.work_unit(), at,
                                             static_cast<int>(*state), change.reason_code()});
  } else if (is_order) {
    const bool started = e.event_type() == kOrderStarted;
    std::string unit;
    if (started) {
      scheduling::v1::OrderStarted o;
      if (!o.ParseFromString(e.payload())) {
        return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
      }
      unit = o.work_unit();
    } else {
      scheduling::v1::OrderEnded o;
      if (!o.ParseFromString(e.payload())) {
        return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
      }
      unit = o.work_unit();
    }
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), unit, calendar));
    pending.Add(u, u->timeline->OrderChange(at, started));
    pending.changes.push_back(TimelineChange{e.facility(), unit, at,
                                             started ? kOrderStartCode : kOrderEndCode, ""});
  } else {
    scheduling::v1::ProductionCounted count;
    if (!count.ParseFromString(e.payload())) {
      return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
    }
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), count.work_unit(), calendar));
    pending.Add(u, u->timeline->Count(at, count.good(), count.scrap(), count.rework(),
                                      absl::Microseconds(count.planned_run_time_per_item_us())));
  }
  ++stats_.events_applied;
  return absl::OkStatus();
}

absl::StatusOr<size_t> Projection::Step(absl::Duration timeout) {
  if (!subscription_) return absl::FailedPreconditionError("projection not started");
  TAKT_ASSIGN_OR_RETURN(auto events, subscription_->Poll(options_.max_events_per_batch, timeout));
  if (events.empty()) {
    // The cursor can move without events (Kafka checkpoint records and
    // transaction markers): store it so that the lag reaches zero.
    if (subscription_->cursor() != stored_cursor_) {
      absl::Status s = store_->Apply({}, {}, {}, options_.context, subscription_->cursor(),
                                     options_.sync);
      if (!s.ok()) return s;
      stored_cursor_ = subscription_->cursor();
    }
    return 0;
  }
  Pending pending;
  for (const auto& logged : events) {
    absl::Status s = ApplyEvent(logged.envelope, pending);
    if (!s.ok()) {
      // Nothing of this batch was written, but the timelines and the
      // subscription moved: drop both; Start() resumes at the stored cursor.
      units_.clear();
      calendar_cache_.clear();
      subscription_.reset();
      return s;
    }
  }
  std::vector<UnitHourDelta> deltas;
  deltas.reserve(pending.deltas.size());
  for (auto& [key, sums] : pending.deltas) {
    if (sums == kpi::ElementSums{}) continue;
    const Unit* u = key.first;
    const absl::Time hour = absl::FromUnixSeconds(key.second);
    deltas.push_back({u->facility, u->unit, hour, sums, u->calendar->ProductionDay(hour)});
  }
  // Deterministic write order (hash maps have none).
  std::sort(deltas.begin(), deltas.end(), [](const UnitHourDelta& a, const UnitHourDelta& b) {
    return std::tie(a.facility, a.unit, a.hour) < std::tie(b.facility, b.unit, b.hour);
  });
  std::vector<ReasonHourDelta> reasons;
  for (const auto& [key, sums] : pending.reasons) {
    if (sums == kpi::ReasonSums{}) continue;
    reasons.push_back({key.first, key.second.second, key.second.first, sums.micros, sums.stoppages});
  }
  absl::Status s = store_->Apply(deltas, pending.changes, reasons, options_.context,
                                 subscription_->cursor(), options_.sync);
  if (!s.ok()) {
    units_.clear();
    calendar_cache_.clear();
    subscription_.reset();
    return s;
  }
  stored_cursor_ = subscription_->cursor();
  return events.size();
}

absl::StatusOr<uint64_t> Projection::CatchUp() {
  uint64_t total = 0;
  for (;;) {
    TAKT_ASSIGN_OR_RETURN(size_t n, Step(absl::ZeroDuration()));
    if (n == 0) return total;
    total += n;
  }
}

}  // namespace takt::rollup
