#include "services/scheduling/rollup_projection.h"

#include <pthread.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/log.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::scheduling {

using rollup::ReasonHourDelta;
using rollup::TimelineChange;
using rollup::UnitHourDelta;
namespace {

// Views, not arrays: comparing a std::string with a view checks the
// length first (with a char array it is strlen and compare per event).
constexpr std::string_view kUnitStateChanged = "takt.scheduling.v1.UnitStateChanged";
constexpr std::string_view kProductionCounted = "takt.scheduling.v1.ProductionCounted";
constexpr std::string_view kOrderStarted = "takt.scheduling.v1.OrderStarted";
constexpr std::string_view kOrderEnded = "takt.scheduling.v1.OrderEnded";
// Planning facts, in streams "<facility>.plan".
constexpr std::string_view kWorkOrderCreated = "takt.scheduling.v1.WorkOrderCreated";
constexpr std::string_view kScheduleCommitted = "takt.scheduling.v1.ScheduleCommitted";
constexpr std::string_view kWorkOrderCompleted = "takt.scheduling.v1.WorkOrderCompleted";
constexpr std::string_view kWorkOrderCancelled = "takt.scheduling.v1.WorkOrderCancelled";
constexpr std::string_view kCountCorrected = "takt.scheduling.v1.ProductionCountCorrected";
// Timeline rows for order changes use these codes beside the unit states.
constexpr int kOrderStartCode = 16;
constexpr int kOrderEndCode = 17;

absl::Time OccurredTime(const eventlog::Envelope& e) { return ToTime(e.occurred_time()); }

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
  std::map<std::string, OrderFacts> orders;  // key: facility \0 work order

  void Add(const Unit* unit, const kpi::HourlyDelta& d) {
    for (const auto& [hour, sums] : d) deltas[{unit, absl::ToUnixSeconds(hour)}] += sums;
  }

  // A unit's timeline adds into the batch's sums through this, with no map
  // per event.
  class UnitSink final : public kpi::DeltaSink {
   public:
    UnitSink(Pending& pending, const Unit* unit) : pending_(pending), unit_(unit) {}
    kpi::ElementSums& Hour(absl::Time hour) override {
      return pending_.deltas[{unit_, absl::ToUnixSeconds(hour)}];
    }
    kpi::ReasonSums* Reason(absl::Time hour, const std::string& reason) override {
      return &pending_.reasons[{unit_->facility, {hour, reason}}];
    }

   private:
    Pending& pending_;
    const Unit* unit_;
  };
};

// Payload messages reused from event to event: parsing into them keeps
// their strings' buffers.
struct Projection::Scratch {
  scheduling::v1::UnitStateChanged change;
  scheduling::v1::ProductionCounted count;
  scheduling::v1::OrderStarted started;
  scheduling::v1::OrderEnded ended;
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
  // The key is built in a buffer kept from call to call: no allocation
  // per event once it has grown.
  std::string& key = unit_key_;
  key.clear();
  key.append(facility).push_back('\0');
  key.append(unit);
  auto& slot = units_[key];
  if (slot && slot->calendar != calendar) {
    // The model changed the facility's calendar. Changes take effect after
    // everything folded so far (EnterpriseModel::Decide), so the new
    // calendar agrees with the old one on all of it.
    slot->calendar = calendar;
    slot->timeline->set_calendar(calendar);
  }
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

// Polls the subscription on its own thread, one batch ahead of the applier:
// reading and decoding envelopes overlaps with folding and writing the
// previous batch. Each batch carries the cursor just after it. An empty
// batch means the log had nothing more when it was polled.
class Projection::Prefetcher {
 public:
  struct Batch {
    absl::StatusOr<std::vector<eventlog::LoggedEvent>> events;
    eventlog::Cursor cursor_after;
  };

  Prefetcher(std::unique_ptr<eventlog::Subscription> subscription, size_t max_events)
      : subscription_(std::move(subscription)), max_events_(max_events),
        thread_([this] {
          pthread_setname_np(pthread_self(), "takt-prefetch");
          Run();
        }) {}

  ~Prefetcher() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // Hands back the events of a batch applied: the next poll decodes into
  // their envelopes (no allocation, no destruction per event).
  void Recycle(std::vector<eventlog::LoggedEvent> events) {
    absl::MutexLock lock(&mu_);
    spare_ = std::move(events);
  }

