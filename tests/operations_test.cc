// What an operator relies on, against a running server: /metrics in the
// Prometheus text format with the figures the runbook names, /livez and
// /readyz agreeing with gRPC health, and a shutdown that stops taking new
// work, gives the calls in flight their grace period and loses nothing
// acknowledged.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"
#include "libs/cli/backup_command.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"
#include "takt/operations/v1/operations.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "services/registry.h"
#include "services/scheduling/sim/simulator.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt {
namespace {

namespace sv1 = ::takt::scheduling::v1;

class OperationsTest : public ::testing::Test {
 protected:
  void Start(const std::string& data_dir = "") {
    host::ServerOptions o;
    o.security.insecure = true;
    o.data_dir = data_dir.empty() ? dir_.path() : data_dir;
    o.listen = "127.0.0.1:0";
    o.admin_listen = "127.0.0.1:0";
    o.shutdown_grace = absl::Seconds(2);
    o.backup_root = backups_.path();
    auto s = services::StartServer(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    admin_ = std::make_unique<httplib::Client>("127.0.0.1", server_->admin_port());
    admin_->set_connection_timeout(2);
  }
  httplib::Result Get(const char* path) { return admin_->Get(path); }

  sim::Simulation Sim() {
    sim::SimOptions so;
    so.facilities = 1;
    so.days = 1;
    so.seed = 3;
    so.start = absl::CivilDay(2026, 2, 2);
    return sim::Simulate(so);
  }

  testing::TempDir dir_;
  testing::TempDir backups_;  // --backup-root
  std::unique_ptr<host::TaktServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<httplib::Client> admin_;
};

// The samples of a text exposition: "name{labels}" -> value; and each
// family's type from its # TYPE line.
struct Exposition {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
};
Exposition Parse(const std::string& text) {
  Exposition e;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      if (parts.size() == 4) e.types[parts[2]] = parts[3];
      continue;
    }
    if (absl::StartsWith(line, "#")) continue;
    const size_t space = line.rfind(' ');
    e.samples[std::string(line.substr(0, space))] = std::stod(std::string(line.substr(space + 1)));
  }
  return e;
}
double Sum(const Exposition& e, const std::string& name, const std::string& label = "") {
  double sum = 0;
  for (const auto& [key, value] : e.samples) {
    if ((key == name || absl::StartsWith(key, name + "{")) && absl::StrContains(key, label)) sum += value;
  }
  return sum;
}

