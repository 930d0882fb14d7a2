#include "services/scheduling/planning.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/sha256.h"
#include "libs/kpi/limits.h"
#include "services/scheduling/solver/solver.h"
#include "takt/scheduling/v1/events.pb.h"

namespace takt::scheduling {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

template <typename M>
model::ModelEvent EventOf(const M& m) {
  return model::ModelEvent{std::string(M::descriptor()->full_name()), m.SerializeAsString()};
}

template <typename M>
bool Is(const model::ModelEvent& e) {
  return e.type == M::descriptor()->full_name();
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Seconds, rounded up, of a duration in microseconds.
sched::Time CeilSeconds(int64_t micros) {
  return (micros + kMicrosPerSecond - 1) / kMicrosPerSecond;
}

absl::Status Invalid(const std::string& what) { return absl::InvalidArgumentError(what); }

// The units some operation of the problem could run on.
std::set<std::string> OptionUnits(const PlanningProblem& pp) {
  std::set<std::string> out;
  for (const auto& op : pp.problem.ops) {
    for (const auto& option : op.options) out.insert(pp.unit_ids[option.unit]);
  }
  return out;
}

// Whether a crew gap closes one of `units`.
bool Closes(const CrewGap& gap, const std::set<std::string>& units) {
  for (const std::string& u : gap.work_units) {
    if (units.contains(u)) return true;
  }
  return false;
}

// Working windows [start, end) of a facility between two instants: its
// shifts merged where they touch, or all the time if it defines none.
std::vector<std::pair<absl::Time, absl::Time>> ShiftWindows(const kpi::FacilityCalendar* cal,
                                                            absl::Time from, absl::Time to) {
  std::vector<std::pair<absl::Time, absl::Time>> out;
  if (cal == nullptr || cal->spec().shifts.empty()) {
    out.push_back({from, to});
    return out;
  }
  std::vector<std::pair<absl::Time, absl::Time>> shifts;
  for (absl::CivilDay day = cal->ProductionDay(from) - 1; day <= cal->ProductionDay(to) + 1; ++day) {
    for (const auto& def : cal->SpecOn(day).shifts) {
      auto s = cal->Shift(day, def.name);
      if (!s.ok()) continue;
      const absl::Time a = std::max(from, s->interval.start);
      const absl::Time b = std::min(to, s->interval.end);
      if (a < b) shifts.push_back({a, b});
    }
  }
  std::sort(shifts.begin(), shifts.end());
  for (const auto& w : shifts) {
    if (!out.empty() && w.first <= out.back().second) {
      out.back().second = std::max(out.back().second, w.second);
    } else {
      out.push_back(w);
    }
  }
  return out;
}

// Removes [a, b) from sorted windows.
void Subtract(std::vector<std::pair<absl::Time, absl::Time>>* windows, absl::Time a, absl::Time b) {
  std::vector<std::pair<absl::Time, absl::Time>> out;
  for (const auto& w : *windows) {
    if (b <= w.first || a >= w.second) {
      out.push_back(w);
      continue;
    }
    if (w.first < a) out.push_back({w.first, a});
    if (b < w.second) out.push_back({b, w.second});
  }
  *windows = std::move(out);
}

// Removes every interval of `gaps` (any order, may overlap) from sorted,
// disjoint windows in one pass.
void SubtractAll(std::vector<std::pair<absl::Time, absl::Time>>* windows,
                 std::vector<std::pair<absl::Time, absl::Time>> gaps) {
  if (gaps.empty()) return;
  std::sort(gaps.begin(), gaps.end());
  std::vector<std::pair<absl::Time, absl::Time>> merged;
  for (const auto& g : gaps) {
    if (!merged.empty() && g.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, g.second);
    } else {
      merged.push_back(g);
    }
  }
  std::vector<std::pair<absl::Time, absl::Time>> out;
  size_t k = 0;
  for (auto w : *windows) {
    while (k < merged.size() && merged[k].second <= w.first) ++k;
    for (size_t j = k; j < merged.size() && merged[j].first < w.second && w.first < w.second; ++j) {
      if (w.first < merged[j].first) out.push_back({w.first, merged[j].first});
      w.first = std::max(w.first, merged[j].second);
    }
    if (w.first < w.second) out.push_back(w);
  }
  *windows = std::move(out);
}

}  // namespace

