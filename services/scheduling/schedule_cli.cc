#include "services/scheduling/schedule_cli.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "nlohmann/json.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "libs/cli/grpc_client.h"
#include "libs/common/proto_time.h"
#include "libs/crypto/sha256.h"
#include "libs/common/ids.h"
#include "services/scheduling/planning.h"
#include "services/scheduling/solver/jssp.h"
#include "services/scheduling/solver/solver.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt::cli {
namespace {

namespace sv1 = ::takt::scheduling::v1;


std::string Local(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", ToTime(t), absl::UTCTimeZone());
}

std::unique_ptr<sv1::SchedulingService::Stub> Stub(const ScheduleClientArgs& args, std::ostream& err) {
  auto channel = Connect(args.target, "scheduling", err);
  if (!channel) return nullptr;
  return sv1::SchedulingService::NewStub(channel);
}

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return false;
  std::stringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

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
    (args.out.empty() ? err : out) << nlohmann::json{{"makespan", r->kpis.makespan},
                                                     {"initial_makespan", r->initial.makespan},
                                                     {"iterations", r->iterations},
                                                     {"seconds", r->seconds}}
                                          .dump()
                                   << "\n";
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
      out << nlohmann::json{{"name", "jssp_" + name},         {"makespan", r->kpis.makespan},
                            {"best_known", bks},               {"gap_pct", gap},
                            {"seconds_to_1pct", to1},          {"initial_makespan", r->initial.makespan},
                            {"iterations", r->iterations}}
                 .dump()
          << "\n";
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
      out << nlohmann::json{{"name", "schedule_" + family},  {"instances", f.gaps.size()},
                            {"mean_gap_pct", mean},            {"worst_gap_pct", worst},
                            {"within_1pct", reached},          {"mean_seconds_to_1pct", mean_t},
                            {"time_limit_s", args.time_limit}}
                 .dump()
          << "\n";
    } else {
      out << absl::StrFormat(
          "family %-4s %2d instances: mean gap %.2f%%, worst %.2f%%, %d within 1%% (mean %.2f s to "
          "get there), %.0f s per instance\n",
          family, f.gaps.size(), mean, worst, reached, mean_t, args.time_limit);
    }
  }
  return 0;
}