  // The next batch, or nullopt if none arrived within `timeout`.
  std::optional<Batch> Next(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !queue_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&ready), timeout)) return std::nullopt;
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    return b;
  }

 private:
  static constexpr size_t kAhead = 2;

  void Run() {
    size_t want = std::min(max_events_, std::max<size_t>(max_events_ / 16, 1024));
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return stop_ || queue_.size() < kAhead;
        };
        mu_.Await(absl::Condition(&room));
        if (stop_) return;
      }
      std::vector<eventlog::LoggedEvent> events;
      {
        absl::MutexLock lock(&mu_);
        events.swap(spare_);
      }
      absl::Status polled = subscription_->PollInto(want, absl::Milliseconds(100), &events);
      // The first batches are small, so that the fold starts while the
      // reader is still at the head of a long catch-up (the two threads
      // overlap sooner); they double up to the full size.
      want = std::min(want * 2, max_events_);
      Batch b{polled.ok() ? absl::StatusOr<std::vector<eventlog::LoggedEvent>>(std::move(events))
                          : absl::StatusOr<std::vector<eventlog::LoggedEvent>>(polled),
              {}};
      b.cursor_after = subscription_->cursor();
      const bool failed = !b.events.ok();
      const bool empty = !failed && b.events->empty();
      absl::MutexLock lock(&mu_);
      // "Nothing more" is worth saying once, not once per poll.
      if (empty && !queue_.empty()) continue;
      queue_.push_back(std::move(b));
      if (failed) {
        // The subscription is unusable; the applier resets and restarts.
        auto stopped = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_; };
        mu_.Await(absl::Condition(&stopped));
        return;
      }
    }
  }

  std::vector<eventlog::LoggedEvent> spare_ ABSL_GUARDED_BY(mu_);  // a batch applied, to decode into
  std::unique_ptr<eventlog::Subscription> subscription_;  // used by the thread only
  const size_t max_events_;
  absl::Mutex mu_;
  std::deque<Batch> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members above exist
};

Projection::Projection(eventlog::EventLog* log, RollupStore* store, CalendarLookup calendars,
                       ProjectionOptions options)
    : log_(log),
      store_(store),
      calendars_(std::move(calendars)),
      options_(std::move(options)),
      scratch_(std::make_unique<Scratch>()) {}

Projection::~Projection() = default;

absl::Status Projection::Start() {
  prefetcher_.reset();
  TAKT_ASSIGN_OR_RETURN(parked_, store_->Parked(options_.context));
  TAKT_ASSIGN_OR_RETURN(eventlog::Cursor cursor, store_->LoadCursor(options_.context));
  stored_cursor_ = cursor;
  TAKT_ASSIGN_OR_RETURN(auto subscription, log_->Subscribe(options_.context, cursor));
  prefetcher_ = std::make_unique<Prefetcher>(std::move(subscription), options_.max_events_per_batch);
  return absl::OkStatus();
}

// Nothing of the current batch was written, but the timelines and the
// subscription moved: drop both; Start() resumes at the stored cursor.
void Projection::Reset() {
  units_.clear();
  orders_.clear();
  calendar_cache_.clear();
  prefetcher_.reset();
}