TEST_F(OperationsTest, MetricsNameWhatHappenedAndFollowPrometheusConventions) {
  Start();
  sim::Simulation sim = Sim();
  {
    grpc::ClientContext ctx;
    enterprise::v1::ApplyDefinitionsResponse r;
    ASSERT_TRUE(enterprise::v1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, sim.enterprise, &r).ok());
  }
  // The first batch twice (a resend), and one observation of a unit nobody defined.
  sv1::ObservationBatch bad = sim.batches.front();
  bad.set_batch_id(bad.batch_id() + 1000000);
  bad.mutable_observations()->DeleteSubrange(1, bad.observations_size() - 1);
  auto* o = bad.mutable_observations(0);
  o->set_source_sequence(o->source_sequence() + 1000000);
  if (o->has_count()) o->mutable_count()->set_work_unit("no-such-unit");
  if (o->has_state_change()) o->mutable_state_change()->set_work_unit("no-such-unit");
  {
    grpc::ClientContext ctx;
    auto stream = sv1::FacilityIngestService::NewStub(channel_)->StreamObservations(&ctx);
    std::thread writer([&] {
      for (const auto& b : sim.batches) stream->Write(b);
      stream->Write(sim.batches.front());
      stream->Write(bad);
      stream->WritesDone();
    });
    sv1::IngestAck ack;
    while (stream->Read(&ack)) {
    }
    writer.join();
    ASSERT_TRUE(stream->Finish().ok());
  }
  ASSERT_TRUE(server_->WaitForProjection(absl::Minutes(1)).ok());
  auto r = Get("/metrics");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(absl::StartsWith(r->get_header_value("Content-Type"), "text/plain; version=0.0.4"));
  const Exposition e = Parse(r->body);
  // Names and types: takt_ prefix, valid characters, counters *_total,
  // histograms in base units.
  const std::regex name("^takt_[a-z0-9_]+$");
  for (const auto& [family, type] : e.types) {
    if (!absl::StartsWith(family, "takt_")) continue;
    EXPECT_TRUE(std::regex_match(family, name)) << family;
    if (type == "counter") {
      EXPECT_TRUE(absl::EndsWith(family, "_total")) << family;
    }
    if (absl::EndsWith(family, "_total")) {
      EXPECT_EQ(type, "counter") << family;
    }
  }
  for (const char* family :
       {"takt_rpc_requests_total", "takt_rpc_duration_seconds", "takt_log_writes_total", "takt_log_events_total",
        "takt_log_group_events", "takt_log_write_duration_seconds", "takt_ingest_batches_total",
        "takt_ingest_items_total", "takt_ingest_rejections_total", "takt_projection_lag_events",
        "takt_projection_lag_seconds", "takt_rocksdb_pending_compaction_bytes", "takt_rocksdb_write_stopped",
        "takt_service_serving"}) {
    EXPECT_TRUE(e.types.contains(family)) << family << " missing from\n" << r->body.substr(0, 4000);
  }
  EXPECT_EQ(e.types.at("takt_rpc_duration_seconds"), "histogram");
  // Both RocksDB stores of the embedded mode report their health.
  for (const char* db : {"log", "rollups"}) {
    EXPECT_NE(r->body.find(absl::StrCat("takt_rocksdb_write_stopped{db=\"", db, "\"} 0")), std::string::npos)
        << db;
  }
  // Every takt_* metric the alerting rules name is exported (the rules and
  // the server do not drift apart).
  const YAML::Node rules = YAML::LoadFile(std::string(TAKT_SOURCE_DIR) + "/deploy/prometheus/alerts.yaml");
  int named = 0;
  for (const YAML::Node& group : rules["groups"]) {
    for (const YAML::Node& rule : group["rules"]) {
      const std::string expr = rule["expr"].as<std::string>();
      const std::regex metric("takt_[a-z0-9_]+");
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), metric); it != std::sregex_iterator(); ++it) {
        std::string family = it->str();
        for (const char* suffix : {"_bucket", "_count", "_sum"}) {
          if (absl::EndsWith(family, suffix) && !e.types.contains(family)) {
            family = family.substr(0, family.size() - std::string(suffix).size());
          }
        }
        ++named;
        EXPECT_TRUE(e.types.contains(family)) << rule["alert"].as<std::string>() << " names " << it->str();
      }
    }
  }
  EXPECT_GE(named, 8);
  // The figures say what happened.
  EXPECT_GE(Sum(e, "takt_rpc_requests_total", "ApplyDefinitions\",code=\"OK\"") +
                Sum(e, "takt_rpc_requests_total", "code=\"OK\",method=\"/takt.enterprise.v1.EnterpriseService/ApplyDefinitions"),
            1);
  EXPECT_GE(Sum(e, "takt_ingest_items_total", "outcome=\"duplicate\""), sim.batches.front().observations_size());
  EXPECT_GE(Sum(e, "takt_ingest_items_total", "outcome=\"accepted\""), 100);
  EXPECT_GE(Sum(e, "takt_ingest_rejections_total"), 1);
  EXPECT_GE(Sum(e, "takt_log_events_total"), 100);
  EXPECT_GE(Sum(e, "takt_log_write_duration_seconds_count"), 1);
  EXPECT_TRUE(absl::StrContains(r->body, "takt_projection_lag_events{context=\"scheduling\""));
  // The lag is measured each second: caught up, it reads 0 within two.
  double lag = -1;
  for (int i = 0; i < 30 && lag != 0; ++i) {
    auto again = Get("/metrics");
    ASSERT_TRUE(again);
    lag = Sum(Parse(again->body), "takt_projection_lag_events", "context=\"scheduling\"");
    if (lag != 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(lag, 0);
}

TEST_F(OperationsTest, ProbesAgreeWithHealthAndShutdownDrainsWithinTheGrace) {
  Start();
  auto live = Get("/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  // Ready once every service is SERVING (the rollups once caught up).
  int ready = 0;
  for (int i = 0; i < 100 && ready != 200; ++i) {
    auto r = Get("/readyz");
    ready = r ? r->status : 0;
    if (ready != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(ready, 200);
  EXPECT_TRUE(absl::StrContains(Get("/readyz")->body, "takt.rollups.v1.RollupService SERVING"));
  sim::Simulation sim = Sim();
  {
    grpc::ClientContext ctx;
    enterprise::v1::ApplyDefinitionsResponse r;
    ASSERT_TRUE(enterprise::v1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, sim.enterprise, &r).ok());
  }
  // A gateway's stream stays open while the server is told to stop.
  grpc::ClientContext ctx;
  auto stream = sv1::FacilityIngestService::NewStub(channel_)->StreamObservations(&ctx);
  ASSERT_TRUE(stream->Write(sim.batches[0]));
  sv1::IngestAck ack;
  ASSERT_TRUE(stream->Read(&ack));
  const uint64_t acknowledged = ack.accepted();
  EXPECT_GT(acknowledged, 0u);
  const absl::Time asked = absl::Now();
  std::thread stopper([&] { server_->Shutdown(); });
  // Not ready at once, while the stream still has its grace.
  int during = 0;
  for (int i = 0; i < 40 && during != 503; ++i) {
    auto r = Get("/readyz");
    during = r ? r->status : 0;
    if (during != 503) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(during, 503);
  // The stream is ended by the server once the grace is over.
  while (stream->Read(&ack)) {
  }
  const grpc::Status ended = stream->Finish();
  stopper.join();
  const absl::Duration took = absl::Now() - asked;
  EXPECT_FALSE(ended.ok());
  EXPECT_GE(took, absl::Milliseconds(1500)) << "the stream was cut before its grace";
  EXPECT_LE(took, absl::Seconds(10)) << "shutdown took longer than its grace allows";
  server_.reset();
  // Restarted, what was acknowledged is there: the same batch is all duplicates.
  Start();
  grpc::ClientContext again;
  auto resend = sv1::FacilityIngestService::NewStub(channel_)->StreamObservations(&again);
  ASSERT_TRUE(resend->Write(sim.batches[0]));
  ASSERT_TRUE(resend->Read(&ack));
  resend->WritesDone();
  while (resend->Read(&ack)) {
  }
  EXPECT_TRUE(resend->Finish().ok());
  EXPECT_EQ(ack.duplicates(), acknowledged);
  EXPECT_EQ(ack.accepted(), 0u);
}

// Sends `batches` on one stream; the last acknowledgement.
sv1::IngestAck Send(const std::shared_ptr<grpc::Channel>& channel, const std::vector<sv1::ObservationBatch>& batches) {
  grpc::ClientContext ctx;
  auto stream = sv1::FacilityIngestService::NewStub(channel)->StreamObservations(&ctx);
  std::thread writer([&] {
    for (const auto& b : batches) stream->Write(b);
    stream->WritesDone();
  });
  sv1::IngestAck ack, last;
  while (stream->Read(&ack)) last = ack;
  writer.join();
  EXPECT_TRUE(stream->Finish().ok());
  return last;
}

TEST_F(OperationsTest, ABackupTakenWhileServingRestoresVerifiesCatchesUpAndKnowsItsResends) {
  Start();
  sim::SimOptions so;
  so.facilities = 2;
  so.days = 2;
  so.seed = 5;
  so.start = absl::CivilDay(2026, 2, 2);
  const sim::Simulation sim = sim::Simulate(so);
  {
    grpc::ClientContext ctx;
    enterprise::v1::ApplyDefinitionsResponse r;
    ASSERT_TRUE(enterprise::v1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, sim.enterprise, &r).ok());
  }
  const size_t half = sim.batches.size() / 2;
  const std::vector<sv1::ObservationBatch> first(sim.batches.begin(), sim.batches.begin() + half);
  const std::vector<sv1::ObservationBatch> second(sim.batches.begin() + half, sim.batches.end());
  Send(channel_, first);
  auto ops = operations::v1::OperationsService::NewStub(channel_);
  auto backup = [&](const std::string& dir) {
    operations::v1::BackupRequest req;
    req.set_dir(dir);
    grpc::ClientContext ctx;
    operations::v1::BackupResponse resp;
    grpc::Status s = ops->Backup(&ctx, req, &resp);
    return std::make_pair(s, resp);
  };
  // Bad directories are refused, naming them.
  testing::TempDir elsewhere;
  EXPECT_EQ(backup("relative/dir").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(backup(dir_.path() + "/inside").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(backup(elsewhere.path() + "/outside-the-root").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(backup(backups_.path() + "/a/b").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(backup(backups_.path() + "/../escape").first.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Taken while a gateway keeps sending.
  const std::string copy = backups_.path() + "/backup-1";
  std::thread gateway([&] { Send(channel_, second); });
  auto [status, taken] = backup(copy);
  gateway.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(backup(copy).first.error_code(), grpc::StatusCode::ALREADY_EXISTS);  // and the first stays
  EXPECT_TRUE(std::filesystem::exists(copy + "/MANIFEST.json"));
  EXPECT_EQ(std::filesystem::status(copy).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);
  EXPECT_TRUE(taken.log_included());
  EXPECT_GT(taken.bytes(), 0u);
  for (const char* part : {"keys", "log", "personal-keys"}) {
    EXPECT_NE(std::find(taken.parts().begin(), taken.parts().end(), part), taken.parts().end()) << part;
  }
  server_.reset();

  // Restored into a new directory: the log verifies with the original key.
  const std::string restored = elsewhere.path() + "/restored";
  std::ostringstream out, err;
  ASSERT_EQ(cli::RunRestore({copy, restored}, out, err), 0) << err.str();
  std::ostringstream refused;
  EXPECT_EQ(cli::RunRestore({copy, restored}, out, refused), 2) << "a restore over existing data";
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = restored;
    auto log = eventlog::OpenEmbeddedLog(lo);
    ASSERT_TRUE(log.ok()) << log.status();
    auto report = (*log)->Verify({});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << report->ToText();
    EXPECT_GT(report->events_checked, 100u);
  }
  // Served: the rollups are rebuilt and answer; everything the backup holds
  // is known (a resend of the first batch is all duplicates); the batches
  // after the backup can be sent again and are taken.
  Start(restored);
  ASSERT_TRUE(server_->WaitForProjection(absl::Minutes(1)).ok());
  rollups::v1::QueryKpisRequest q;
  q.set_scope("enterprise");
  q.add_kpis("oee");
  q.set_from("2026-02-02");
  q.set_to("2026-02-03");
  grpc::ClientContext qctx;
  rollups::v1::QueryKpisResponse answer;
  ASSERT_TRUE(rollups::v1::RollupService::NewStub(channel_)->QueryKpis(&qctx, q, &answer).ok());
  EXPECT_TRUE(answer.total().kpis(0).has_value());
  const sv1::IngestAck resent = Send(channel_, {first.front()});
  EXPECT_EQ(resent.accepted(), 0u);
  EXPECT_EQ(resent.duplicates(), static_cast<uint32_t>(first.front().observations_size()));
  Send(channel_, second);
  ASSERT_TRUE(server_->WaitForProjection(absl::Minutes(1)).ok());
}

}  // namespace
}  // namespace takt