absl::Status Planning::CheckRouting(const v1::RoutingDefined& r,
                                    const model::EnterpriseModel& m) const {
  const std::string name = absl::StrCat("routing of product '", r.product(), "'");
  if (!m.PlannedRunTime(r.product())) {
    return absl::NotFoundError(absl::StrCat(name, ": the product is not defined"));
  }
  if (r.steps().empty()) return Invalid(absl::StrCat(name, ": no steps"));
  std::map<std::string, int> index;
  for (int i = 0; i < r.steps_size(); ++i) {
    const auto& s = r.steps(i);
    const std::string step = absl::StrCat(name, ", step '", s.step(), "'");
    if (absl::Status id = ValidateId("step", s.step()); !id.ok()) {
      return Invalid(absl::StrCat(name, ", steps[", i, "]: ", id.message()));
    }
    if (!index.emplace(s.step(), i).second) return Invalid(absl::StrCat(step, ": defined twice"));
    if (s.work_center().empty() == s.work_units().empty()) {
      return Invalid(absl::StrCat(step, ": give either a work center or work units"));
    }
    if (!s.work_center().empty()) {
      if (!m.HasWorkCenter(facility_, s.work_center())) {
        return absl::NotFoundError(absl::StrCat(step, ": work center '", s.work_center(),
                                                "' does not exist in facility '", facility_, "'"));
      }
      if (m.WorkUnits(facility_, "", s.work_center()).empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(step, ": work center '", s.work_center(), "' has no work units"));
      }
    }
    for (const auto& u : s.work_units()) {
      if (!m.HasWorkUnit(facility_, u)) {
        return absl::NotFoundError(absl::StrCat(step, ": work unit '", u,
                                                "' does not exist in facility '", facility_, "'"));
      }
    }
    if (s.setup_us() < 0) return Invalid(absl::StrCat(step, ": negative setup"));
    if (s.run_time_per_item_us() < 0) return Invalid(absl::StrCat(step, ": negative run time"));
  }
  // Precedence: known steps, no step after itself, no cycle.
  std::vector<std::vector<int>> preds(r.steps_size());
  for (int i = 0; i < r.steps_size(); ++i) {
    const auto& s = r.steps(i);
    for (const auto& a : s.after()) {
      auto it = index.find(a);
      if (it == index.end()) {
        return Invalid(absl::StrCat(name, ", step '", s.step(), "': comes after '", a,
                                    "', which is not a step of this routing"));
      }
      if (it->second == i) {
        return Invalid(absl::StrCat(name, ", step '", s.step(), "': comes after itself"));
      }
      preds[i].push_back(it->second);
    }
    if (s.after().empty() && i > 0) preds[i].push_back(i - 1);
  }
  std::vector<int> state(r.steps_size(), 0);  // 0 new, 1 on path, 2 done
  std::vector<int> path;
  std::function<bool(int)> cyclic = [&](int i) {
    if (state[i] == 1) {
      path.push_back(i);
      return true;
    }
    if (state[i] == 2) return false;
    state[i] = 1;
    path.push_back(i);
    for (int p : preds[i]) {
      if (cyclic(p)) return true;
    }
    path.pop_back();
    state[i] = 2;
    return false;
  };
  for (int i = 0; i < r.steps_size(); ++i) {
    if (cyclic(i)) {
      std::string cycle;
      auto start = std::find(path.begin(), path.end(), path.back());
      for (auto it = start; it != path.end(); ++it) {
        absl::StrAppend(&cycle, it == start ? "" : " after ", r.steps(*it).step());
      }
      return Invalid(absl::StrCat(name, ": precedence is cyclic: ", cycle));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<model::ModelEvent>> Planning::Decide(
    const v1::PlanningCommand& c, const model::EnterpriseModel& m) const {
  std::vector<model::ModelEvent> out;
  auto order_of = [&](const std::string& id) -> absl::StatusOr<const WorkOrderState*> {
    auto it = orders_.find(id);
    if (it == orders_.end()) {
      return absl::NotFoundError(absl::StrCat("work order '", id, "' does not exist in facility '",
                                              facility_, "'"));
    }
    return &it->second;
  };
  auto wrong_status = [&](const std::string& id, const std::string& status, const char* what) {
    return absl::FailedPreconditionError(
        absl::StrCat("work order '", id, "' is ", status, ": it cannot be ", what));
  };
  switch (c.kind_case()) {
    case v1::PlanningCommand::kDefineRouting: {
      const auto& r = c.define_routing();
      TAKT_RETURN_IF_ERROR(CheckRouting(r, m));
      auto it = routings_.find(r.product());
      if (it == routings_.end() || !Same(it->second, r)) out.push_back(EventOf(r));
      return out;
    }
    case v1::PlanningCommand::kDefineSetups: {
      const auto& s = c.define_setups();
      if (!m.HasWorkCenter(facility_, s.work_center())) {
        return absl::NotFoundError(absl::StrCat("setup matrix: work center '", s.work_center(),
                                                "' does not exist in facility '", facility_, "'"));
      }
      for (const auto& e : s.entries()) {
        if (e.setup_us() < 0) {
          return Invalid(absl::StrCat("setup matrix of '", s.work_center(), "': negative setup from '",
                                      e.from_family(), "' to '", e.to_family(), "'"));
        }
      }
      auto it = setups_.find(s.work_center());
      if (it == setups_.end() || !Same(it->second, s)) out.push_back(EventOf(s));
      return out;
    }
    case v1::PlanningCommand::kAddCalendarException: {
      const auto& e = c.add_calendar_exception();
      if (!e.work_unit().empty() && !m.HasWorkUnit(facility_, e.work_unit())) {
        return absl::NotFoundError(absl::StrCat("calendar exception: work unit '", e.work_unit(),
                                                "' does not exist in facility '", facility_, "'"));
      }
      if (!e.has_start() || !e.has_end() || ToTime(e.end()) <= ToTime(e.start())) {
        return Invalid("calendar exception: needs a start before its end");
      }
      for (const auto& x : exceptions_) {
        if (Same(x, e)) return out;
      }
      out.push_back(EventOf(e));
      return out;
    }
    case v1::PlanningCommand::kCreateWorkOrder: {
      const auto& w = c.create_work_order();
      if (absl::Status id = ValidateId("work_order", w.work_order()); !id.ok()) {
        return Invalid(std::string(id.message()));
      }
      const std::string name = absl::StrCat("work order '", w.work_order(), "'");
      if (!routings_.count(w.product())) {
        return absl::FailedPreconditionError(absl::StrCat(
            name, ": product '", w.product(), "' has no routing in facility '", facility_, "'"));
      }
      if (w.quantity() <= 0) return Invalid(absl::StrCat(name, ": quantity must be positive"));
      if (w.weight() < 0) return Invalid(absl::StrCat(name, ": weight must not be negative"));
      if (w.has_due_time() && w.has_release_time() && ToTime(w.due_time()) < ToTime(w.release_time())) {
        return Invalid(absl::StrCat(name, ": due before its release"));
      }
      auto it = orders_.find(w.work_order());
      if (it != orders_.end()) {
        if (Same(it->second.created, w)) return out;
        return absl::AlreadyExistsError(absl::StrCat(name, " exists with other content"));
      }
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kReleaseWorkOrder: {
      const auto& w = c.release_work_order();
      TAKT_ASSIGN_OR_RETURN(const WorkOrderState* o, order_of(w.work_order()));
      if (o->status == "released") return out;
      if (o->status != "created" && o->status != "held") return wrong_status(w.work_order(), o->status, "released");
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kReprioritiseWorkOrder: {
      const auto& w = c.reprioritise_work_order();
      TAKT_ASSIGN_OR_RETURN(const WorkOrderState* o, order_of(w.work_order()));
      if (w.weight() < 0) return Invalid(absl::StrCat("work order '", w.work_order(), "': weight must not be negative"));
      if (o->status == "cancelled" || o->status == "completed") {
        return wrong_status(w.work_order(), o->status, "reprioritised");
      }
      if (o->weight == w.weight()) return out;
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kHoldWorkOrder: {
      const auto& w = c.hold_work_order();
      TAKT_ASSIGN_OR_RETURN(const WorkOrderState* o, order_of(w.work_order()));
      if (o->status == "held") return out;
      if (o->status != "created" && o->status != "released") return wrong_status(w.work_order(), o->status, "held");
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kCancelWorkOrder: {
      const auto& w = c.cancel_work_order();
      TAKT_ASSIGN_OR_RETURN(const WorkOrderState* o, order_of(w.work_order()));
      if (o->status == "cancelled") return out;
      if (o->status == "completed") return wrong_status(w.work_order(), o->status, "cancelled");
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kCompleteWorkOrder: {
      const auto& w = c.complete_work_order();
      TAKT_ASSIGN_OR_RETURN(const WorkOrderState* o, order_of(w.work_order()));
      if (o->status == "completed") return out;
      if (o->status != "released" && o->status != "held") return wrong_status(w.work_order(), o->status, "completed");
      if (!w.has_completed_time()) return Invalid("complete_work_order: completed_time is required");
      out.push_back(EventOf(w));
      return out;
    }
    case v1::PlanningCommand::kCorrectCount:
      return absl::InternalError("a count correction is decided with its original event");
    default:
      return Invalid("empty planning command");
  }
}

absl::StatusOr<std::vector<model::ModelEvent>> Planning::DecideCorrection(
    const v1::CorrectCount& c, const eventlog::v1::Envelope* original) const {
  const std::string name = absl::StrCat("correction of sequence ", c.corrects_sequence(), " of '",
                                        facility_, "'");
  v1::ProductionCounted count;
  if (original == nullptr) return absl::NotFoundError(absl::StrCat(name, ": there is no such event"));
  if (original->event_type() != v1::ProductionCounted::descriptor()->full_name() ||
      !count.ParseFromString(original->payload())) {
    return absl::FailedPreconditionError(absl::StrCat(
        name, ": it is a ", original->event_type(), ", not a production count"));
  }
  if (c.reason().empty()) return Invalid(absl::StrCat(name, ": a reason is required"));
  const auto& q = c.corrected();
  if (absl::Status b = kpi::CheckQuantities(q.good(), q.scrap(), q.rework(), true); !b.ok()) {
    return Invalid(absl::StrCat(name, ": corrected ", b.message()));
  }
  if (absl::Status b = kpi::CheckPlannedTime(q.good(), q.scrap(), q.rework(),
                                             count.planned_run_time_per_item_us());
      !b.ok()) {
    return Invalid(absl::StrCat(name, ": corrected: ", b.message()));
  }
  v1::Quantities previous;
  if (auto it = corrected_.find(c.corrects_sequence()); it != corrected_.end()) {
    previous = it->second;
  } else {
    previous.set_good(count.good());
    previous.set_scrap(count.scrap());
    previous.set_rework(count.rework());
  }
  std::vector<model::ModelEvent> out;
  if (Same(previous, q)) return out;
  v1::ProductionCountCorrected e;
  e.set_corrects_sequence(c.corrects_sequence());
  e.set_corrects_event_id(original->event_id());
  e.set_work_unit(count.work_unit());
  e.set_product(count.product());
  e.set_planned_run_time_per_item_us(count.planned_run_time_per_item_us());
  *e.mutable_counted_time() = original->occurred_time();
  *e.mutable_previous() = previous;
  *e.mutable_corrected() = q;
  e.set_reason(c.reason());
  out.push_back(EventOf(e));
  return out;
}

absl::Status Planning::Apply(const model::ModelEvent& e) {
  auto parse = [&](google::protobuf::Message* m) -> absl::Status {
    if (!m->ParseFromString(e.payload)) {
      return absl::DataLossError(absl::StrCat(e.type, " does not decode"));
    }
    return absl::OkStatus();
  };
  if (Is<v1::RoutingDefined>(e)) {
    v1::RoutingDefined r;
    TAKT_RETURN_IF_ERROR(parse(&r));
    routings_[r.product()] = r;
  } else if (Is<v1::SetupMatrixDefined>(e)) {
    v1::SetupMatrixDefined s;
    TAKT_RETURN_IF_ERROR(parse(&s));
    setups_[s.work_center()] = s;
  } else if (Is<v1::CalendarExceptionAdded>(e)) {
    v1::CalendarExceptionAdded x;
    TAKT_RETURN_IF_ERROR(parse(&x));
    exceptions_.push_back(x);
  } else if (Is<v1::WorkOrderCreated>(e)) {
    v1::WorkOrderCreated w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    WorkOrderState& o = orders_[w.work_order()];
    o.created = w;
    o.weight = w.weight() > 0 ? w.weight() : 1;
  } else if (Is<v1::WorkOrderReleased>(e)) {
    v1::WorkOrderReleased w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    orders_[w.work_order()].status = "released";
  } else if (Is<v1::WorkOrderReprioritised>(e)) {
    v1::WorkOrderReprioritised w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    orders_[w.work_order()].weight = w.weight();
  } else if (Is<v1::WorkOrderHeld>(e)) {
    v1::WorkOrderHeld w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    orders_[w.work_order()].status = "held";
  } else if (Is<v1::WorkOrderCancelled>(e)) {
    v1::WorkOrderCancelled w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    orders_[w.work_order()].status = "cancelled";
  } else if (Is<v1::WorkOrderCompleted>(e)) {
    v1::WorkOrderCompleted w;
    TAKT_RETURN_IF_ERROR(parse(&w));
    WorkOrderState& o = orders_[w.work_order()];
    o.status = "completed";
    o.completed = ToTime(w.completed_time());
  } else if (Is<v1::ProductionCountCorrected>(e)) {
    v1::ProductionCountCorrected x;
    TAKT_RETURN_IF_ERROR(parse(&x));
    corrected_[x.corrects_sequence()] = x.corrected();
  } else if (Is<v1::ScheduleCommitted>(e)) {
    v1::ScheduleCommitted s;
    TAKT_RETURN_IF_ERROR(parse(&s));
    committed_id_ = s.schedule().schedule_id();
    for (const auto& po : s.schedule().orders()) {
      auto it = orders_.find(po.work_order());
      if (it == orders_.end()) continue;
      it->second.planned_start = ToTime(po.planned_start());
      it->second.planned_end = ToTime(po.planned_end());
    }
  }
  // Other types in the stream are not planning facts.
  return absl::OkStatus();
}

absl::StatusOr<PlanningProblem> Planning::BuildProblem(const model::EnterpriseModel& m,
                                                       absl::Time origin, int horizon_days,
                                                       const CrewFacts* crew) const {
  PlanningProblem out;
  out.origin = origin;
  sched::Problem& p = out.problem;
  const absl::Time end = origin + absl::Hours(24) * std::max(1, horizon_days);
  p.horizon = absl::ToInt64Seconds(end - origin);
  auto secs = [&](absl::Time t) { return absl::ToInt64Seconds(t - origin); };

  // Units and their calendars.
  out.unit_ids = m.WorkUnits(facility_, "", "");
  std::map<std::string, int> unit_index;
  for (size_t i = 0; i < out.unit_ids.size(); ++i) unit_index[out.unit_ids[i]] = static_cast<int>(i);
  const auto shifts = ShiftWindows(m.Calendar(facility_), origin, end);
  // Crew gaps close units, per unit.
  std::map<std::string, std::vector<std::pair<absl::Time, absl::Time>>> crew_closed;
  if (crew != nullptr) {
    out.crew_gaps = CrewGaps(*crew, m, facility_, origin, end);
    for (const CrewGap& g : out.crew_gaps) {
      for (const std::string& u : g.work_units) crew_closed[u].push_back({g.start, g.end});
    }
  }
  for (const std::string& u : out.unit_ids) {
    auto windows = shifts;
    for (const auto& x : exceptions_) {
      if (x.work_unit().empty() || x.work_unit() == u) Subtract(&windows, ToTime(x.start()), ToTime(x.end()));
    }
    if (auto closed = crew_closed.find(u); closed != crew_closed.end()) SubtractAll(&windows, closed->second);
    std::vector<sched::Interval> iv;
    for (const auto& [a, b] : windows) iv.push_back({secs(a), secs(b)});
    sched::UnitCalendar cal;
    if (iv.empty()) {
      cal = sched::UnitCalendar::Closed();
    } else if (!(iv.size() == 1 && iv[0].start <= 0 && iv[0].end >= p.horizon)) {
      TAKT_ASSIGN_OR_RETURN(cal, sched::UnitCalendar::FromWindows(iv));
    }
    p.units.push_back(sched::Unit{u, std::move(cal)});
  }
  // Sequence-dependent setups per unit of each work center with a matrix.
  for (const auto& [wc, matrix] : setups_) {
    for (const std::string& u : m.WorkUnits(facility_, "", wc)) {
      auto it = unit_index.find(u);
      if (it == unit_index.end()) continue;
      for (const auto& e : matrix.entries()) {
        p.sequence_setups[sched::SetupKey{it->second, e.from_family(), e.to_family()}] =
            CeilSeconds(e.setup_us());
      }
    }
  }
  // Released orders, in id order.
  for (const auto& [id, o] : orders_) {
    if (o.status != "released") continue;
    auto routing = routings_.find(o.created.product());
    if (routing == routings_.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "work order '", id, "': product '", o.created.product(), "' has no routing"));
    }
    const int job = static_cast<int>(p.jobs.size());
    sched::Job j;
    j.id = id;
    j.release = o.created.has_release_time() ? std::max<int64_t>(0, secs(ToTime(o.created.release_time()))) : 0;
    j.due = o.created.has_due_time() ? secs(ToTime(o.created.due_time())) : sched::kNoDue;
    j.weight = o.weight;
    p.jobs.push_back(j);
    const auto pri = m.PlannedRunTime(o.created.product());
    std::map<std::string, int> step_op;
    const int first = static_cast<int>(p.ops.size());
    for (const auto& s : routing->second.steps()) step_op[s.step()] = first + static_cast<int>(step_op.size());
    for (int k = 0; k < routing->second.steps_size(); ++k) {
      const auto& s = routing->second.steps(k);
      sched::Operation op;
      op.id = absl::StrCat(id, "/", s.step());
      op.job = job;
      const int64_t per_item = s.run_time_per_item_us() > 0
                                   ? s.run_time_per_item_us()
                                   : (pri ? absl::ToInt64Microseconds(*pri) : 0);
      const sched::Time duration = CeilSeconds(per_item * o.created.quantity());
      std::vector<std::string> units(s.work_units().begin(), s.work_units().end());
      if (!s.work_center().empty()) units = m.WorkUnits(facility_, "", s.work_center());
      for (const auto& u : units) {
        auto it = unit_index.find(u);
        if (it == unit_index.end()) {
          return absl::NotFoundError(absl::StrCat("operation '", op.id, "': work unit '", u,
                                                  "' does not exist in facility '", facility_, "'"));
        }
        op.options.push_back(sched::Option{it->second, duration});
      }
      op.setup = CeilSeconds(s.setup_us());
      op.family = s.setup_family();
      op.splittable = s.splittable();
      for (const auto& a : s.after()) op.predecessors.push_back(step_op.at(a));
      if (s.after().empty() && k > 0) op.predecessors.push_back(first + k - 1);
      out.steps.push_back({id, s.step()});
      p.ops.push_back(std::move(op));
    }
  }
  return out;
}

absl::StatusOr<v1::Schedule> Planning::Propose(const model::EnterpriseModel& m,
                                               const v1::ScheduleRequest& req, absl::Time now,
                                               const CrewFacts* crew) const {
  if (req.respect_crew() && crew == nullptr) {
    return absl::InternalError("respect_crew: the crew facts were not read");
  }
  sched::SolveOptions o;
  TAKT_ASSIGN_OR_RETURN(o.objective, sched::ParseObjective(req.objective().empty() ? "makespan" : req.objective()));
  if (req.direction().empty() || req.direction() == "forward") {
    o.direction = sched::Direction::kForward;
  } else if (req.direction() == "backward") {
    o.direction = sched::Direction::kBackward;
  } else {
    return Invalid(absl::StrCat("direction '", req.direction(), "': forward or backward"));
  }
  if (req.time_limit_ms() < 0 || req.horizon_days() < 0 || req.max_iterations() < 0) {
    return Invalid("time_limit_ms, horizon_days and max_iterations must not be negative");
  }
  if (req.horizon_days() > kMaxHorizonDays) {
    return Invalid(absl::StrCat("horizon_days ", req.horizon_days(), ": at most ", kMaxHorizonDays));
  }
  if (o.direction == sched::Direction::kBackward && o.objective == sched::Objective::kMakespan) {
    o.objective = sched::Objective::kWeightedTardiness;  // backward plans work to due dates
  }
  o.time_limit = absl::Milliseconds(req.time_limit_ms() > 0 ? req.time_limit_ms() : 2000);
  if (req.max_iterations() > 0) {
    o.max_iterations = req.max_iterations();
    o.time_limit = absl::InfiniteDuration();
  }
  o.seed = req.seed() == 0 ? 1 : req.seed();
  const absl::Time origin = req.has_horizon_start() ? ToTime(req.horizon_start()) : absl::FromUnixSeconds(absl::ToUnixSeconds(now));
  TAKT_ASSIGN_OR_RETURN(PlanningProblem pp, BuildProblem(m, origin, req.horizon_days() > 0 ? req.horizon_days() : 90,
                                                         req.respect_crew() ? crew : nullptr));
  absl::StatusOr<sched::SolveResult> solved = sched::Solve(pp.problem, o);
  if (!solved.ok() && !pp.crew_gaps.empty()) {
    // Name the crew gaps behind it: the first few, for the units some
    // operation could run on.
    const std::set<std::string> used = OptionUnits(pp);
    std::vector<std::string> gaps;
    int total = 0;
    for (const CrewGap& g : pp.crew_gaps) {
      if (!Closes(g, used)) continue;
      if (++total <= 3) gaps.push_back(DescribeGap(g));
    }
    if (total > 0) {
      return absl::Status(solved.status().code(),
                          absl::StrCat(solved.status().message(), "; crew short in ", total, " shift",
                                       total == 1 ? "" : "s", ", first ", absl::StrJoin(gaps, "; ")));
    }
  }
  if (!solved.ok()) return solved.status();
  sched::SolveResult& r = *solved;
  v1::Schedule out;
  out.set_objective(std::string(sched::ObjectiveName(o.objective)));
  out.set_direction(o.direction == sched::Direction::kForward ? "forward" : "backward");
  *out.mutable_horizon_start() = ToProto(origin);
  auto at = [&](sched::Time t) { return ToProto(origin + absl::Seconds(t)); };
  std::map<std::string, std::pair<sched::Time, sched::Time>> windows;
  for (size_t i = 0; i < pp.problem.ops.size(); ++i) {
    const sched::Assignment& a = r.schedule.ops[i];
    auto* po = out.add_operations();
    po->set_work_order(pp.steps[i].first);
    po->set_step(pp.steps[i].second);
    po->set_work_unit(pp.unit_ids[a.unit]);
    *po->mutable_setup_start() = at(a.setup_start);
    *po->mutable_start() = at(a.start);
    *po->mutable_end() = at(a.end);
    auto [it, inserted] = windows.emplace(pp.steps[i].first, std::make_pair(a.setup_start, a.end));
    if (!inserted) {
      it->second.first = std::min(it->second.first, a.setup_start);
      it->second.second = std::max(it->second.second, a.end);
    }
  }
  for (const auto& job : pp.problem.jobs) {
    auto* po = out.add_orders();
    po->set_work_order(job.id);
    *po->mutable_planned_start() = at(windows[job.id].first);
    *po->mutable_planned_end() = at(windows[job.id].second);
    if (job.due != sched::kNoDue) {
      *po->mutable_due_time() = at(job.due);
      po->set_lateness_seconds(windows[job.id].second - job.due);
    }
  }
  auto kpis = [](const sched::ScheduleKpis& k, v1::ScheduleKpis* o) {
    o->set_makespan_seconds(k.makespan);
    o->set_weighted_tardiness_seconds(k.weighted_tardiness);
    o->set_late_orders(k.late_jobs);
    o->set_total_tardiness_seconds(k.total_tardiness);
  };
  kpis(r.kpis, out.mutable_kpis());
  kpis(r.initial, out.mutable_initial_kpis());
  out.set_iterations(r.iterations);
  out.set_note(r.note);
  if (req.respect_crew()) {
    out.set_respect_crew(true);
    const absl::Time plan_end = origin + absl::Seconds(r.kpis.makespan);
    const std::set<std::string> used = OptionUnits(pp);
    uint32_t total = 0;
    for (const CrewGap& g : pp.crew_gaps) {
      if (g.start >= plan_end || !Closes(g, used)) continue;
      if (++total > kMaxCrewShortages) continue;
      auto* x = out.add_crew_shortages();
      x->set_station(g.station);
      x->set_day(g.day);
      x->set_shift(g.shift);
      *x->mutable_start() = ToProto(g.start);
      *x->mutable_end() = ToProto(g.end);
      x->set_required(g.required);
      x->set_qualified(g.qualified);
      for (const auto& q : g.qualifications) x->add_qualifications(q);
      for (const auto& u : g.work_units) x->add_work_units(u);
    }
    out.set_crew_shortages_total(total);
  }
  // The id names the plan's content, so the same plan has the same id.
  std::string content;
  for (const auto& po : out.operations()) content += po.SerializeAsString();
  out.set_schedule_id(absl::StrCat("sched-", HexEncode(crypto::Sha256().Digest(content)).substr(0, 16)));
  return out;
}

absl::StatusOr<model::ModelEvent> Planning::DecideCommit(const model::EnterpriseModel& m,
                                                         const v1::Schedule& s,
                                                         const CrewFacts* crew) const {
  if (s.respect_crew() && crew == nullptr) {
    return absl::InternalError("respect_crew: the crew facts were not read");
  }
  if (!s.has_horizon_start()) return Invalid("schedule: horizon_start is missing");
  if (s.schedule_id().empty()) return Invalid("schedule: schedule_id is missing");
  const absl::Time origin = ToTime(s.horizon_start());
  sched::Time last_end = 0;
  for (const auto& po : s.operations()) {
    last_end = std::max<sched::Time>(last_end, absl::ToInt64Seconds(ToTime(po.end()) - origin));
  }
  if (last_end > static_cast<sched::Time>(kMaxHorizonDays) * 86400) {
    return Invalid(absl::StrCat("schedule: an operation ends more than ", kMaxHorizonDays,
                                " days after the horizon start"));
  }
  const int days = static_cast<int>(std::max<int64_t>(90, last_end / 86400 + 2));
  TAKT_ASSIGN_OR_RETURN(PlanningProblem pp, BuildProblem(m, origin, days, s.respect_crew() ? crew : nullptr));
  std::map<std::pair<std::string, std::string>, int> op_index;
  for (size_t i = 0; i < pp.steps.size(); ++i) op_index[pp.steps[i]] = static_cast<int>(i);
  std::map<std::string, int> unit_index;
  for (size_t i = 0; i < pp.unit_ids.size(); ++i) unit_index[pp.unit_ids[i]] = static_cast<int>(i);
  sched::Schedule schedule;
  schedule.ops.resize(pp.problem.ops.size());
  std::vector<bool> seen(pp.problem.ops.size(), false);
  const auto stale = [](const std::string& why) {
    return absl::FailedPreconditionError(absl::StrCat("the schedule no longer fits: ", why,
                                                      "; propose again"));
  };
  auto secs = [&](const google::protobuf::Timestamp& t) { return absl::ToInt64Seconds(ToTime(t) - origin); };
  for (const auto& po : s.operations()) {
    auto it = op_index.find({po.work_order(), po.step()});
    if (it == op_index.end()) {
      return stale(absl::StrCat("operation '", po.work_order(), "/", po.step(),
                                "' is not an operation of a released work order"));
    }
    if (seen[it->second]) return Invalid(absl::StrCat("operation '", po.work_order(), "/", po.step(), "' appears twice"));
    seen[it->second] = true;
    auto unit = unit_index.find(po.work_unit());
    if (unit == unit_index.end()) {
      return absl::NotFoundError(absl::StrCat("operation '", po.work_order(), "/", po.step(),
                                              "': work unit '", po.work_unit(), "' does not exist"));
    }
    sched::Assignment& a = schedule.ops[it->second];
    a.unit = unit->second;
    a.setup_start = secs(po.setup_start());
    a.start = secs(po.start());
    a.end = secs(po.end());
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return stale(absl::StrCat("work order '", pp.steps[i].first, "' (step '", pp.steps[i].second,
                                "') is released but not planned"));
    }
  }
  // Split operations: the pieces the unit's calendar gives them.
  for (size_t i = 0; i < schedule.ops.size(); ++i) {
    sched::Assignment& a = schedule.ops[i];
    const auto& op = pp.problem.ops[i];
    const auto& cal = pp.problem.units[a.unit].calendar;
    if (!op.splittable || cal.always()) continue;
    // Work between setup start and end that falls in the windows.
    std::vector<sched::Interval> worked;
    for (const auto& w : cal.windows()) {
      const sched::Time x = std::max(w.start, a.setup_start), y = std::min(w.end, a.end);
      if (x < y) worked.push_back({x, y});
    }
    if (worked.size() > 1) a.pieces = worked;
  }
  absl::Status check = sched::CheckSchedule(pp.problem, schedule);
  if (!check.ok()) return stale(std::string(check.message()));
  v1::ScheduleCommitted committed;
  *committed.mutable_schedule() = s;
  return EventOf(committed);
}

}  // namespace takt::scheduling
