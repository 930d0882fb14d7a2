#include "services/scheduling/solver/problem.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace takt::sched {

absl::StatusOr<UnitCalendar> UnitCalendar::FromWindows(std::vector<Interval> windows) {
  UnitCalendar c;
  for (size_t i = 0; i < windows.size(); ++i) {
    if (windows[i].end <= windows[i].start) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar window ", i, " is empty or ends before it starts"));
    }
    if (i > 0 && windows[i].start < windows[i - 1].end) {
      return absl::InvalidArgumentError(
          absl::StrCat("calendar window ", i, " overlaps or precedes window ", i - 1));
    }
  }
  c.windows_ = std::move(windows);
  return c;
}

std::optional<std::vector<Interval>> UnitCalendar::Fit(Time ready, Time work,
                                                       bool splittable) const {
  if (closed_) return std::nullopt;
  if (always() || work == 0) return std::vector<Interval>{{ready, ready + work}};
  // First window that ends after `ready`.
  auto it = std::upper_bound(windows_.begin(), windows_.end(), ready,
                             [](Time t, const Interval& w) { return t < w.end; });
  if (!splittable) {
    for (; it != windows_.end(); ++it) {
      const Time s = std::max(ready, it->start);
      if (s + work <= it->end) return std::vector<Interval>{{s, s + work}};
    }
    return std::nullopt;
  }
  std::vector<Interval> pieces;
  Time remaining = work;
  for (; it != windows_.end() && remaining > 0; ++it) {
    const Time s = std::max(ready, it->start);
    const Time take = std::min(remaining, it->end - s);
    pieces.push_back({s, s + take});
    remaining -= take;
  }
  if (remaining > 0) return std::nullopt;
  return pieces;
}

std::optional<std::vector<Interval>> UnitCalendar::FitBackward(Time deadline, Time work,
                                                               bool splittable) const {
  if (closed_) return std::nullopt;
  if (always() || work == 0) return std::vector<Interval>{{deadline - work, deadline}};
  // Last window that starts before `deadline`.
  auto it = std::lower_bound(windows_.begin(), windows_.end(), deadline,
                             [](const Interval& w, Time t) { return w.start < t; });
  std::vector<Interval> pieces;
  Time remaining = work;
  while (it != windows_.begin() && remaining > 0) {
    --it;
    const Time e = std::min(deadline, it->end);
    if (!splittable) {
      if (e - work >= it->start) return std::vector<Interval>{{e - work, e}};
      continue;
    }
    const Time take = std::min(remaining, e - it->start);
    pieces.insert(pieces.begin(), Interval{e - take, e});
    remaining -= take;
  }
  if (remaining > 0 || pieces.empty()) return std::nullopt;
  return pieces;
}

Time Problem::SetupBefore(int unit, int previous, int op) const {
  const Operation& o = ops[op];
  if (previous < 0) return o.setup;
  const std::string& from = ops[previous].family;
  if (!sequence_setups.empty()) {
    auto it = sequence_setups.find(SetupKey{unit, from, o.family});
    if (it != sequence_setups.end()) return it->second;
  }
  if (!o.family.empty() && from == o.family) return 0;
  return o.setup;
}

bool Problem::IsPureJobShop() const {
  for (const Unit& u : units) {
    if (!u.calendar.always()) return false;
  }
  for (const Job& j : jobs) {
    if (j.release != 0) return false;
  }
  if (!sequence_setups.empty()) return false;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Operation& o = ops[i];
    if (o.options.size() != 1 || o.setup != 0 || o.predecessors.size() > 1) return false;
    if (!o.predecessors.empty() && ops[o.predecessors[0]].job != o.job) return false;
  }
  return true;
}

