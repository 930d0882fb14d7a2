// File: problem.h
// -----------------------------------------------------------------------------
// A finite-capacity scheduling problem, independent of where it came from
// (work orders and routings of the scheduling service, or a job-shop
// benchmark file): jobs with release and due dates and weights; operations
// with precedences, each runnable on one of several work units with its own
// processing time; setups (a default per operation, sequence-dependent per
// unit where given); unit calendars that operations may not cross, or are
// split across when the operation allows it.
//
// Times are integers in a unit the caller chooses (seconds for work
// orders, abstract units for benchmarks).
#ifndef TAKT_SERVICES_SCHEDULING_SOLVER_PROBLEM_H_
#define TAKT_SERVICES_SCHEDULING_SOLVER_PROBLEM_H_

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace takt::sched {

using Time = int64_t;
inline constexpr Time kNoDue = std::numeric_limits<Time>::max();

struct Interval {
  Time start = 0;
  Time end = 0;  // exclusive
  bool operator==(const Interval&) const = default;
};

// When a unit can work: sorted, disjoint windows. No windows = always.
class UnitCalendar {
 public:
  UnitCalendar() = default;  // always available
  // Fails on unsorted, overlapping or empty windows.
  static absl::StatusOr<UnitCalendar> FromWindows(std::vector<Interval> windows);

  // A unit that cannot work at all in the planning horizon.
  static UnitCalendar Closed() {
    UnitCalendar c;
    c.closed_ = true;
    return c;
  }

  bool always() const { return windows_.empty() && !closed_; }
  const std::vector<Interval>& windows() const { return windows_; }

  // The earliest placement of `work` units of work starting at or after
  // `ready`: the first window that holds all of it, or (when `splittable`)
  // work accumulated across windows. Returns the pieces worked, in order;
  // nullopt if the calendar ends first.
  std::optional<std::vector<Interval>> Fit(Time ready, Time work, bool splittable) const;
  // The latest placement ending at or before `deadline`.
  std::optional<std::vector<Interval>> FitBackward(Time deadline, Time work,
                                                   bool splittable) const;

 private:
  std::vector<Interval> windows_;
  bool closed_ = false;
};

struct Unit {
  std::string id;
  UnitCalendar calendar;
};

// Running an operation on one unit.
struct Option {
  int unit = 0;
  Time duration = 0;
};

struct Operation {
  std::string id;
  int job = 0;
  std::vector<Option> options;  // alternative units; at least one
  std::vector<int> predecessors;  // operations that must end first
  Time setup = 0;       // setup on its unit unless the previous one shares the family
  std::string family;   // setup family (product, tooling); empty: none
  bool splittable = false;  // may pause outside its unit's windows
};

struct Job {
  std::string id;
  Time release = 0;
  Time due = kNoDue;
  double weight = 1;
};

// Sequence-dependent setup on a unit: from one family to another.
struct SetupKey {
  int unit;
  std::string from;
  std::string to;
  auto operator<=>(const SetupKey&) const = default;
};

struct Problem {
  std::vector<Unit> units;
  std::vector<Job> jobs;
  std::vector<Operation> ops;
  std::map<SetupKey, Time> sequence_setups;
  // Nothing may end after this (calendars are finite, and a plan needs an end).
  Time horizon = std::numeric_limits<Time>::max() / 4;

  // The setup on `unit` before `op` when `previous` (or -1) ran last.
  Time SetupBefore(int unit, int previous, int op) const;
  // True for the classic job shop: one unit per operation, chains,
  // no calendars, setups or release dates (the solver's fast path).
  bool IsPureJobShop() const;
};

// Checks a problem; errors name the culprit (operation, job or unit id):
// bad indices, no option, negative durations or setups, cyclic precedence,
// an operation no unit's calendar can take before the horizon. (A due date
// before the release is allowed: the job is late whatever happens.)
absl::Status Validate(const Problem& problem);

// Where and when an operation runs.
struct Assignment {
  int unit = -1;
  Time setup_start = 0;  // the unit is busy from here (setup, then work)
  Time start = 0;        // processing starts
  Time end = 0;
  std::vector<Interval> pieces;  // setup + work as worked, when split
};

struct Schedule {
  std::vector<Assignment> ops;  // by operation index
};

struct ScheduleKpis {
  Time makespan = 0;
  double weighted_tardiness = 0;
  int late_jobs = 0;
  Time total_tardiness = 0;
};
ScheduleKpis Evaluate(const Problem& problem, const Schedule& schedule);

// The feasibility checker: precedence, release dates, no overlap on a unit
// (setups included), calendars, durations, options and setups. Returns the
// first violation with the operations it involves.
absl::Status CheckSchedule(const Problem& problem, const Schedule& schedule);

}  // namespace takt::sched

#endif  // TAKT_SERVICES_SCHEDULING_SOLVER_PROBLEM_H_