absl::Status Projection::ApplyPlanEvent(const eventlog::Envelope& e, const std::string& facility,
                                        Pending& pending) {
  const std::string& type = e.event_type();
  if (type != kWorkOrderCreated && type != kScheduleCommitted && type != kWorkOrderCompleted &&
      type != kWorkOrderCancelled && type != kCountCorrected) {
    ++stats_.events_ignored;
    return absl::OkStatus();
  }
  const kpi::FacilityCalendar* calendar = CalendarOf(facility);
  if (calendar == nullptr) {
    if (Parks(facility)) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "event ", e.event_id(), " is for facility '", facility, "', which has no calendar"));
  }
  auto decode = [&](google::protobuf::Message* m) {
    return m->ParseFromString(e.payload())
               ? absl::OkStatus()
               : absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
  };
  // Changes the facts of one order and adds the difference it makes.
  auto update = [&](const std::string& order, const std::function<void(OrderFacts&)>& change) -> absl::Status {
    TAKT_ASSIGN_OR_RETURN(OrderFacts * facts, FindOrder(facility, order, pending));
    const OrderFacts before = *facts;
    change(*facts);
    if (*facts == before) return absl::OkStatus();
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(facility, "", calendar));  // the facility itself
    pending.Add(u, OrderChange(before, *facts, *calendar));
    return absl::OkStatus();
  };
  if (type == kCountCorrected) {
    // The corrected figures replace the previous ones where they were counted.
    scheduling::v1::ProductionCountCorrected x;
    TAKT_RETURN_IF_ERROR(decode(&x));
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(facility, x.work_unit(), calendar));
    const absl::Time at = ToTime(x.counted_time());
    const absl::Duration pri = absl::Microseconds(x.planned_run_time_per_item_us());
    const auto& p = x.previous();
    const auto& c = x.corrected();
    pending.Add(u, u->timeline->Count(at, c.good() - p.good(), c.scrap() - p.scrap(),
                                      c.rework() - p.rework(), pri));
  } else if (type == kWorkOrderCreated) {
    scheduling::v1::WorkOrderCreated w;
    TAKT_RETURN_IF_ERROR(decode(&w));
    TAKT_RETURN_IF_ERROR(update(w.work_order(), [&](OrderFacts& f) {
      if (w.has_due_time()) f.due = ToTime(w.due_time());
    }));
  } else if (type == kScheduleCommitted) {
    scheduling::v1::ScheduleCommitted c;
    TAKT_RETURN_IF_ERROR(decode(&c));
    for (const auto& o : c.schedule().orders()) {
      TAKT_RETURN_IF_ERROR(update(o.work_order(), [&](OrderFacts& f) {
        f.planned_start = ToTime(o.planned_start());
        f.planned_end = ToTime(o.planned_end());
      }));
    }
  } else if (type == kWorkOrderCompleted) {
    scheduling::v1::WorkOrderCompleted w;
    TAKT_RETURN_IF_ERROR(decode(&w));
    TAKT_RETURN_IF_ERROR(update(w.work_order(), [&](OrderFacts& f) { f.completed = ToTime(w.completed_time()); }));
  } else {
    scheduling::v1::WorkOrderCancelled w;
    TAKT_RETURN_IF_ERROR(decode(&w));
    TAKT_RETURN_IF_ERROR(update(w.work_order(), [&](OrderFacts& f) { f.cancelled = true; }));
  }
  ++stats_.events_applied;
  return absl::OkStatus();
}

absl::StatusOr<OrderFacts*> Projection::FindOrder(const std::string& facility, const std::string& order,
                                                  Pending& pending) {
  std::string key;
  key.reserve(facility.size() + order.size() + 1);
  key.append(facility).push_back('\0');
  key.append(order);
  auto it = pending.orders.find(key);
  if (it != pending.orders.end()) return &it->second;
  auto cached = orders_.find(key);
  OrderFacts facts;
  if (cached != orders_.end()) {
    facts = cached->second;
  } else {
    TAKT_ASSIGN_OR_RETURN(auto stored, store_->LoadOrder(key));
    if (stored) {
      auto decoded = OrderFacts::Decode(*stored);
      if (!decoded) return absl::DataLossError("a work order row is corrupt; rebuild the rollups");
      facts = *decoded;
    }
  }
  return &pending.orders.emplace(key, facts).first->second;
}

