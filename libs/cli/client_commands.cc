#include "libs/cli/client_commands.h"

#include "libs/cli/grpc_client.h"

#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/ids.h"
#include "libs/crypto/sha256.h"
#include "libs/model/enterprise_model.h"
#include "libs/server/takt_server.h"
#include "libs/sim/simulator.h"
#include "services/enterprise/definitions_yaml.h"
#include "services/scheduling/ingest.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt::cli {
namespace {

namespace ev1 = ::takt::enterprise::v1;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  server::ServerOptions o;
  o.data_dir = args.data_dir;
  o.listen = args.listen;
  o.kafka_brokers = args.kafka_brokers;
  o.owner_id = args.owner_id;
  o.services = args.services;
  auto earliest = model::ParseDay(args.earliest_observation);
  if (!earliest.ok()) {
    err << "takt: serve: --earliest-observation: " << earliest.status().message() << "\n";
    return 2;
  }
  o.earliest_observation = absl::FromCivil(*earliest, absl::UTCTimeZone());
  if (args.max_lateness_days < 0) {
    err << "takt: serve: --max-lateness-days is " << args.max_lateness_days
        << ": must be 0 (no bound) or more\n";
    return 2;
  }
  o.max_lateness = absl::Hours(24) * args.max_lateness_days;
  auto server = server::TaktServer::Start(o);
  if (!server.ok()) {
    err << "takt: serve: " << server.status().message() << "\n";
    return 2;
  }
  out << "takt serving on port " << (*server)->port() << " ("
      << (args.services.empty() ? std::string("all services") : absl::StrJoin(args.services, ", "))
      << "; data in " << args.data_dir << ", "
      << (args.kafka_brokers.empty() ? std::string("embedded log")
                                     : "Kafka log at " + args.kafka_brokers + ", owner " + args.owner_id)
      << ")" << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::thread waiter([&] { (*server)->Wait(); });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*server)->Shutdown();
  waiter.join();
  return 0;
}

int RunApply(const ApplyArgs& args, std::ostream& out, std::ostream& err) {
  std::ifstream in(args.file);
  if (!in) {
    err << "takt: apply: cannot read " << args.file << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = enterprise::ParseDefinitionsYaml(text.str(), args.file);
  if (!parsed.ok()) {
    err << "takt: apply: " << parsed.status().message() << "\n";
    return 2;
  }
  ev1::ApplyDefinitionsRequest req = *std::move(parsed);
  req.set_validate_only(args.dry_run);
  // One request id per invocation (see schedule apply): the definitions are
  // idempotent themselves, so applying the same file twice changes nothing.
  req.set_request_id(NewUuid());
  auto channel = Connect(args.target, "enterprise", err);
  if (!channel) return 2;
  auto stub = ev1::EnterpriseService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ev1::ApplyDefinitionsResponse resp;
  grpc::Status s = stub->ApplyDefinitions(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "apply", s);
  if (args.dry_run) {
    // The events the server would write, one per line, then nothing written.
    for (const auto& d : resp.would_write()) out << ToJson(d) << "\n";
  }
  if (args.json) {
    out << absl::StrFormat("{\"file\":\"%s\",\"changed\":%d,\"unchanged\":%d,\"dry_run\":%s}\n",
                           absl::CHexEscape(args.file), resp.changed(), resp.unchanged(),
                           args.dry_run ? "true" : "false");
  } else {
    out << (args.dry_run ? "would apply " : "applied ") << args.file << ": " << resp.changed()
        << " changed, " << resp.unchanged() << " unchanged" << (args.dry_run ? " (nothing written)" : "")
        << "\n";
  }
  return 0;
}

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
    out << absl::StrFormat("{\"accepted\":%d,\"duplicates\":%d,\"rejected\":%d}\n", accepted,
                           duplicates, rejected);
  } else {
    out << "ingested " << args.file << ": " << accepted << " accepted, " << duplicates
        << " duplicates, " << rejected << " rejected\n";
  }
  return rejected == 0 ? 0 : 1;
}

int RunRollup(const RollupArgs& args, std::ostream& out, std::ostream& err) {
  rollups::v1::QueryKpisRequest req;
  req.set_scope(args.scope);
  for (const auto& k : args.kpis) req.add_kpis(k);
  req.set_from(args.from);
  req.set_to(args.to);
  req.set_by(args.by);
  req.set_downtime_pareto(args.pareto);
  auto channel = Connect(args.target, "rollups", err);
  if (!channel) return 2;
  auto stub = rollups::v1::RollupService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  rollups::v1::QueryKpisResponse resp;
  grpc::Status s = stub->QueryKpis(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "rollup", s);
  if (args.json) {
    out << ToJson(resp) << "\n";
    return 0;
  }
  auto print_row = [&](const rollups::v1::Row& row) {
    std::vector<std::string> cells;
    for (const auto& k : row.kpis()) {
      cells.push_back(k.has_value() ? absl::StrFormat("%s %.1f%s", k.kpi(), k.value(),
                                                      k.unit() == "%" ? "%" : " " + k.unit())
                                    : absl::StrCat(k.kpi(), " -"));
    }
    out << absl::StrFormat("%-44s %s\n", row.label(), absl::StrJoin(cells, "  "));
  };
  print_row(resp.total());
  for (const auto& row : resp.rows()) {
    out << "  ";
    print_row(row);
  }
  if (resp.downtime_pareto_size() > 0) out << "downtime by reason:\n";
  for (const auto& d : resp.downtime_pareto()) {
    out << absl::StrFormat("  %-28s %8.2f h %6d stoppages %5.1f%%\n", d.reason(), d.hours(),
                           d.stoppages(), d.share());
  }
  out << "(reflects " << resp.positions_size() << " stream positions; " << resp.lag_events()
      << " events not yet applied)\n";
  return 0;
}

namespace {

double KpiOf(const rollups::v1::Row& row, const std::string& id) {
  for (const auto& k : row.kpis()) {
    if (k.kpi() == id && k.has_value()) return k.value();
  }
  return -1;
}

std::string Pct(double v) { return v < 0 ? std::string("   -  ") : absl::StrFormat("%5.1f%%", v); }

}  // namespace

int RunSimulate(const SimulateArgs& args, std::ostream& out, std::ostream& err) {
  sim::SimOptions o;
  o.facilities = args.facilities;
  o.days = args.days;
  o.seed = args.seed;
  if (args.start.empty()) {
    o.start = absl::CivilDay(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())) - args.days - 1;
  } else {
    auto day = model::ParseDay(args.start);
    if (!day.ok()) {
      err << "takt: simulate: --start: " << day.status().message() << "\n";
      return 2;
    }
    o.start = *day;
  }
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
    out << absl::StrFormat(
        "{\"plants\":%d,\"days\":%d,\"start\":\"%s\",\"seed\":%d,\"observations\":%d,"
        "\"batches\":%d,\"resent_batches\":%d,\"late_batches\":%d,\"recorded\":%d,"
        "\"duplicates\":%d,\"rejected\":%d,\"seconds\":%.3f}\n",
        args.facilities, args.days, absl::FormatCivilTime(o.start), args.seed, s.observations,
        s.batches.size(), s.resent_batches, s.late_batches, accepted, duplicates, rejected, seconds);
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
  return rejected == 0 ? 0 : 1;
}

}  // namespace takt::cli
