#include "services/audit/explain.h"

#include "libs/kpi/family.h"
#include "services/rollups/family_projection.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/verifier.h"
#include "libs/kpi/registry.h"
#include "libs/kpi/unit_timeline.h"  // kMaxStateSpan: the rule, not the code
#include "services/rollups/query.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/planning.pb.h"

namespace takt::audit {
namespace {

using kpi::Element;
namespace sv1 = ::takt::scheduling::v1;

struct StateAt {
  sv1::UnitState state = sv1::UNIT_STATE_UNSPECIFIED;
  std::string reason;
};

struct UnitFacts {
  std::map<absl::Time, StateAt> changes;  // later events at the same instant win
  std::map<absl::Time, bool> orders;      // true: an order started
};

struct OrderFacts {
  std::optional<absl::Time> due, planned_start, planned_end, completed;
  bool cancelled = false;
};

// Microseconds of [a, b) inside [from, to), instants taken to the
// microsecond below (the elements' definition).
int64_t Overlap(absl::Time a, absl::Time b, absl::Time from, absl::Time to) {
  const absl::Time lo = std::max(a, from), hi = std::min(b, to);
  return hi > lo ? absl::ToUnixMicros(hi) - absl::ToUnixMicros(lo) : 0;
}

bool In(absl::Time t, absl::Time from, absl::Time to) { return t >= from && t < to; }

template <typename M>
bool Parse(const eventlog::v1::Envelope& e, M* m) {
  return e.event_type() == M::descriptor()->full_name() && m->ParseFromString(e.payload());
}

// Reads a stream from its start through `upto` (inclusive), checking its
// chain: an event edited in storage stops the explanation (DATA_LOSS with
// stream and sequence) instead of entering a recomputed KPI.
absl::Status ReadUpTo(eventlog::EventLog& log, const eventlog::StreamId& stream, uint64_t upto,
                      const std::function<void(const eventlog::v1::Envelope&)>& fn) {
  eventlog::StreamChains chains;
  for (uint64_t from = 1; from <= upto;) {
    absl::Status bad;
    const uint64_t before = from;
    TAKT_RETURN_IF_ERROR(log.ReadRecords(stream, from, std::min<uint64_t>(8192, upto - from + 1),
                                         [&](uint64_t seq, std::string_view record) {
      if (!bad.ok()) return;
      bad = chains.Check(stream, seq, record);
      if (!bad.ok()) return;
      auto envelope = eventlog::DecodeRecord(record);
      if (!envelope.ok()) {
        bad = absl::DataLossError(absl::StrCat(stream.context, "/", stream.facility, " sequence ",
                                               seq, ": the event does not decode"));
        return;
      }
      fn(*envelope);
      from = seq + 1;
    }));
    TAKT_RETURN_IF_ERROR(bad);
    if (from == before) {
      return absl::DataLossError(absl::StrCat("stream ", stream.context, "/", stream.facility,
                                              " ends before sequence ", upto));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Recomputed> RecomputeElements(eventlog::EventLog& log, const std::string& facility,
                                             const std::set<std::string>* units, absl::Time from,
                                             absl::Time to, uint64_t upto_shop_floor,
                                             uint64_t upto_plan) {
  Recomputed out;
  auto skip = [&](const std::string& u) { return units != nullptr && !units->count(u); };
  std::map<std::string, UnitFacts> timelines;  // by unit
  kpi::ElementSums& s = out.sums;
  TAKT_RETURN_IF_ERROR(ReadUpTo(log, {"scheduling", facility}, upto_shop_floor,
                                [&](const eventlog::v1::Envelope& e) {
    ++out.events_read;
    const absl::Time at = ToTime(e.occurred_time());
    sv1::UnitStateChanged change;
    sv1::ProductionCounted count;
    sv1::OrderStarted started;
    sv1::OrderEnded ended;
    if (Parse(e, &change)) {
      if (skip(change.work_unit())) return;
      timelines[change.work_unit()].changes[at] = StateAt{change.state(), change.reason_code()};
    } else if (Parse(e, &count)) {
      if (skip(count.work_unit())) return;
      if (!In(at, from, to)) return;
      // Checked like the projection's sums: an overflow is kOverflowed.
      const int64_t pri = count.planned_run_time_per_item_us();
      const int64_t pq = kpi::AddChecked(kpi::AddChecked(count.good(), count.scrap()), count.rework());
      s[Element::kPq] = kpi::AddChecked(s[Element::kPq], pq);
      s[Element::kGq] = kpi::AddChecked(s[Element::kGq], count.good());
      s[Element::kSq] = kpi::AddChecked(s[Element::kSq], count.scrap());
      s[Element::kRq] = kpi::AddChecked(s[Element::kRq], count.rework());
      s[Element::kPriPq] = kpi::AddChecked(s[Element::kPriPq], kpi::MulChecked(pq, pri));
      s[Element::kPriGq] = kpi::AddChecked(s[Element::kPriGq], kpi::MulChecked(count.good(), pri));
    } else if (Parse(e, &started)) {
      if (skip(started.work_unit())) return;
      timelines[started.work_unit()].orders[at] = true;
    } else if (Parse(e, &ended)) {
      if (skip(ended.work_unit())) return;
      timelines[ended.work_unit()].orders[at] = false;
    } else {
      return;
    }
    ++out.events_used;
  }));
  for (const auto& [id, u] : timelines) {
    for (auto it = u.changes.begin(); it != u.changes.end(); ++it) {
      auto next = std::next(it);
      if (next == u.changes.end()) break;  // still open
      const int64_t us =
          Overlap(it->first, std::min(next->first, it->first + kpi::kMaxStateSpan), from, to);
      switch (it->second.state) {
        case sv1::UNIT_STATE_RUNNING:
        case sv1::UNIT_STATE_SETUP:
          s[it->second.state == sv1::UNIT_STATE_RUNNING ? Element::kApt : Element::kAust] += us;
          s[Element::kPbt] += us;
          s[Element::kTbf] += us;
          s[Element::kTtf] += us;
          break;
        case sv1::UNIT_STATE_DELAYED:
          s[Element::kAdet] += us;
          s[Element::kPbt] += us;
          break;
        case sv1::UNIT_STATE_DOWN:
          s[Element::kAdet] += us;
          s[Element::kPbt] += us;
          s[Element::kTtr] += us;
          break;
        case sv1::UNIT_STATE_IDLE:
          s[Element::kAdot] += us;
          s[Element::kPbt] += us;
          break;
        case sv1::UNIT_STATE_PLANNED_DOWNTIME:
          s[Element::kPdt] += us;
          break;
        default:
          break;
      }
      if (next->second.state == sv1::UNIT_STATE_DOWN && it->second.state != sv1::UNIT_STATE_DOWN &&
          In(next->first, from, to)) {
        s[Element::kFe] += 1;
      }
    }
    for (auto it = u.orders.begin(); it != u.orders.end(); ++it) {
      auto next = std::next(it);
      if (next == u.orders.end()) break;  // still running
      if (it->second) {
        s[Element::kAoet] +=
            Overlap(it->first, std::min(next->first, it->first + kpi::kMaxStateSpan), from, to);
      }
    }
  }
  if (upto_plan == 0) return out;
  // Work orders of the facility, from its planning stream.
  std::map<std::string, OrderFacts> orders;
  TAKT_RETURN_IF_ERROR(ReadUpTo(log, {"scheduling", PlanStream(facility)}, upto_plan,
                                [&](const eventlog::v1::Envelope& e) {
    ++out.events_read;
    sv1::WorkOrderCreated created;
    sv1::ScheduleCommitted committed;
    sv1::WorkOrderCompleted completed;
    sv1::WorkOrderCancelled cancelled;
    sv1::ProductionCountCorrected correction;
    if (Parse(e, &correction)) {
      // Counts as corrected: the difference, where the count occurred.
      if (skip(correction.work_unit())) return;
      if (!In(ToTime(correction.counted_time()), from, to)) return;
      const auto& p = correction.previous();
      const auto& c = correction.corrected();
      const int64_t good = c.good() - p.good();
      const int64_t pq = good + (c.scrap() - p.scrap()) + (c.rework() - p.rework());
      s[Element::kPq] += pq;
      s[Element::kGq] += good;
      s[Element::kSq] += c.scrap() - p.scrap();
      s[Element::kRq] += c.rework() - p.rework();
      s[Element::kPriPq] += pq * correction.planned_run_time_per_item_us();
      s[Element::kPriGq] += good * correction.planned_run_time_per_item_us();
    } else if (Parse(e, &created)) {
      if (created.has_due_time()) orders[created.work_order()].due = ToTime(created.due_time());
    } else if (Parse(e, &committed)) {
      for (const auto& o : committed.schedule().orders()) {
        orders[o.work_order()].planned_start = ToTime(o.planned_start());
        orders[o.work_order()].planned_end = ToTime(o.planned_end());
      }
    } else if (Parse(e, &completed)) {
      orders[completed.work_order()].completed = ToTime(completed.completed_time());
    } else if (Parse(e, &cancelled)) {
      orders[cancelled.work_order()].cancelled = true;
    } else {
      return;
    }
    ++out.events_used;
  }));
  for (const auto& [id, o] : orders) {
    if (o.cancelled || units != nullptr) continue;  // work orders count for the facility
    if (o.planned_end && In(*o.planned_end, from, to)) {
      s[Element::kOrdersScheduled] += 1;
      const bool in_window = o.completed && *o.completed <= *o.planned_end &&
                             (!o.planned_start || *o.completed >= *o.planned_start);
      if (in_window) s[Element::kOrdersInWindow] += 1;
    }
    if (o.completed && In(*o.completed, from, to)) {
      s[Element::kOrdersCompleted] += 1;
      if (o.due) {
        s[Element::kOrdersWithDue] += 1;
        s[*o.completed <= *o.due ? Element::kOrdersOnTime : Element::kOrdersLate] += 1;
        s[Element::kLateness] += absl::ToInt64Microseconds(*o.completed - *o.due);
      }
    }
  }
  return out;
}

namespace {

// What a scope covers: a facility, production days, and which units (none
// listed: the whole facility, with its work orders).
struct ExplainPiece {
  std::string facility;
  absl::CivilDay from, to;
  std::optional<std::set<std::string>> units;
};

// A family's KPI recomputed from its context's raw events: each event read
// with its chain checked and run through the context's fold on its own,
// outside the projection's store, merges, cursor and batches.
absl::StatusOr<v1::ExplainResponse> ExplainFamily(
    eventlog::EventLog& log, const model::EnterpriseModel& model,
    const kpi::FamilyRegistration& family, const kpi::KpiDef& def,
    const std::vector<ExplainPiece>& pieces, const std::function<uint64_t(const std::string&)>& last_of,
    const rollup::QueryResult& projected) {
  v1::ExplainResponse out;
  const size_t width = family.family.elements.size();
  kpi::Values total(width, 0);
  uint64_t read = 0, used = 0;
  std::unique_ptr<kpi::Fold> fold = family.fold();
  const rollup::CalendarLookup calendars = [&](const std::string& f) { return model.Calendar(f); };
  for (const ExplainPiece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    const absl::Time from = cal->Day(p.from).start, to = cal->Day(p.to).end;
    const uint64_t upto = last_of(p.facility);
    absl::Status folded;
    TAKT_RETURN_IF_ERROR(ReadUpTo(log, {family.context, p.facility}, upto,
                                  [&](const eventlog::v1::Envelope& e) {
      if (!folded.ok()) return;
      ++read;
      std::vector<rollup::FamilyHourDelta> deltas;
      folded = rollup::FoldIntoHours(family, *fold, {eventlog::LoggedEvent{e, {}}}, calendars, deltas);
      bool counted = false;
      for (const rollup::FamilyHourDelta& d : deltas) {
        if (d.hour < from || d.hour >= to) continue;
        if (p.units && p.units->count(d.unit) == 0) continue;
        kpi::AddInto(total, d.values);
        counted = true;
      }
      if (counted) ++used;
    }));
    TAKT_RETURN_IF_ERROR(folded);
    (*out.mutable_positions())[absl::StrCat(family.context, "/", p.facility)] = upto;
  }
  out.set_kpi(def.id);
  out.set_formula(def.formula);
  const auto value = kpi::Evaluate(def, total);
  out.set_has_value(value.has_value());
  out.set_recomputed_value(value.value_or(0));
  const auto& pv = projected.total.kpis.front().value;
  out.set_projection_has_value(pv.has_value());
  out.set_projection_value(pv.value_or(0));
  auto it = projected.total.family_sums.find(family.family.name);
  const kpi::Values none(width, 0);
  const kpi::Values& projected_values = it == projected.total.family_sums.end() ? none : it->second;
  bool equal = true;
  for (size_t i = 0; i < width; ++i) {
    auto* el = out.add_elements();
    el->set_name(absl::StrCat(family.family.name, ".", family.family.elements[i].name));
    el->set_recomputed(total[i]);
    el->set_projection(i < projected_values.size() ? projected_values[i] : 0);
    equal = equal && el->recomputed() == el->projection();
  }
  out.set_equal(equal);
  out.set_events_read(read);
  out.set_events_used(used);
  return out;
}

}  // namespace

absl::StatusOr<v1::ExplainResponse> Explain(eventlog::EventLog& log, bool embedded_log,
                                            const model::EnterpriseModel& model,
                                            const rollup::RollupStore& store,
                                            const v1::ExplainRequest& request) {
  if (!embedded_log) {
    return absl::UnimplementedError(
        "explain needs the embedded log: on Kafka the projection's positions are partition "
        "offsets, not stream sequences");
  }
  TAKT_ASSIGN_OR_RETURN(rollup::Scope scope, rollup::ParseScope(request.scope()));
  const kpi::KpiDef* def = kpi::FindKpi(request.kpi());
  if (def == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown KPI '", request.kpi(), "'"));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay from, model::ParseDay(request.from()));
  TAKT_ASSIGN_OR_RETURN(absl::CivilDay to, model::ParseDay(request.to()));
  rollup::QueryRequest q;
  q.scope = scope;
  q.kpis = {def->id};
  q.from = from;
  q.to = to;
  // The projection's answer and the positions it reflects, read consistently
  // (the cursor is written in the same batch as the sums). RunQuery also
  // validates the scope and period.
  // A family's KPI is explained from its context's events and its own
  // position; production's from the scheduling streams.
  const kpi::FamilyRegistration* family =
      def->family == kpi::kProductionFamily ? nullptr : kpi::FindFamily(def->family);
  if (def->family != kpi::kProductionFamily && family == nullptr) {
    return absl::InternalError(absl::StrCat("kpi '", def->id, "': family '", def->family, "' is not registered"));
  }
  const std::string cursor_key =
      family == nullptr ? std::string("scheduling") : rollup::FamilyProjection::CursorKey(*family);
  rollup::Cursor cursor;
  absl::StatusOr<rollup::QueryResult> projected;
  for (int attempt = 0;; ++attempt) {
    TAKT_ASSIGN_OR_RETURN(rollup::Cursor before, store.LoadCursor(cursor_key));
    projected = rollup::RunQuery(store, model, q);
    TAKT_ASSIGN_OR_RETURN(cursor, store.LoadCursor(cursor_key));
    if (cursor == before) break;
    if (attempt == 50) return absl::UnavailableError("the projection kept moving; try again");
  }
  if (!projected.ok()) return projected.status();

  // What the scope covers: facility, production days, and which units
  // (none listed: the whole facility with its work orders).
  // What the scope covers (the rollups' resolution), with a facility's
  // adjacent stretches joined: each facility's streams are read once.
  TAKT_ASSIGN_OR_RETURN(std::vector<rollup::ScopePart> parts,
                        rollup::ResolveScope(model, scope, from, to));
  std::vector<ExplainPiece> pieces;
  for (const rollup::ScopePart& part : parts) {
    std::optional<std::set<std::string>> units;
    if (part.units) units.emplace(part.units->begin(), part.units->end());
    if (!pieces.empty() && pieces.back().facility == part.facility && pieces.back().units == units &&
        pieces.back().to + 1 == part.from) {
      pieces.back().to = part.to;
      continue;
    }
    pieces.push_back(ExplainPiece{part.facility, part.from, part.to, std::move(units)});
  }
  auto last_of = [&](const std::string& stream) -> uint64_t {
    auto it = cursor.find(stream);
    return it == cursor.end() || it->second == 0 ? 0 : it->second - 1;
  };
  if (family != nullptr) return ExplainFamily(log, model, *family, *def, pieces, last_of, *projected);
  v1::ExplainResponse out;
  Recomputed total;
  for (const ExplainPiece& p : pieces) {
    TAKT_ASSIGN_OR_RETURN(const kpi::FacilityCalendar* cal, model.CalendarOrError(p.facility));
    const uint64_t shop_floor = last_of(p.facility);
    const uint64_t plan = last_of(PlanStream(p.facility));
    TAKT_ASSIGN_OR_RETURN(Recomputed r, RecomputeElements(log, p.facility, p.units ? &*p.units : nullptr,
                                                          cal->Day(p.from).start, cal->Day(p.to).end,
                                                          shop_floor, plan));
    total.sums += r.sums;
    total.events_read += r.events_read;
    total.events_used += r.events_used;
    (*out.mutable_positions())[absl::StrCat("scheduling/", p.facility)] = shop_floor;
    (*out.mutable_positions())[absl::StrCat("scheduling/", PlanStream(p.facility))] = plan;
  }
  out.set_kpi(def->id);
  out.set_formula(def->formula);
  const auto value = kpi::Evaluate(*def, total.sums);
  out.set_has_value(value.has_value());
  out.set_recomputed_value(value.value_or(0));
  const auto& pv = projected->total.kpis.front().value;
  out.set_projection_has_value(pv.has_value());
  out.set_projection_value(pv.value_or(0));
  bool equal = true;
  for (int i = 0; i < kpi::kElementCount; ++i) {
    auto* el = out.add_elements();
    el->set_name(std::string(kpi::ElementName(static_cast<Element>(i))));
    el->set_recomputed(total.sums.v[i]);
    el->set_projection(projected->total.sums.v[i]);
    equal = equal && total.sums.v[i] == projected->total.sums.v[i];
  }
  out.set_equal(equal);
  out.set_events_read(total.events_read);
  out.set_events_used(total.events_used);
  return out;
}

}  // namespace takt::audit