absl::Status Projection::ApplyEvent(const eventlog::Envelope& e, Pending& pending) {
  if (auto facility = FacilityOfPlanStream(e.facility())) return ApplyPlanEvent(e, *facility, pending);
  const bool is_state = e.event_type() == kUnitStateChanged;
  const bool is_count = e.event_type() == kProductionCounted;
  const bool is_order = e.event_type() == kOrderStarted || e.event_type() == kOrderEnded;
  if (!is_state && !is_count && !is_order) {
    ++stats_.events_ignored;
    return absl::OkStatus();
  }
  const kpi::FacilityCalendar* calendar = CalendarOf(e.facility());
  if (calendar == nullptr) {
    if (Parks(e.facility())) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "event ", e.event_id(), " is for facility '", e.facility(), "', which has no calendar"));
  }
  const absl::Time at = OccurredTime(e);
  auto undecodable = [&]() {
    return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": payload does not decode"));
  };
  if (is_state) {
    scheduling::v1::UnitStateChanged& change = scratch_->change;
    if (!change.ParseFromString(e.payload())) return undecodable();
    auto state = ToUnitState(change.state());
    if (!state) {
      return absl::DataLossError(absl::StrCat("event ", e.event_id(), ": unknown unit state"));
    }
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), change.work_unit(), calendar));
    Pending::UnitSink sink(pending, u);
    u->timeline->ChangeState(at, *state, change.reason_code(), sink);
    pending.changes.push_back(TimelineChange{e.facility(), change.work_unit(), at,
                                             static_cast<int>(*state), change.reason_code()});
  } else if (is_order) {
    const bool started = e.event_type() == kOrderStarted;
    const std::string* unit = nullptr;
    if (started) {
      if (!scratch_->started.ParseFromString(e.payload())) return undecodable();
      unit = &scratch_->started.work_unit();
    } else {
      if (!scratch_->ended.ParseFromString(e.payload())) return undecodable();
      unit = &scratch_->ended.work_unit();
    }
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), *unit, calendar));
    Pending::UnitSink sink(pending, u);
    u->timeline->OrderChange(at, started, sink);
    pending.changes.push_back(TimelineChange{e.facility(), *unit, at,
                                             started ? kOrderStartCode : kOrderEndCode, ""});
  } else {
    scheduling::v1::ProductionCounted& count = scratch_->count;
    if (!count.ParseFromString(e.payload())) return undecodable();
    TAKT_ASSIGN_OR_RETURN(Unit * u, FindUnit(e.facility(), count.work_unit(), calendar));
    Pending::UnitSink sink(pending, u);
    u->timeline->Count(at, count.good(), count.scrap(), count.rework(),
                       absl::Microseconds(count.planned_run_time_per_item_us()), sink);
  }
  ++stats_.events_applied;
  return absl::OkStatus();
}

absl::Status Projection::RebuildFromLog() {
  TAKT_RETURN_IF_ERROR(store_->Clear());
  Reset();
  // The rebuild folds everything with today's calendars: mark them all.
  calendar_marks_.clear();
  if (options_.calendar_changes) {
    for (const auto& [f, c] : options_.calendar_changes()) {
      TAKT_RETURN_IF_ERROR(store_->SaveCalendarMark(f, c));
      calendar_marks_[f] = c;
    }
  }
  return Start();
}

absl::StatusOr<bool> Projection::CheckCalendarChanges() {
  if (!options_.calendar_changes) return false;
  const std::vector<std::pair<std::string, absl::Time>> changes = options_.calendar_changes();
  for (const auto& [facility, change] : changes) {
    auto known = calendar_marks_.find(facility);
    if (known != calendar_marks_.end() && known->second == change) continue;
    TAKT_ASSIGN_OR_RETURN(std::optional<absl::Time> stored, store_->LoadCalendarMark(facility));
    if (stored && *stored == change) {
      calendar_marks_[facility] = change;
      continue;
    }
    // New to the store: does any stored order count on a day at or after it?
    TAKT_ASSIGN_OR_RETURN(auto orders, store_->LoadOrders(facility));
    bool affected = false;
    for (const auto& [key, bytes] : orders) {
      auto facts = OrderFacts::Decode(bytes);
      if (!facts) return absl::DataLossError("a work order row is corrupt; rebuild the rollups");
      for (const std::optional<absl::Time>& t : {facts->planned_end, facts->completed}) {
        if (t && *t >= change) affected = true;
      }
    }
    if (affected) {
      TAKT_RETURN_IF_ERROR(RebuildFromLog());
      return true;
    }
    TAKT_RETURN_IF_ERROR(store_->SaveCalendarMark(facility, change));
    calendar_marks_[facility] = change;
  }
  return false;
}

