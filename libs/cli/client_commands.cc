#include "libs/cli/client_commands.h"

#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/ids.h"
#include "libs/crypto/sha256.h"
#include "libs/server/takt_server.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt::cli {
namespace {

namespace ev1 = ::takt::enterprise::v1;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

int Fail(std::ostream& err, const std::string& what, const grpc::Status& s) {
  err << "takt: " << what << ": " << s.error_message() << " (gRPC code " << s.error_code()
      << ")\n";
  return 2;
}

std::string Str(const YAML::Node& n, const char* key, const std::string& fallback = "") {
  return n[key] ? n[key].as<std::string>() : fallback;
}

// Parses a duration like "42s", "1.5s", "250ms" or a bare number of seconds.
int64_t DurationMicros(const std::string& s) {
  double v = std::stod(s);
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") return static_cast<int64_t>(v * 1000);
  if (s.size() > 2 && s.substr(s.size() - 2) == "us") return static_cast<int64_t>(v);
  if (!s.empty() && s.back() == 'm') return static_cast<int64_t>(v * 60'000'000);
  return static_cast<int64_t>(v * 1'000'000);
}

// The YAML description of an enterprise, as definitions in dependency order.
ev1::ApplyDefinitionsRequest DefinitionsFromYaml(const YAML::Node& root) {
  ev1::ApplyDefinitionsRequest req;
  for (const auto& r : root["regions"]) {
    auto* d = req.add_definitions()->mutable_region();
    d->set_region(Str(r, "id"));
    d->set_display_name(Str(r, "name"));
  }
  for (const auto& p : root["products"]) {
    auto* d = req.add_definitions()->mutable_product();
    d->set_product(Str(p, "id"));
    d->set_display_name(Str(p, "name"));
    d->set_planned_run_time_per_item_us(DurationMicros(Str(p, "planned_run_time_per_item", "0")));
  }
  for (const auto& f : root["facilities"]) {
    const std::string id = Str(f, "id");
    auto* fd = req.add_definitions()->mutable_facility();
    fd->set_facility(id);
    fd->set_display_name(Str(f, "name"));
    const YAML::Node cal = f["calendar"];
    fd->mutable_calendar()->set_time_zone(Str(cal, "time_zone"));
    fd->mutable_calendar()->set_day_start(Str(cal, "day_start", "00:00"));
    for (const auto& s : cal["shifts"]) {
      auto* shift = fd->mutable_calendar()->add_shifts();
      shift->set_name(Str(s, "name"));
      shift->set_start(Str(s, "start"));
      shift->set_end(Str(s, "end"));
    }
    if (f["region"]) {
      auto* mv = req.add_definitions()->mutable_move();
      mv->set_facility(id);
      mv->set_region(Str(f, "region"));
      mv->set_effective_from(Str(f, "region_from", "2000-01-01"));
    }
    for (const auto& a : f["areas"]) {
      auto* ad = req.add_definitions()->mutable_area();
      ad->set_facility(id);
      ad->set_area(Str(a, "id"));
      ad->set_display_name(Str(a, "name"));
      for (const auto& w : a["work_centers"]) {
        auto* wd = req.add_definitions()->mutable_work_center();
        wd->set_facility(id);
        wd->set_area(Str(a, "id"));
        wd->set_work_center(Str(w, "id"));
        wd->set_display_name(Str(w, "name"));
        for (const auto& u : w["work_units"]) {
          auto* ud = req.add_definitions()->mutable_work_unit();
          ud->set_facility(id);
          ud->set_work_center(Str(w, "id"));
          ud->set_work_unit(u.IsMap() ? Str(u, "id") : u.as<std::string>());
          if (u.IsMap()) ud->set_display_name(Str(u, "name"));
        }
      }
    }
  }
  for (const auto& m : root["moves"]) {
    auto* mv = req.add_definitions()->mutable_move();
    mv->set_facility(Str(m, "facility"));
    mv->set_region(Str(m, "region"));
    mv->set_effective_from(Str(m, "effective_from"));
  }
  return req;
}

}  // namespace

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  server::ServerOptions o;
  o.data_dir = args.data_dir;
  o.listen = args.listen;
  auto server = server::TaktServer::Start(o);
  if (!server.ok()) {
    err << "takt: serve: " << server.status().message() << "\n";
    return 2;
  }
  out << "takt serving on port " << (*server)->port() << " (data in " << args.data_dir
      << ", embedded log)" << std::endl;
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
  ev1::ApplyDefinitionsRequest req;
  try {
    req = DefinitionsFromYaml(YAML::Load(text.str()));
  } catch (const std::exception& e) {  // yaml-cpp and stod report by exception
    err << "takt: apply: " << args.file << ": " << e.what() << "\n";
    return 2;
  }
  // The same file gives the same request id: applying it twice is a no-op.
  req.set_request_id(absl::StrCat("apply-", HexEncode(crypto::Sha256().Digest(text.str())).substr(0, 32)));
  auto stub = ev1::EnterpriseService::NewStub(Connect(args.target));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ev1::ApplyDefinitionsResponse resp;
  grpc::Status s = stub->ApplyDefinitions(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "apply", s);
  out << "applied " << args.file << ": " << resp.changed() << " changed, " << resp.unchanged()
      << " unchanged\n";
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
    batches.push_back(std::move(b));
  }
  auto stub = scheduling::v1::FacilityIngestService::NewStub(Connect(args.target));
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
    rejected += static_cast<uint64_t>(ack.rejected_size());
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
  auto stub = rollups::v1::RollupService::NewStub(Connect(args.target));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  rollups::v1::QueryKpisResponse resp;
  grpc::Status s = stub->QueryKpis(&ctx, req, &resp);
  if (!s.ok()) return Fail(err, "rollup", s);
  if (args.json) {
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(resp, &json, o);
    out << json << "\n";
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
  out << "(reflects " << resp.positions_size() << " stream positions; " << resp.lag_events()
      << " events not yet applied)\n";
  return 0;
}

}  // namespace takt::cli
