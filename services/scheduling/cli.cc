#include "services/scheduling/cli.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "nlohmann/json.hpp"
#include "CLI/CLI.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/cli/grpc_client.h"
#include "libs/cli/simulate_steps.h"
#include "libs/common/ids.h"
#include "libs/crypto/sha256.h"
#include "libs/model/enterprise_model.h"
#include "services/scheduling/ingest.h"
#include "services/scheduling/schedule_cli.h"
#include "services/scheduling/sim/simulator.h"
#include "google/protobuf/util/json_util.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt::cli {
namespace {

namespace ev1 = ::takt::enterprise::v1;

double KpiOf(const rollups::v1::Row& row, const std::string& id) {
  for (const auto& k : row.kpis()) {
    if (k.kpi() == id && k.has_value()) return k.value();
  }
  return -1;
}

std::string Pct(double v) { return v < 0 ? std::string("   -  ") : absl::StrFormat("%5.1f%%", v); }

constexpr char kTargetHelp[] =
    "Server address host:port, or one per service when they run as separate processes: "
    "enterprise=A,scheduling=B,rollups=C";

}  // namespace

int RunIngest(const IngestArgs& args, std::ostream& out, std::ostream& err) {
  std::ifstream in(args.file);
  if (!in) {
    err << "takt: ingest: cannot read " << args.file << "\n";
    return 2;
  }
  std::vector<scheduling::v1::ObservationBatch> batches;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    scheduling::v1::ObservationBatch b;
    auto st = google::protobuf::util::JsonStringToMessage(line, &b);
    if (!st.ok()) {
      err << "takt: ingest: " << args.file << ":" << n << ": " << st.message() << "\n";
      return 2;
    }
    if (b.batch_id() == 0) b.set_batch_id(static_cast<uint64_t>(n));
    // The server takes at most kMaxObservationsPerBatch per batch: split.
    if (b.observations_size() <= scheduling::kMaxObservationsPerBatch) {
      batches.push_back(std::move(b));
      continue;
    }
    for (int from = 0; from < b.observations_size(); from += scheduling::kMaxObservationsPerBatch) {
      scheduling::v1::ObservationBatch part;
      part.set_facility(b.facility());
      part.set_batch_id(b.batch_id());
      const int to = std::min(b.observations_size(), from + scheduling::kMaxObservationsPerBatch);
      for (int i = from; i < to; ++i) *part.add_observations() = b.observations(i);
      batches.push_back(std::move(part));
    }
  }
  auto channel = Connect(args.target, "scheduling", err);
  if (!channel) return 2;
  auto stub = scheduling::v1::FacilityIngestService::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->StreamObservations(&ctx);
  std::thread writer([&] {
    for (const auto& b : batches) {
      if (!stream->Write(b)) break;
    }
    stream->WritesDone();
  });
  uint64_t accepted = 0, duplicates = 0, rejected = 0;
  scheduling::v1::IngestAck ack;
  while (stream->Read(&ack)) {
    accepted += ack.accepted();
    duplicates += ack.duplicates();
    rejected += static_cast<uint64_t>(ack.rejected_size()) + ack.rejected_not_listed();
    if (ack.rejected_not_listed() > 0) {
      err << absl::StrFormat("batch %d: %d more rejections not listed\n", ack.batch_id(),
                             ack.rejected_not_listed());
    }
    for (const auto& r : ack.rejected()) {
      err << absl::StrFormat("rejected batch %d #%d (%s/%d): %s\n", ack.batch_id(), r.index(),
                             r.source_id(), r.source_sequence(), r.reason());
    }
  }
  writer.join();
  grpc::Status s = stream->Finish();
  if (!s.ok()) return Fail(err, "ingest", s);
  if (args.json) {
    out << nlohmann::json{{"accepted", accepted}, {"duplicates", duplicates}, {"rejected", rejected}}
               .dump()
        << "\n";
  } else {
    out << "ingested " << args.file << ": " << accepted << " accepted, " << duplicates
        << " duplicates, " << rejected << " rejected\n";
  }
  return rejected == 0 ? 0 : 1;
}