bool Projection::Parks(const std::string& facility) {
  if (!options_.zone_missing) return false;
  if (!parked_.count(facility) && !to_park_.count(facility) && !options_.zone_missing(facility)) return false;
  if (!parked_.count(facility) && to_park_.insert(facility).second) {
    log::Warn(absl::StrCat("rollups: parking facility '", facility,
                           "': its calendar cannot be built on this machine (time zone missing from tzdata); its "
                           "events are skipped until it can, then the rollups are rebuilt; other facilities go on"));
  }
  ++stats_.events_parked;
  return true;
}

absl::StatusOr<bool> Projection::CheckParked() {
  for (const std::string& facility : parked_) {
    if (calendars_(facility) == nullptr) continue;
    log::Info(absl::StrCat("rollups: facility '", facility,
                           "' has its calendar again: rebuilding the production rollups from the log"));
    TAKT_RETURN_IF_ERROR(RebuildFromLog());
    return true;
  }
  return false;
}

absl::StatusOr<size_t> Projection::Step(absl::Duration timeout) {
  if (!prefetcher_) return absl::FailedPreconditionError("projection not started");
  TAKT_ASSIGN_OR_RETURN(bool rebuilt, CheckCalendarChanges());
  if (rebuilt) ++stats_.rebuilds;
  TAKT_ASSIGN_OR_RETURN(rebuilt, CheckParked());
  if (rebuilt) ++stats_.rebuilds;
  // The prefetcher answers within its poll wait (100 ms) when the log is
  // idle, so waiting for its answer also serves a zero timeout.
  const absl::Time deadline = absl::Now() + timeout;
  std::optional<Prefetcher::Batch> batch;
  for (;;) {
    batch = prefetcher_->Next(std::max(deadline - absl::Now(), absl::Seconds(10)));
    if (!batch) return 0;
    const bool idle = batch->events.ok() && batch->events->empty() &&
                      batch->cursor_after == stored_cursor_;
    if (!idle || absl::Now() >= deadline) break;
  }
  if (!batch->events.ok()) {
    Reset();
    return batch->events.status();
  }
  const std::vector<eventlog::LoggedEvent>& events = *batch->events;
  const eventlog::Cursor& cursor_after = batch->cursor_after;
  if (events.empty()) {
    // The cursor can move without events (Kafka checkpoint records and
    // transaction markers): store it so that the lag reaches zero.
    if (cursor_after != stored_cursor_) {
      absl::Status s = store_->Apply({}, {}, {}, options_.context, cursor_after, options_.sync);
      if (!s.ok()) {
        Reset();
        return s;
      }
      stored_cursor_ = cursor_after;
    }
    return 0;
  }
  // Calendars are asked for once per batch: a change of the model reaches
  // the next batch.
  calendar_cache_.clear();
  to_park_.clear();
  Pending pending;
  pending.changes.reserve(events.size());
  for (const auto& logged : events) {
    absl::Status s = ApplyEvent(logged.envelope, pending);
    if (!s.ok()) {
      Reset();
      const eventlog::Envelope& e = logged.envelope;
      return absl::Status(s.code(), absl::StrCat(e.context(), "/", e.facility(), " sequence ",
                                                 e.sequence(), ": ", s.message()));
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
  std::vector<std::pair<std::string, std::string>> orders;
  for (const auto& [key, facts] : pending.orders) orders.emplace_back(key, facts.Encode());
  // Parked before the batch that skipped their events is stored.
  for (const std::string& facility : to_park_) {
    if (absl::Status parked = store_->Park(options_.context, facility); !parked.ok()) {
      Reset();
      return parked;
    }
    parked_.insert(facility);
  }
  absl::Status s = store_->Apply(deltas, pending.changes, reasons, orders, options_.context,
                                 cursor_after, options_.sync);
  if (!s.ok()) {
    Reset();
    return s;
  }
  for (auto& [key, facts] : pending.orders) orders_[key] = facts;
  stored_cursor_ = cursor_after;
  const size_t applied = events.size();
  prefetcher_->Recycle(std::move(*batch->events));
  return applied;
}

absl::StatusOr<uint64_t> Projection::CatchUp() {
  uint64_t total = 0;
  for (;;) {
    // The prefetcher reports an empty batch once the log has nothing more.
    TAKT_ASSIGN_OR_RETURN(size_t n, Step(absl::ZeroDuration()));
    if (n == 0) return total;
    total += n;
  }
}

}  // namespace takt::scheduling