absl::Status Validate(const Problem& p) {
  for (size_t j = 0; j < p.jobs.size(); ++j) {
    const Job& job = p.jobs[j];
    if (!(job.weight >= 0)) {
      return absl::InvalidArgumentError(absl::StrCat("job '", job.id, "' has a negative weight"));
    }
  }
  const int n = static_cast<int>(p.ops.size());
  for (int i = 0; i < n; ++i) {
    const Operation& o = p.ops[i];
    const std::string name = absl::StrCat("operation '", o.id, "'");
    if (o.job < 0 || o.job >= static_cast<int>(p.jobs.size())) {
      return absl::InvalidArgumentError(absl::StrCat(name, " belongs to no job"));
    }
    if (o.options.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(name, " has no work unit to run on"));
    }
    for (const Option& opt : o.options) {
      if (opt.unit < 0 || opt.unit >= static_cast<int>(p.units.size())) {
        return absl::NotFoundError(absl::StrCat(name, " names a work unit that does not exist"));
      }
      if (opt.duration < 0) {
        return absl::InvalidArgumentError(absl::StrCat(name, " has a negative duration on '",
                                                       p.units[opt.unit].id, "'"));
      }
    }
    if (o.setup < 0) return absl::InvalidArgumentError(absl::StrCat(name, " has a negative setup"));
    for (int pred : o.predecessors) {
      if (pred < 0 || pred >= n || pred == i) {
        return absl::InvalidArgumentError(absl::StrCat(name, " has an invalid predecessor"));
      }
    }
  }
  for (const auto& [key, t] : p.sequence_setups) {
    if (t < 0) {
      return absl::InvalidArgumentError(absl::StrCat("negative setup from '", key.from, "' to '",
                                                     key.to, "'"));
    }
  }
  // Cycles: Kahn's algorithm; what remains lies on or behind a cycle.
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> successors(n);
  for (int i = 0; i < n; ++i) {
    for (int pred : p.ops[i].predecessors) {
      ++indegree[i];
      successors[pred].push_back(i);
    }
  }
  std::vector<int> ready;
  for (int i = 0; i < n; ++i) {
    if (indegree[i] == 0) ready.push_back(i);
  }
  int seen = 0;
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    ++seen;
    for (int s : successors[i]) {
      if (--indegree[s] == 0) ready.push_back(s);
    }
  }
  if (seen != n) {
    // Walk back through unresolved predecessors until an operation repeats.
    int at = 0;
    while (indegree[at] == 0) ++at;
    std::vector<int> visited(n, -1);
    std::vector<std::string> path;
    for (int step = 0; visited[at] < 0; ++step) {
      visited[at] = step;
      path.push_back(p.ops[at].id);
      for (int pred : p.ops[at].predecessors) {
        if (indegree[pred] > 0) {
          at = pred;
          break;
        }
      }
    }
    std::string cycle;
    for (size_t k = visited[at]; k < path.size(); ++k) absl::StrAppend(&cycle, path[k], " <- ");
    absl::StrAppend(&cycle, p.ops[at].id);
    return absl::InvalidArgumentError(absl::StrCat("precedence is cyclic: ", cycle));
  }
  // Capacity: every operation must fit on some unit before the horizon.
  for (const Operation& o : p.ops) {
    const Time release = p.jobs[o.job].release;
    bool fits = false;
    std::string why;
    for (const Option& opt : o.options) {
      auto pieces = p.units[opt.unit].calendar.Fit(release, o.setup + opt.duration, o.splittable);
      if (pieces && pieces->back().end <= p.horizon) {
        fits = true;
        break;
      }
      absl::StrAppend(&why, why.empty() ? "" : "; ", "work unit '", p.units[opt.unit].id,
                      "' has no capacity for ", o.setup + opt.duration, " before the horizon ",
                      p.horizon);
    }
    if (!fits) {
      return absl::FailedPreconditionError(
          absl::StrCat("operation '", o.id, "' cannot be scheduled: ", why));
    }
  }
  return absl::OkStatus();
}

ScheduleKpis Evaluate(const Problem& p, const Schedule& s) {
  ScheduleKpis k;
  std::vector<Time> completion(p.jobs.size(), 0);
  for (size_t i = 0; i < p.ops.size(); ++i) {
    completion[p.ops[i].job] = std::max(completion[p.ops[i].job], s.ops[i].end);
    k.makespan = std::max(k.makespan, s.ops[i].end);
  }
  for (size_t j = 0; j < p.jobs.size(); ++j) {
    if (p.jobs[j].due == kNoDue) continue;
    const Time tardy = std::max<Time>(0, completion[j] - p.jobs[j].due);
    if (tardy > 0) ++k.late_jobs;
    k.total_tardiness += tardy;
    k.weighted_tardiness += p.jobs[j].weight * static_cast<double>(tardy);
  }
  return k;
}