int RunScheduleApply(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err) {
  std::string text;
  if (!ReadFile(args.file, &text)) {
    err << "takt: schedule apply: cannot read " << args.file << "\n";
    return 2;
  }
  sv1::ExecuteRequest req;
  req.set_facility(args.facility);
  std::stringstream lines(text);
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto st = google::protobuf::util::JsonStringToMessage(line, req.add_commands());
    if (!st.ok()) {
      err << "takt: schedule apply: " << args.file << ":" << n << ": " << st.message() << "\n";
      return 2;
    }
  }
  // One request id per invocation (AIP-155: an id names one attempt, which
  // the server answers the same when it is resent). A file-derived id would
  // make applying A, then B, then A again replay A's first answer and
  // change nothing; the commands themselves are idempotent anyway.
  req.set_request_id(NewUuid());
  auto stub = Stub(args, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  sv1::ExecuteResponse resp;
  grpc::Status s = stub->Execute(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "schedule apply", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  out << "applied " << args.file << " to " << args.facility << ": " << resp.changed()
      << " changed, " << resp.unchanged() << " unchanged\n";
  return 0;
}

int RunSchedulePropose(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err) {
  sv1::ScheduleRequest req;
  req.set_facility(args.facility);
  req.set_objective(args.objective);
  req.set_direction(args.direction);
  req.set_horizon_days(args.horizon_days);
  req.set_time_limit_ms(static_cast<int>(args.time_limit * 1000));
  req.set_max_iterations(args.iterations);
  req.set_seed(args.seed);
  req.set_respect_crew(args.respect_crew);
  if (!args.horizon_start.empty() &&
      !google::protobuf::util::TimeUtil::FromString(args.horizon_start, req.mutable_horizon_start())) {
    err << "takt: schedule propose: --horizon-start: not an RFC 3339 time (2026-03-02T06:00:00Z)\n";
    return 2;
  }
  auto stub = Stub(args, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(args.time_limit * 1000) + 60000));
  sv1::Schedule resp;
  grpc::Status s = stub->ProposeSchedule(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "schedule propose", s);
  if (!args.out.empty()) {
    std::ofstream f(args.out, std::ios::trunc);
    f << ToJson(resp) << "\n";
    if (!f) {
      err << "takt: schedule propose: cannot write " << args.out << "\n";
      return 2;
    }
  }
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  out << absl::StrFormat("proposal %s (%s, %s; nothing committed)\n", resp.schedule_id(),
                         resp.objective(), resp.direction());
  out << absl::StrFormat("  %-16s %-17s %-17s %-17s %s\n", "work order", "planned start UTC",
                         "planned end UTC", "due UTC", "lateness");
  for (const auto& o : resp.orders()) {
    out << absl::StrFormat("  %-16s %-17s %-17s %-17s %s\n", o.work_order(), Local(o.planned_start()),
                           Local(o.planned_end()), o.has_due_time() ? Local(o.due_time()) : "-",
                           o.has_due_time() ? absl::StrFormat("%+.1f h", o.lateness_seconds() / 3600.0)
                                            : std::string("-"));
  }
  const auto& k = resp.kpis();
  const auto& i = resp.initial_kpis();
  out << absl::StrFormat(
      "  makespan %.1f h, %d late, weighted tardiness %.1f h (construction heuristic: %.1f h, %d "
      "late, %.1f h); %d iterations\n",
      k.makespan_seconds() / 3600.0, k.late_orders(), k.weighted_tardiness_seconds() / 3600.0,
      i.makespan_seconds() / 3600.0, i.late_orders(), i.weighted_tardiness_seconds() / 3600.0,
      resp.iterations());
  if (!resp.note().empty()) out << "  note: " << resp.note() << "\n";
  if (resp.respect_crew()) {
    out << absl::StrFormat("  crew: %d short shift%s closed units before the plan's end%s\n",
                           resp.crew_shortages_total(), resp.crew_shortages_total() == 1 ? "" : "s",
                           resp.crew_shortages_total() == 0 ? "" : ":");
    int shown = 0;
    for (const auto& c : resp.crew_shortages()) {
      if (++shown > 10) {
        out << "    ... (--json lists up to " << scheduling::kMaxCrewShortages << ")\n";
        break;
      }
      out << absl::StrFormat("    %-10s shift %-6s %-14s %u of %u qualified%s\n", c.day(), c.shift(),
                             c.station(), c.qualified(), c.required(),
                             c.qualifications().empty()
                                 ? std::string()
                                 : absl::StrCat(" (", absl::StrJoin(c.qualifications(), ", "), ")"));
    }
  }
  if (!args.out.empty()) out << "  written to " << args.out << " (commit it with takt schedule commit)\n";
  return 0;
}

int RunScheduleCommit(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err) {
  std::string text;
  if (!ReadFile(args.file, &text)) {
    err << "takt: schedule commit: cannot read " << args.file << "\n";
    return 2;
  }
  sv1::CommitScheduleRequest req;
  req.set_facility(args.facility);
  auto st = google::protobuf::util::JsonStringToMessage(text, req.mutable_schedule());
  if (!st.ok()) {
    err << "takt: schedule commit: " << args.file << ": " << st.message() << "\n";
    return 2;
  }
  req.set_request_id(absl::StrCat("commit-", args.facility, "-", req.schedule().schedule_id()));
  auto stub = Stub(args, err);
  if (!stub) return 2;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  sv1::CommitScheduleResponse resp;
  grpc::Status s = stub->CommitSchedule(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "schedule commit", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  out << "committed " << resp.schedule_id() << " for " << args.facility << "\n";
  return 0;
}

int RunScheduleOrders(const ScheduleClientArgs& args, std::ostream& out, std::ostream& err) {
  auto stub = Stub(args, err);
  if (!stub) return 2;
  sv1::ListWorkOrdersRequest req;
  req.set_facility(args.facility);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  sv1::ListWorkOrdersResponse resp;
  grpc::Status s = stub->ListWorkOrders(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "schedule orders", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  out << absl::StrFormat("  %-16s %-10s %-10s %6s %-17s %-17s %-17s\n", "work order", "product",
                         "status", "qty", "due UTC", "planned end UTC", "completed UTC");
  for (const auto& w : resp.work_orders()) {
    out << absl::StrFormat("  %-16s %-10s %-10s %6d %-17s %-17s %-17s\n", w.work_order(), w.product(),
                           w.status(), w.quantity(), w.has_due_time() ? Local(w.due_time()) : "-",
                           w.has_planned_end() ? Local(w.planned_end()) : "-",
                           w.has_completed_time() ? Local(w.completed_time()) : "-");
  }
  out << "committed schedule: "
      << (resp.committed_schedule_id().empty() ? "none" : resp.committed_schedule_id()) << "\n";
  return 0;
}

}  // namespace takt::cli