int RunSimulate(const SimulateArgs& args, std::ostream& out, std::ostream& err) {
  sim::SimOptions o;
  o.facilities = args.facilities;
  o.days = args.days;
  o.seed = args.seed;
  auto start = SimulationStart(args.start, args.days, "simulate", err);
  if (!start) return 2;
  o.start = *start;
  sim::Simulation s = sim::Simulate(o);
  auto enterprise_channel = Connect(args.target, "enterprise", err);
  auto scheduling_channel = Connect(args.target, "scheduling", err);
  auto rollups_channel = Connect(args.target, "rollups", err);
  if (!enterprise_channel || !scheduling_channel || !rollups_channel) return 2;
  {
    auto stub = enterprise::v1::EnterpriseService::NewStub(enterprise_channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    enterprise::v1::ApplyDefinitionsResponse resp;
    grpc::Status st = stub->ApplyDefinitions(&ctx, s.enterprise, &resp);
    if (!st.ok()) return Fail(err, "simulate: enterprise", st);
  }
  absl::Time t0 = absl::Now();
  uint64_t accepted = 0, duplicates = 0, rejected = 0;
  {
    auto stub = scheduling::v1::FacilityIngestService::NewStub(scheduling_channel);
    grpc::ClientContext ctx;
    auto stream = stub->StreamObservations(&ctx);
    std::thread writer([&] {
      for (const auto& b : s.batches) {
        if (!stream->Write(b)) break;
      }
      stream->WritesDone();
    });
    scheduling::v1::IngestAck ack;
    // Progress on a terminal, every second (long runs are otherwise silent).
    const bool progress = isatty(STDERR_FILENO) != 0;
    absl::Time shown = absl::Now();
    size_t acked = 0;
    while (stream->Read(&ack)) {
      ++acked;
      accepted += ack.accepted();
      duplicates += ack.duplicates();
      rejected += static_cast<uint64_t>(ack.rejected_size()) + ack.rejected_not_listed();
      for (const auto& r : ack.rejected()) err << "rejected: " << r.reason() << "\n";
      if (progress && absl::Now() - shown > absl::Seconds(1)) {
        shown = absl::Now();
        err << absl::StrFormat("\rtakt simulate: %d of %d batches acknowledged", acked,
                               s.batches.size())
            << std::flush;
      }
    }
    if (progress) err << "\r\033[K" << std::flush;
    writer.join();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return Fail(err, "simulate: ingest", st);
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - t0);
  if (args.json) {
    out << nlohmann::json{{"plants", args.facilities},
                          {"days", args.days},
                          {"start", absl::FormatCivilTime(o.start)},
                          {"seed", args.seed},
                          {"observations", s.observations},
                          {"batches", s.batches.size()},
                          {"resent_batches", s.resent_batches},
                          {"late_batches", s.late_batches},
                          {"recorded", accepted},
                          {"duplicates", duplicates},
                          {"rejected", rejected},
                          {"seconds", seconds}}
               .dump()
        << "\n";
    return rejected == 0 ? 0 : 1;
  }
  out << absl::StrFormat(
      "simulated %d plants x %d days from %s (seed %d): %d observations in %d batches "
      "(%d resent, %d late), %d recorded, %d duplicates acknowledged, %d rejected, in %.1f s\n",
      args.facilities, args.days, absl::FormatCivilTime(o.start), args.seed, s.observations,
      s.batches.size(), s.resent_batches, s.late_batches, accepted, duplicates, rejected, seconds);
  if (!args.summary) return rejected == 0 ? 0 : 1;

  // Director's summary once the rollups have caught up.
  auto stub = rollups::v1::RollupService::NewStub(rollups_channel);
  auto query = [&](const std::string& scope, const std::string& by, std::vector<std::string> kpis,
                   bool pareto = false) -> absl::StatusOr<rollups::v1::QueryKpisResponse> {
    rollups::v1::QueryKpisRequest req;
    req.set_downtime_pareto(pareto);
    req.set_scope(scope);
    for (auto& k : kpis) req.add_kpis(k);
    req.set_from(absl::FormatCivilTime(o.start));
    req.set_to(absl::FormatCivilTime(o.start + (args.days - 1)));
    req.set_by(by);
    grpc::ClientContext ctx;
    rollups::v1::QueryKpisResponse resp;
    grpc::Status st = stub->QueryKpis(&ctx, req, &resp);
    if (!st.ok()) return absl::Status(static_cast<absl::StatusCode>(st.error_code()), st.error_message());
    return resp;
  };
  const std::vector<std::string> aeq = {"oee", "availability", "effectiveness", "quality_ratio"};
  absl::StatusOr<rollups::v1::QueryKpisResponse> regions;
  for (int i = 0; i < 300; ++i) {
    regions = query("enterprise", "child", aeq);
    if (!regions.ok() || regions->lag_events() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!regions.ok()) {
    err << "takt: simulate: " << regions.status().message() << "\n";
    return 2;
  }
  out << "\nDirector's summary, production days " << absl::FormatCivilTime(o.start) << " to "
      << absl::FormatCivilTime(o.start + (args.days - 1)) << " (each plant's own time zone)\n";
  out << absl::StrFormat("  %-30s %7s %7s %7s %7s\n", "scope", "OEE", "A", "E", "Q");
  auto line = [&](const rollups::v1::Row& row, const std::string& indent) {
    out << absl::StrFormat("  %-30s %7s %7s %7s %7s\n", indent + row.label(), Pct(KpiOf(row, "oee")),
                           Pct(KpiOf(row, "availability")), Pct(KpiOf(row, "effectiveness")),
                           Pct(KpiOf(row, "quality_ratio")));
  };
  line(regions->total(), "");
  std::string worst;
  double worst_oee = 1e9;
  for (const auto& region : regions->rows()) {
    line(region, "  ");
    auto plants = query(region.label(), "child", aeq);
    if (!plants.ok()) continue;
    for (const auto& p : plants->rows()) {
      line(p, "    ");
      double v = KpiOf(p, "oee");
      if (v >= 0 && v < worst_oee) {
        worst_oee = v;
        worst = p.label();
      }
    }
  }
  if (!worst.empty()) {
    auto detail = query(worst, "shift", {"oee", "mtbf", "mttr", "scrap_ratio", "setup_ratio"}, true);
    if (detail.ok()) {
      const auto& t = detail->total();
      out << absl::StrFormat(
          "\n  Worst plant: %s at %.1f%% OEE; MTBF %.1f h, MTTR %.2f h, scrap %.1f%%, setup %.1f%%\n",
          worst, KpiOf(t, "oee"), KpiOf(t, "mtbf"), KpiOf(t, "mttr"), KpiOf(t, "scrap_ratio"),
          KpiOf(t, "setup_ratio"));
      double lowest = 1e9;
      std::string lowest_shift;
      for (const auto& row : detail->rows()) {
        double v = KpiOf(row, "oee");
        if (v >= 0 && v < lowest) {
          lowest = v;
          lowest_shift = row.label();
        }
      }
      if (!lowest_shift.empty()) {
        out << absl::StrFormat("  Its weakest shift: %s at %.1f%% OEE\n", lowest_shift, lowest);
      }
      out << "  Its top downtime reasons:\n";
      for (int i = 0; i < std::min(3, detail->downtime_pareto_size()); ++i) {
        const auto& d = detail->downtime_pareto(i);
        out << absl::StrFormat("    %-22s %6.1f h in %3d stoppages (%4.1f%% of downtime)\n",
                               d.reason(), d.hours(), d.stoppages(), d.share());
      }
    }
  }
  out << absl::StrFormat("  (reflects %d stream positions; %d events not yet applied)\n",
                         regions->positions_size(), regions->lag_events());
  // The other contexts' data for the same plants and days (cli/simulate_steps.h).
  int code = rejected == 0 ? 0 : 1;
  for (const auto& [name, step] : cli::SimulateSteps()) {
    out << "\n";
    const int c = step({args.target, o.facilities, o.days, o.seed, o.start}, out, err);
    if (c != 0) code = c;
  }
  return code;
}


void AddSchedulingCommands(CLI::App& app, int* exit_code) {
  struct State {
    IngestArgs ingest;
  };
  auto st = std::make_shared<State>();

  CLI::App* ingest_cmd = app.add_subcommand(
      "ingest", "Stream observation batches from a JSON Lines file (one ObservationBatch per line)");
  ingest_cmd->add_option("--target", st->ingest.target, kTargetHelp)->capture_default_str();
  ingest_cmd->add_option("--file", st->ingest.file, "observations .jsonl")->required();
  ingest_cmd->add_flag("--json", st->ingest.json, "JSON summary");
  ingest_cmd->callback([=] { *exit_code = RunIngest(st->ingest, std::cout, std::cerr); });

  struct SimState {
    SimulateArgs simulate;
  };
  auto sim_st = std::make_shared<SimState>();

  CLI::App* simulate_cmd = app.add_subcommand(
      "simulate", "Simulate plants and their gateways through the public API, then summarise");
  simulate_cmd->add_option("--target", sim_st->simulate.target, kTargetHelp)->capture_default_str();
  simulate_cmd->add_option("--facilities", sim_st->simulate.facilities, "Plants")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  simulate_cmd->add_option("--days", sim_st->simulate.days, "Production days")
      ->check(CLI::Range(1, 366))
      ->capture_default_str();
  simulate_cmd->add_option("--seed", sim_st->simulate.seed, "Random seed")->capture_default_str();
  simulate_cmd->add_option("--start", sim_st->simulate.start,
                           "First production day YYYY-MM-DD (default: days before yesterday)");
  simulate_cmd->add_flag("--json", sim_st->simulate.json,
                         "One JSON object of counts instead of the summary");
  simulate_cmd->callback([=] { *exit_code = RunSimulate(sim_st->simulate, std::cout, std::cerr); });

  struct ScheduleState {
    ScheduleJsspArgs jssp;
    ScheduleClientArgs plan;
  };
  auto sst = std::make_shared<ScheduleState>();
  // takt schedule ...
  CLI::App* schedule = app.add_subcommand("schedule", "Finite-capacity scheduling");
  schedule->require_subcommand(1);

  CLI::App* jssp_cmd = schedule->add_subcommand(
      "jssp", "Solve a classic job-shop instance (OR-Library format); writes 'job op machine "
              "start end' lines and prints the makespan");
  jssp_cmd->add_option("--instance", sst->jssp.instance, "Instance file")->required();
  jssp_cmd->add_option("--time-limit", sst->jssp.time_limit, "Seconds of search")->capture_default_str();
  jssp_cmd->add_option("--seed", sst->jssp.seed, "Random seed")->capture_default_str();
  jssp_cmd->add_option("--iterations", sst->jssp.iterations,
                       "Stop after this many iterations instead (deterministic for a seed)");
  jssp_cmd->add_option("--out", sst->jssp.out, "Schedule file (default: standard output)");
  jssp_cmd->add_flag("--json", sst->jssp.json, "Summary as JSON");
  jssp_cmd->callback([=] { *exit_code = RunScheduleJssp(sst->jssp, std::cout, std::cerr); });


  auto plan_common = [=](CLI::App* cmd) {
    cmd->add_option("--target", sst->plan.target, kTargetHelp)->capture_default_str();
    cmd->add_option("--facility", sst->plan.facility, "Facility id")->required();
  };
  CLI::App* plan_apply = schedule->add_subcommand(
      "apply", "Send planning commands (routings, setups, calendar exceptions, work orders and "
               "their lifecycle) from a JSON Lines file, one PlanningCommand per line; idempotent");
  plan_common(plan_apply);
  plan_apply->add_option("--file", sst->plan.file, "commands .jsonl")->required();
  plan_apply->add_flag("--json", sst->plan.json, "Protobuf JSON of the response");
  plan_apply->callback([=] { *exit_code = RunScheduleApply(sst->plan, std::cout, std::cerr); });
  CLI::App* plan_propose = schedule->add_subcommand(
      "propose", "What-if: plan the released work orders on finite capacity; commits nothing");
  plan_common(plan_propose);
  plan_propose->add_option("--objective", sst->plan.objective, "makespan | weighted_tardiness | late_orders")
      ->capture_default_str();
  plan_propose->add_option("--direction", sst->plan.direction, "forward | backward (from due dates)")
      ->capture_default_str();
  plan_propose->add_option("--horizon-start", sst->plan.horizon_start, "RFC 3339 (default: now)");
  plan_propose->add_option("--horizon-days", sst->plan.horizon_days, "Days of calendar")->capture_default_str();
  plan_propose->add_flag("--respect-crew", sst->plan.respect_crew,
                         "Plan a unit only in shifts where its station has the qualified crew the "
                         "roster requires (takt staffing); lists the shifts that were short");
  plan_propose->add_option("--time-limit", sst->plan.time_limit, "Seconds of search")->capture_default_str();
  plan_propose->add_option("--iterations", sst->plan.iterations, "Stop after this many (deterministic)");
  plan_propose->add_option("--seed", sst->plan.seed, "Random seed")->capture_default_str();
  plan_propose->add_option("--out", sst->plan.out, "Write the proposal's JSON here, for commit");
  plan_propose->add_flag("--json", sst->plan.json, "Protobuf JSON of the proposal");
  plan_propose->callback([=] { *exit_code = RunSchedulePropose(sst->plan, std::cout, std::cerr); });
  CLI::App* plan_commit = schedule->add_subcommand(
      "commit", "Commit a proposal (checked again against the current orders and calendars)");
  plan_common(plan_commit);
  plan_commit->add_option("--file", sst->plan.file, "proposal .json from propose --out")->required();
  plan_commit->add_flag("--json", sst->plan.json, "Protobuf JSON of the response");
  plan_commit->callback([=] { *exit_code = RunScheduleCommit(sst->plan, std::cout, std::cerr); });
  CLI::App* plan_orders = schedule->add_subcommand("orders", "Work orders and their planned windows");
  plan_common(plan_orders);
  plan_orders->add_flag("--json", sst->plan.json, "Protobuf JSON");
  plan_orders->callback([=] { *exit_code = RunScheduleOrders(sst->plan, std::cout, std::cerr); });

}

}  // namespace takt::cli
