#include "services/scheduling/ingest.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/common/errors.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/limits.h"

namespace takt::scheduling {

namespace {

// Every id an observation carries, by the one id grammar (ids.h), before
// any of them is looked up, stored or echoed in a rejection.
absl::Status IdsOf(const v1::Observation& o) {
  std::vector<std::pair<const char*, const std::string*>> ids = {{"source_id", &o.source_id()}};
  if (o.has_state_change()) {
    ids.push_back({"work_unit", &o.state_change().work_unit()});
    if (!o.state_change().reason_code().empty()) {
      ids.push_back({"reason_code", &o.state_change().reason_code()});
    }
  }
  if (o.has_count()) {
    ids.push_back({"work_unit", &o.count().work_unit()});
    if (!o.count().product().empty()) ids.push_back({"product", &o.count().product()});
  }
  if (o.has_order_started()) {
    ids.push_back({"work_unit", &o.order_started().work_unit()});
    ids.push_back({"order_id", &o.order_started().order_id()});
  }
  if (o.has_order_ended()) {
    ids.push_back({"work_unit", &o.order_ended().work_unit()});
    ids.push_back({"order_id", &o.order_ended().order_id()});
  }
  for (const auto& [field, id] : ids) {
    if (absl::Status s = ValidateId(field, *id); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckBatchSize(const v1::ObservationBatch& batch) {
  if (batch.observations_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch ", batch.batch_id(), " has no observations"));
  }
  if (batch.observations_size() > kMaxObservationsPerBatch) {
    return WithField(WithReason(absl::InvalidArgumentError(absl::StrCat(
                                    "batch ", batch.batch_id(), " has ", batch.observations_size(),
                                    " observations; at most ", kMaxObservationsPerBatch, " per batch (split it)")),
                                "BATCH_TOO_LARGE"),
                     "observations");
  }
  return absl::OkStatus();
}

void BoundRejections(v1::IngestAck& ack) {
  const int extra = ack.rejected_size() - kMaxListedRejections;
  if (extra <= 0) return;
  ack.mutable_rejected()->DeleteSubrange(kMaxListedRejections, extra);
  ack.set_rejected_not_listed(ack.rejected_not_listed() + static_cast<uint32_t>(extra));
}

v1::IngestAck RejectAll(const v1::ObservationBatch& batch, const absl::Status& why) {
  v1::IngestAck rejected;
  rejected.set_batch_id(batch.batch_id());
  for (int i = 0; i < batch.observations_size(); ++i) {
    auto* r = rejected.add_rejected();
    r->set_index(static_cast<uint32_t>(i));
    if (batch.observations(i).source_id().size() <= kMaxIdLength) {
      r->set_source_id(batch.observations(i).source_id());
    }
    r->set_source_sequence(batch.observations(i).source_sequence());
    r->set_code(static_cast<int>(why.code()));
    r->set_reason(std::string(why.message()));
  }
  BoundRejections(rejected);
  return rejected;
}

Horizon Horizons::For(eventlog::EventLog& log, const std::string& facility,
                      const model::EnterpriseModel& model) {
  Horizon h{policy_.earliest,
            absl::StrCat("this server accepts nothing before ",
                         absl::FormatTime("%Y-%m-%d", policy_.earliest, absl::UTCTimeZone()),
                         " (--earliest-observation)")};
  if (const model::FacilityInfo* info = model.Facility(facility);
      info != nullptr && !info->definition.commissioned_on().empty() && info->calendar) {
    if (auto day = model::ParseDay(info->definition.commissioned_on()); day.ok()) {
      const absl::Time start = info->calendar->Day(*day).start;
      if (start > h.at) {
        h = {start, absl::StrCat("facility '", facility, "' was commissioned on ",
                                 info->definition.commissioned_on())};
      }
    }
  }
  if (policy_.max_lateness <= absl::ZeroDuration()) return h;
  absl::Time newest = absl::InfinitePast();
  {
    absl::MutexLock lock(&mu_);
    auto it = newest_.find(facility);
    if (it == newest_.end()) {
      // After a restart: the last event of the stream (a lower bound of
      // the newest observation, so the horizon is never too strict).
      absl::Time seed = absl::InfinitePast();
      auto heads = log.Heads(kSchedulingContext);
      if (heads.ok()) {
        for (const eventlog::StreamHead& head : *heads) {
          if (head.stream.facility != facility || head.sequence == 0) continue;
          auto last = log.ReadStream(head.stream, head.sequence, 1);
          if (last.ok() && !last->empty()) seed = ToTime(last->front().envelope.occurred_time());
        }
      }
      it = newest_.emplace(facility, seed).first;
    }
    newest = it->second;
  }
  if (newest != absl::InfinitePast() && newest - policy_.max_lateness > h.at) {
    h = {newest - policy_.max_lateness,
         absl::StrCat("more than ", absl::FormatDuration(policy_.max_lateness),
                      " behind the newest observation of facility '", facility, "' (",
                      absl::FormatTime(newest), "; --max-lateness)")};
  }
  return h;
}

void Horizons::Accepted(const std::string& facility, absl::Time newest) {
  absl::MutexLock lock(&mu_);
  absl::Time& slot = newest_.try_emplace(facility, absl::InfinitePast()).first->second;
  slot = std::max(slot, newest);
}

bool KnowsAllNames(const v1::ObservationBatch& batch, const model::EnterpriseModel& model) {
  if (model.Facility(batch.facility()) == nullptr) return false;
  for (const v1::Observation& o : batch.observations()) {
    const std::string* unit = nullptr;
    if (o.has_state_change()) unit = &o.state_change().work_unit();
    if (o.has_count()) {
      unit = &o.count().work_unit();
      if (o.count().planned_run_time_per_item_us() == 0 && !model.PlannedRunTime(o.count().product())) {
        return false;
      }
    }
    if (o.has_order_started()) unit = &o.order_started().work_unit();
    if (o.has_order_ended()) unit = &o.order_ended().work_unit();
    if (unit != nullptr && !model.HasWorkUnit(batch.facility(), *unit)) return false;
  }
  return true;
}

absl::StatusOr<Screened> Screen(const v1::ObservationBatch& batch,
                                const model::EnterpriseModel& model, absl::Time now,
                                const std::string& actor, const Horizon& horizon) {
  if (absl::Status s = ValidateFacilityId(batch.facility()); !s.ok()) return s;
  if (model.Facility(batch.facility()) == nullptr) {
    return absl::NotFoundError(absl::StrCat("facility '", batch.facility(), "' is not defined"));
  }
  Screened out;
  out.append.context = kSchedulingContext;
  out.append.facility = batch.facility();
  for (int i = 0; i < batch.observations_size(); ++i) {
    const v1::Observation& o = batch.observations(i);
    auto reject = [&](absl::StatusCode code, std::string reason) {
      v1::Rejection r;
      r.set_index(static_cast<uint32_t>(i));
      // An id beyond the grammar's length is not echoed back.
      if (o.source_id().size() <= kMaxIdLength) r.set_source_id(o.source_id());
      r.set_source_sequence(o.source_sequence());
      r.set_code(static_cast<int>(code));
      r.set_reason(std::move(reason));
      out.rejected.push_back(std::move(r));
    };
    if (o.source_id().empty()) {
      reject(absl::StatusCode::kInvalidArgument, "source_id must be set (resends are matched by it)");
      continue;
    }
    if (absl::Status id = IdsOf(o); !id.ok()) {
      reject(absl::StatusCode::kInvalidArgument, std::string(id.message()));
      continue;
    }
    if (!o.has_source_time()) {
      reject(absl::StatusCode::kInvalidArgument, "source_time must be set");
      continue;
    }
    const absl::Time at = ToTime(o.source_time());
    if (at > now + kMaxFutureSkew) {
      reject(absl::StatusCode::kInvalidArgument,
             absl::StrCat("source_time ", absl::FormatTime(at), " is in the future"));
      continue;
    }
    if (at < horizon.at) {
      reject(absl::StatusCode::kOutOfRange,
             absl::StrCat("source_time ", absl::FormatTime(at), " is before the horizon ",
                          absl::FormatTime(horizon.at), ": ", horizon.why));
      continue;
    }
    eventlog::Envelope e;
    e.set_schema_version(1);
    e.set_actor(actor);
    e.set_source_id(o.source_id());
    e.set_source_sequence(o.source_sequence());
    *e.mutable_occurred_time() = o.source_time();
    if (o.has_state_change()) {
      const v1::UnitStateChanged& c = o.state_change();
      if (!model.HasWorkUnit(batch.facility(), c.work_unit())) {
        reject(absl::StatusCode::kNotFound,
               absl::StrCat("work unit '", c.work_unit(), "' is not defined in facility '",
                            batch.facility(), "'"));
        continue;
      }
      if (c.state() == v1::UNIT_STATE_UNSPECIFIED || !v1::UnitState_IsValid(c.state())) {
        reject(absl::StatusCode::kInvalidArgument, "state must be one of RUNNING, SETUP, "
                                                   "DELAYED, DOWN, IDLE, PLANNED_DOWNTIME");
        continue;
      }
      e.set_event_type("takt.scheduling.v1.UnitStateChanged");
      e.set_payload(c.SerializeAsString());
    } else if (o.has_count()) {
      v1::ProductionCounted c = o.count();
      if (!model.HasWorkUnit(batch.facility(), c.work_unit())) {
        reject(absl::StatusCode::kNotFound,
               absl::StrCat("work unit '", c.work_unit(), "' is not defined in facility '",
                            batch.facility(), "'"));
        continue;
      }
      if (absl::Status q = kpi::CheckQuantities(c.good(), c.scrap(), c.rework(), false); !q.ok()) {
        reject(absl::StatusCode::kInvalidArgument, std::string(q.message()));
        continue;
      }
      if (c.planned_run_time_per_item_us() == 0) {
        auto pri = model.PlannedRunTime(c.product());
        if (!pri) {
          reject(absl::StatusCode::kNotFound,
                 absl::StrCat("product '", c.product(), "' is not defined"));
          continue;
        }
        c.set_planned_run_time_per_item_us(absl::ToInt64Microseconds(*pri));
      }
      if (absl::Status p = kpi::CheckPlannedRunTime(c.planned_run_time_per_item_us(),
                                                    "planned_run_time_per_item_us");
          !p.ok()) {
        reject(absl::StatusCode::kInvalidArgument, std::string(p.message()));
        continue;
      }
      if (absl::Status t = kpi::CheckPlannedTime(c.good(), c.scrap(), c.rework(),
                                                 c.planned_run_time_per_item_us());
          !t.ok()) {
        reject(absl::StatusCode::kInvalidArgument, std::string(t.message()));
        continue;
      }
      e.set_event_type("takt.scheduling.v1.ProductionCounted");
      e.set_payload(c.SerializeAsString());
    } else if (o.has_order_started() || o.has_order_ended()) {
      const std::string& unit =
          o.has_order_started() ? o.order_started().work_unit() : o.order_ended().work_unit();
      const std::string& order =
          o.has_order_started() ? o.order_started().order_id() : o.order_ended().order_id();
      if (!model.HasWorkUnit(batch.facility(), unit)) {
        reject(absl::StatusCode::kNotFound,
               absl::StrCat("work unit '", unit, "' is not defined in facility '",
                            batch.facility(), "'"));
        continue;
      }
      if (order.empty()) {
        reject(absl::StatusCode::kInvalidArgument, "order_id must be set");
        continue;
      }
      if (o.has_order_started()) {
        e.set_event_type("takt.scheduling.v1.OrderStarted");
        e.set_payload(o.order_started().SerializeAsString());
      } else {
        e.set_event_type("takt.scheduling.v1.OrderEnded");
        e.set_payload(o.order_ended().SerializeAsString());
      }
    } else {
      reject(absl::StatusCode::kInvalidArgument,
             "observation has no kind (state_change, count, order_started or order_ended)");
      continue;
    }
    out.event_index.push_back(static_cast<uint32_t>(i));
    out.append.events.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<IngestInProgress> StartIngest(eventlog::EventLog& log,
                                             const model::EnterpriseModel& model,
                                             const v1::ObservationBatch& batch, absl::Time now,
                                             const std::string& actor, Horizons* horizons) {
  IngestInProgress started;
  started.now = now;
  if (horizons != nullptr && model.Facility(batch.facility()) != nullptr) {
    started.horizon = horizons->For(log, batch.facility(), model);
  }
  TAKT_RETURN_IF_ERROR(CheckBatchSize(batch));
  auto screened = Screen(batch, model, now, actor, started.horizon);
  if (!screened.ok()) return screened.status();
  started.ack.set_batch_id(batch.batch_id());
  for (auto& r : screened->rejected) *started.ack.add_rejected() = std::move(r);
  if (screened->append.events.empty()) return started;
  // Only acknowledged observations move the horizon (FinishIngest).
  for (const auto& e : screened->append.events) {
    started.newest = std::max(started.newest, ToTime(e.occurred_time()));
  }
  // The envelopes move into the log: no copy on the common path. The rare
  // conflict path (IngestOneByOne) screens the batch again (screening is a
  // pure function of the batch, the model, now and the horizon).
  started.append = log.StartAppend(std::move(screened->append));
  return started;
}

absl::StatusOr<v1::IngestAck> FinishIngest(IngestInProgress& started, const std::string& facility,
                                           Horizons* horizons) {
  v1::IngestAck& ack = started.ack;
  if (started.append == nullptr) {
    BoundRejections(ack);
    return std::move(ack);
  }
  auto appended = started.append->Wait();
  started.append.reset();
  if (!appended.ok()) return appended.status();
  for (const auto& e : appended->events) {
    if (e.duplicate) {
      ack.set_duplicates(ack.duplicates() + 1);
    } else {
      ack.set_accepted(ack.accepted() + 1);
    }
  }
  ack.set_head_sequence(appended->head_sequence);
  if (horizons != nullptr) horizons->Accepted(facility, started.newest);
  BoundRejections(ack);
  return std::move(ack);
}

absl::StatusOr<v1::IngestAck> IngestOneByOne(eventlog::EventLog& log,
                                             const model::EnterpriseModel& model,
                                             const v1::ObservationBatch& batch,
                                             const std::string& actor, IngestInProgress& started,
                                             Horizons* horizons) {
  v1::IngestAck& ack = started.ack;
  auto again = Screen(batch, model, started.now, actor, started.horizon);
  if (!again.ok()) return again.status();
  eventlog::AppendRequest& all = again->append;
  const std::vector<uint32_t>& index = again->event_index;
  for (size_t i = 0; i < all.events.size(); ++i) {
    eventlog::AppendRequest one;
    one.context = all.context;
    one.facility = all.facility;
    const absl::Time at = ToTime(all.events[i].occurred_time());
    one.events.push_back(std::move(all.events[i]));
    auto r = log.Append(std::move(one));
    if (r.ok()) {
      if (r->events[0].duplicate) {
        ack.set_duplicates(ack.duplicates() + 1);
      } else {
        ack.set_accepted(ack.accepted() + 1);
      }
      ack.set_head_sequence(r->head_sequence);
      if (horizons != nullptr) {
        horizons->Accepted(batch.facility(), at);
      }
    } else if (r.status().code() == absl::StatusCode::kAlreadyExists) {
      const v1::Observation& o = batch.observations(static_cast<int>(index[i]));
      v1::Rejection* rej = ack.add_rejected();
      rej->set_index(index[i]);
      rej->set_source_id(o.source_id());
      rej->set_source_sequence(o.source_sequence());
      rej->set_code(static_cast<int>(absl::StatusCode::kAlreadyExists));
      rej->set_reason("this source sequence was already recorded with different content");
    } else {
      return r.status();
    }
  }
  BoundRejections(ack);
  return std::move(ack);
}

absl::StatusOr<v1::IngestAck> IngestBatch(eventlog::EventLog& log,
                                          const model::EnterpriseModel& model,
                                          const v1::ObservationBatch& batch, absl::Time now,
                                          const std::string& actor, Horizons* horizons) {
  auto started = StartIngest(log, model, batch, now, actor, horizons);
  if (!started.ok()) return started.status();
  auto ack = FinishIngest(*started, batch.facility(), horizons);
  if (ack.status().code() != absl::StatusCode::kAlreadyExists) return ack;
  // Some source sequence was already recorded with other content.
  return IngestOneByOne(log, model, batch, actor, *started, horizons);
}

}  // namespace takt::scheduling