absl::Status CheckSchedule(const Problem& p, const Schedule& s) {
  const int n = static_cast<int>(p.ops.size());
  if (static_cast<int>(s.ops.size()) != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("the schedule has ", s.ops.size(), " operations, the problem ", n));
  }
  auto name = [&](int i) { return absl::StrCat("'", p.ops[i].id, "'"); };
  std::vector<std::vector<int>> on_unit(p.units.size());
  for (int i = 0; i < n; ++i) {
    const Operation& o = p.ops[i];
    const Assignment& a = s.ops[i];
    auto opt = std::find_if(o.options.begin(), o.options.end(),
                            [&](const Option& x) { return x.unit == a.unit; });
    if (opt == o.options.end()) {
      return absl::InvalidArgumentError(absl::StrCat(name(i), " runs on a unit it cannot use"));
    }
    if (a.setup_start > a.start || a.start > a.end || a.setup_start < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name(i), " has times out of order"));
    }
    if (a.start < p.jobs[o.job].release) {
      return absl::InvalidArgumentError(absl::StrCat(name(i), " starts before its job's release"));
    }
    if (a.end > p.horizon) {
      return absl::InvalidArgumentError(absl::StrCat(name(i), " ends after the horizon"));
    }
    for (int pred : o.predecessors) {
      if (s.ops[pred].end > a.start) {
        return absl::InvalidArgumentError(
            absl::StrCat(name(i), " starts before its predecessor ", name(pred), " ends"));
      }
    }
    on_unit[a.unit].push_back(i);
  }
  for (size_t u = 0; u < p.units.size(); ++u) {
    auto& list = on_unit[u];
    std::sort(list.begin(), list.end(), [&](int a, int b) {
      return std::tie(s.ops[a].setup_start, s.ops[a].end) < std::tie(s.ops[b].setup_start, s.ops[b].end);
    });
    const UnitCalendar& cal = p.units[u].calendar;
    int previous = -1;
    for (int i : list) {
      const Operation& o = p.ops[i];
      const Assignment& a = s.ops[i];
      const Time duration = std::find_if(o.options.begin(), o.options.end(), [&](const Option& x) {
                              return x.unit == a.unit;
                            })->duration;
      const Time setup = p.SetupBefore(static_cast<int>(u), previous, i);
      if (previous >= 0 && a.setup_start < s.ops[previous].end) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " overlaps ", name(previous),
                                                       " on '", p.units[u].id, "'"));
      }
      const Time work = setup + duration;
      std::vector<Interval> pieces = a.pieces;
      if (pieces.empty()) pieces = {{a.setup_start, a.end}};
      if (pieces.size() > 1 && !o.splittable) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " is split but may not be"));
      }
      Time worked = 0;
      for (size_t k = 0; k < pieces.size(); ++k) {
        const Interval& piece = pieces[k];
        if (piece.end < piece.start || (k > 0 && piece.start < pieces[k - 1].end)) {
          return absl::InvalidArgumentError(absl::StrCat(name(i), " has pieces out of order"));
        }
        worked += piece.end - piece.start;
        if (!cal.always() && piece.end > piece.start) {
          auto w = std::upper_bound(cal.windows().begin(), cal.windows().end(), piece.start,
                                    [](Time t, const Interval& x) { return t < x.end; });
          if (w == cal.windows().end() || piece.start < w->start || piece.end > w->end) {
            return absl::InvalidArgumentError(absl::StrCat(
                name(i), " runs outside the calendar of '", p.units[u].id, "'"));
          }
        }
      }
      if (pieces.front().start != a.setup_start || pieces.back().end != a.end) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " pieces do not span the operation"));
      }
      if (worked != work) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " works ", worked, " instead of ",
                                                       work, " (setup ", setup, " + ", duration, ")"));
      }
      if (a.end - a.start < duration) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " is processed for less than its duration"));
      }
      if (a.start - a.setup_start < setup && pieces.size() == 1) {
        return absl::InvalidArgumentError(absl::StrCat(name(i), " starts before its setup is done"));
      }
      previous = i;
    }
  }
  return absl::OkStatus();
}

}  // namespace takt::sched
