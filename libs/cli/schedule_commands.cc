#include "libs/cli/schedule_commands.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "libs/sched/jssp.h"
#include "libs/sched/solver.h"

namespace takt::cli {
namespace {

std::string Family(const std::string& name) {
  size_t k = 0;
  while (k < name.size() && std::isalpha(static_cast<unsigned char>(name[k]))) ++k;
  return name.substr(0, k);
}

// Seconds until the best plan was within `pct` % of `bound`; -1 if never.
double SecondsToWithin(const sched::SolveResult& r, double bound, double pct) {
  for (const auto& [seconds, value] : r.trace) {
    if (value <= bound * (1 + pct / 100)) return seconds;
  }
  return -1;
}

}  // namespace

int RunScheduleJssp(const ScheduleJsspArgs& args, std::ostream& out, std::ostream& err) {
  auto inst = sched::ReadJsspFile(args.instance);
  if (!inst.ok()) {
    err << "takt: schedule jssp: " << inst.status().message() << "\n";
    return 2;
  }
  sched::SolveOptions o;
  o.time_limit = absl::Seconds(args.time_limit);
  o.seed = args.seed;
  o.max_iterations = args.iterations;
  if (args.iterations >= 0) o.time_limit = absl::InfiniteDuration();
  auto r = sched::Solve(inst->problem, o);
  if (!r.ok()) {
    err << "takt: schedule jssp: " << r.status().message() << "\n";
    return 2;
  }
  const std::string text = sched::FormatJsspSchedule(*inst, r->schedule);
  if (args.out.empty()) {
    out << text;
  } else {
    std::ofstream f(args.out, std::ios::trunc);
    f << text;
    if (!f) {
      err << "takt: schedule jssp: cannot write " << args.out << "\n";
      return 2;
    }
  }
  if (args.json) {
    (args.out.empty() ? err : out) << absl::StrFormat(
        "{\"makespan\":%d,\"initial_makespan\":%d,\"iterations\":%d,\"seconds\":%.3f}\n",
        r->kpis.makespan, r->initial.makespan, r->iterations, r->seconds);
  } else {
    (args.out.empty() ? err : out) << absl::StrFormat(
        "makespan %d (construction heuristic %d; %d iterations in %.1f s)\n", r->kpis.makespan,
        r->initial.makespan, r->iterations, r->seconds);
  }
  return 0;
}

int RunBenchSchedule(const BenchScheduleArgs& args, std::ostream& out, std::ostream& err) {
  auto bounds = sched::ReadJsspBounds(args.dir + "/bounds.csv");
  if (!bounds.ok()) {
    err << "takt: bench schedule: " << bounds.status().message() << "\n";
    return 2;
  }
  struct FamilyStats {
    std::vector<double> gaps;
    std::vector<double> to_1pct;  // -1: not reached
  };
  std::map<std::string, FamilyStats> families;
  for (const auto& [name, bks] : *bounds) {
    if (!args.only.empty() && !absl::StartsWith(name, args.only)) continue;
    auto inst = sched::ReadJsspFile(args.dir + "/" + name + ".txt");
    if (!inst.ok()) {
      err << "takt: bench schedule: " << inst.status().message() << "\n";
      return 2;
    }
    sched::SolveOptions o;
    o.time_limit = absl::Seconds(args.time_limit);
    o.seed = args.seed;
    o.target = static_cast<double>(bks);  // stop at the best known
    auto r = sched::Solve(inst->problem, o);
    if (!r.ok()) {
      err << "takt: bench schedule: " << name << ": " << r.status().message() << "\n";
      return 2;
    }
    const double gap = 100.0 * static_cast<double>(r->kpis.makespan - bks) / static_cast<double>(bks);
    const double to1 = SecondsToWithin(*r, static_cast<double>(bks), 1.0);
    FamilyStats& f = families[Family(name)];
    f.gaps.push_back(gap);
    f.to_1pct.push_back(to1);
    if (args.json) {
      out << absl::StrFormat(
          "{\"name\":\"jssp_%s\",\"makespan\":%d,\"best_known\":%d,\"gap_pct\":%.3f,"
          "\"seconds_to_1pct\":%.3f,\"initial_makespan\":%d,\"iterations\":%d}\n",
          name, r->kpis.makespan, bks, gap, to1, r->initial.makespan, r->iterations);
    } else {
      out << absl::StrFormat("%-8s best known %5d  found %5d  gap %6.2f%%  within 1%% after %s  "
                             "(heuristic %d, %d iterations)\n",
                             name, bks, r->kpis.makespan, gap,
                             to1 < 0 ? std::string("never") : absl::StrFormat("%.2f s", to1),
                             r->initial.makespan, r->iterations);
    }
    out.flush();
  }
  for (const auto& [family, f] : families) {
    double sum = 0, worst = 0, t_sum = 0;
    int reached = 0;
    for (double g : f.gaps) {
      sum += g;
      worst = std::max(worst, g);
    }
    for (double t : f.to_1pct) {
      if (t >= 0) {
        ++reached;
        t_sum += t;
      }
    }
    const double mean = sum / static_cast<double>(f.gaps.size());
    const double mean_t = reached > 0 ? t_sum / reached : -1;
    if (args.json) {
      out << absl::StrFormat(
          "{\"name\":\"schedule_%s\",\"instances\":%d,\"mean_gap_pct\":%.3f,\"worst_gap_pct\":%.3f,"
          "\"within_1pct\":%d,\"mean_seconds_to_1pct\":%.3f,\"time_limit_s\":%.1f}\n",
          family, f.gaps.size(), mean, worst, reached, mean_t, args.time_limit);
    } else {
      out << absl::StrFormat(
          "family %-4s %2d instances: mean gap %.2f%%, worst %.2f%%, %d within 1%% (mean %.2f s to "
          "get there), %.0f s per instance\n",
          family, f.gaps.size(), mean, worst, reached, mean_t, args.time_limit);
    }
  }
  return 0;
}

}  // namespace takt::cli
