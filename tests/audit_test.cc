// Auditors against a running server: a simulated month of several plants,
// then KPI explain for randomly drawn scopes, KPIs and periods (recomputed
// from raw events, it must equal the rollups), an export verified offline
// with the public key alone, and every read recorded in context "audit".
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <set>
#include <random>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "services/audit/history.h"
#include "libs/crypto/ed25519.h"
#include "libs/kpi/registry.h"
#include "services/registry.h"
#include "services/scheduling/sim/simulator.h"
#include "libs/testing/replay.h"
#include "libs/testing/temp_dir.h"
#include "services/enterprise/definitions_yaml.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

namespace takt {
namespace {

namespace av1 = ::takt::audit::v1;

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    host::ServerOptions o;
    o.security.insecure = true;  // tests/security_test.cc covers TLS
    o.data_dir = dir_->path();
    o.listen = "127.0.0.1:0";
    auto s = services::StartServer(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = s->release();
    channel_ = new std::shared_ptr<grpc::Channel>(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
    // A month of three plants in three time zones.
    sim::SimOptions so;
    so.facilities = 3;
    so.days = 30;
    so.seed = 42;
    so.start = absl::CivilDay(2026, 3, 1);  // spans the US and EU daylight-saving changes
    sim_ = new sim::Simulation(sim::Simulate(so));
    auto enterprise = enterprise::v1::EnterpriseService::NewStub(*channel_);
    grpc::ClientContext ctx;
    enterprise::v1::ApplyDefinitionsResponse applied;
    ASSERT_TRUE(enterprise->ApplyDefinitions(&ctx, sim_->enterprise, &applied).ok());
    auto ingest = scheduling::v1::FacilityIngestService::NewStub(*channel_);
    grpc::ClientContext sctx;
    auto stream = ingest->StreamObservations(&sctx);
    std::thread writer([&] {
      for (const auto& b : sim_->batches) stream->Write(b);
      stream->WritesDone();
    });
    scheduling::v1::IngestAck ack;
    while (stream->Read(&ack)) ASSERT_EQ(ack.rejected_size(), 0);
    writer.join();
    ASSERT_TRUE(stream->Finish().ok());
    ASSERT_TRUE(server_->WaitForProjection(absl::Minutes(2)).ok());
  }
  static void TearDownTestSuite() {
    delete server_;
    delete channel_;
    delete sim_;
    delete dir_;
  }

  static av1::AuditService::Stub* Audit() {
    static auto* stub = av1::AuditService::NewStub(*channel_).release();
    return stub;
  }

  static std::vector<std::pair<std::string, std::string>> Units() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& d : sim_->enterprise.definitions()) {
      if (d.has_work_unit()) out.push_back({d.work_unit().facility(), d.work_unit().work_unit()});
    }
    return out;
  }

  static testing::TempDir* dir_;
  static host::TaktServer* server_;
  static std::shared_ptr<grpc::Channel>* channel_;
  static sim::Simulation* sim_;
};

testing::TempDir* AuditTest::dir_ = nullptr;
host::TaktServer* AuditTest::server_ = nullptr;
std::shared_ptr<grpc::Channel>* AuditTest::channel_ = nullptr;
sim::Simulation* AuditTest::sim_ = nullptr;

TEST_F(AuditTest, ExplainEqualsTheProjectionForRandomScopesKpisAndPeriods) {
  const auto units = Units();
  ASSERT_FALSE(units.empty());
  std::mt19937_64 rng(2026);
  const auto& registry = kpi::Registry();
  int with_value = 0;
  // Every kind of scope the rollups answer.
  std::vector<std::string> scopes = {"enterprise"};
  for (const auto& d : sim_->enterprise.definitions()) {
    if (d.has_region()) scopes.push_back("regions/" + d.region().region());
    if (d.has_facility()) scopes.push_back("facilities/" + d.facility().facility());
    if (d.has_area()) scopes.push_back("facilities/" + d.area().facility() + "/areas/" + d.area().area());
    if (d.has_work_center()) {
      scopes.push_back("facilities/" + d.work_center().facility() + "/workCenters/" +
                       d.work_center().work_center());
    }
  }
  for (const auto& [facility, unit] : units) scopes.push_back("facilities/" + facility + "/workUnits/" + unit);
  for (int draw = 0; draw < 48; ++draw) {
    av1::ExplainRequest req;
    // The first draws take each kind of scope in turn, then at random.
    req.set_scope(draw < 6 ? scopes[draw * (scopes.size() - 1) / 5] : scopes[rng() % scopes.size()]);
    req.set_kpi(registry[rng() % registry.size()].id);
    const int first = static_cast<int>(rng() % 30);
    const int last = first + static_cast<int>(rng() % (30 - first));
    req.set_from(absl::FormatCivilTime(absl::CivilDay(2026, 3, 1) + first));
    req.set_to(absl::FormatCivilTime(absl::CivilDay(2026, 3, 1) + last));
    grpc::ClientContext ctx;
    av1::ExplainResponse resp;
    grpc::Status st = Audit()->Explain(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_TRUE(resp.equal()) << req.ShortDebugString() << "\n" << resp.DebugString();
    EXPECT_EQ(resp.has_value(), resp.projection_has_value()) << req.ShortDebugString();
    EXPECT_EQ(resp.recomputed_value(), resp.projection_value()) << req.ShortDebugString();
    EXPECT_GT(resp.events_used(), 0u);
    if (resp.has_value()) ++with_value;
  }
  EXPECT_GT(with_value, 20);  // most draws have data (no vacuous equality)
}

// Regression (issue 11.5): the export of every facility but the first
// failed its own offline check ("enterprise/enterprise sequence 8:
// missing"), because it kept only the facility's entries of the shared
// enterprise stream. Every facility's export verifies.
TEST_F(AuditTest, AnExportVerifiesOfflineAndTheReadsAreRecorded) {
  auto key = crypto::ReadKeyRingFile(dir_->path() + "/keys/checkpoint.pub");
  ASSERT_TRUE(key.ok()) << key.status();
  std::set<std::string> facilities;
  for (const auto& [f, unit] : Units()) facilities.insert(f);
  ASSERT_GE(facilities.size(), 3u);
  av1::ReplayItem item;
  for (const std::string& f : facilities) {
    av1::ReplayRequest req;
    req.set_facility(f);
    req.set_with_proofs(true);
    req.set_purpose("test export");
    grpc::ClientContext ctx;
    auto reader = Audit()->Replay(&ctx, req);
    std::string jsonl;
    uint64_t events = 0;
    while (reader->Read(&item)) {
      jsonl += audit::ToJsonLine(item) + "\n";
      if (item.has_event()) ++events;
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_GT(events, 1000u);
    auto report = audit::VerifyExport(jsonl, *key);
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok()) << f << ": " << report->ToText();
    EXPECT_EQ(report->events_checked, events);
    EXPECT_GT(report->checkpoints_checked, 0u);
  }
  const std::string facility = *facilities.begin();

  // The export itself is in the facility's audit history, with its purpose.
  av1::ReplayRequest reads;
  reads.set_facility(facility);
  reads.add_contexts("audit");
  grpc::ClientContext rctx;
  auto r = Audit()->Replay(&rctx, reads);
  bool found = false;
  while (r->Read(&item)) {
    if (item.event().payload_json().find("test export") != std::string::npos &&
        item.event().payload_json().find("\"operation\":\"export\"") != std::string::npos) {
      found = true;
      EXPECT_NE(item.event().actor().find("127.0.0.1"), std::string::npos);
    }
  }
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_TRUE(found);

  // And the server's own verification of the facility passes.
  grpc::ClientContext vctx;
  av1::VerifyRequest vreq;
  vreq.set_facility(facility);
  av1::VerifyResponse vresp;
  ASSERT_TRUE(Audit()->Verify(&vctx, vreq, &vresp).ok());
  EXPECT_TRUE(vresp.ok());
  EXPECT_GT(vresp.events_checked(), 1000u);
}

// A miscounted scrap quantity corrected by a supervisor: the correction is
// an event with actor and reason that refers to the original; replay shows
// both; the rollups and explain use the corrected figure.
TEST_F(AuditTest, CorrectionsAreEventsThatRollupsApplyAndReplayShows) {
  const std::string facility = Units().front().first;
  // The first production count of the facility.
  av1::ReplayRequest find;
  find.set_facility(facility);
  find.add_contexts("scheduling");
  find.add_event_types("takt.scheduling.v1.ProductionCounted");
  grpc::ClientContext fctx;
  auto reader = Audit()->Replay(&fctx, find);
  av1::ReplayItem original;
  ASSERT_TRUE(reader->Read(&original));
  fctx.TryCancel();
  (void)reader->Finish();
  const uint64_t seq = original.event().sequence();

  auto rollup_scrap = [&](const std::string& from, const std::string& to) {
    av1::ExplainRequest req;
    req.set_scope("facilities/" + facility);
    req.set_kpi("scrap_ratio");
    req.set_from(from);
    req.set_to(to);
    grpc::ClientContext ctx;
    av1::ExplainResponse resp;
    EXPECT_TRUE(Audit()->Explain(&ctx, req, &resp).ok());
    EXPECT_TRUE(resp.equal()) << resp.DebugString();
    for (const auto& e : resp.elements()) {
      if (e.name() == "SQ") return e.projection();
    }
    return int64_t{-1};
  };
  const std::string from = "2026-02-28", to = "2026-03-31";
  const int64_t before = rollup_scrap(from, to);
  ASSERT_GE(before, 0);

  auto sched = scheduling::v1::SchedulingService::NewStub(*channel_);
  scheduling::v1::ExecuteRequest fix;
  fix.set_facility(facility);
  fix.set_request_id("fix-1");
  auto* c = fix.add_commands()->mutable_correct_count();
  c->set_corrects_sequence(seq);
  c->mutable_corrected()->set_good(10);
  c->mutable_corrected()->set_scrap(25);
  c->set_reason("scrap bin recounted by the shift supervisor");
  {
    grpc::ClientContext ctx;
    scheduling::v1::ExecuteResponse resp;
    grpc::Status st = sched->Execute(&ctx, fix, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.changed(), 1u);
  }
  {  // no reason: refused
    scheduling::v1::ExecuteRequest bad = fix;
    bad.set_request_id("fix-2");
    bad.mutable_commands(0)->mutable_correct_count()->clear_reason();
    bad.mutable_commands(0)->mutable_correct_count()->mutable_corrected()->set_scrap(26);
    grpc::ClientContext ctx;
    scheduling::v1::ExecuteResponse resp;
    EXPECT_EQ(sched->Execute(&ctx, bad, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  scheduling::v1::ProductionCounted count;
  // The original's figures, from its readable payload.
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(original.event().payload_json(), &count).ok());
  const int64_t after = rollup_scrap(from, to);
  EXPECT_EQ(after, before - count.scrap() + 25);

  // Replay shows the original unchanged and the correction beside it.
  av1::ReplayRequest all;
  all.set_facility(facility);
  all.add_contexts("scheduling");
  grpc::ClientContext actx;
  auto r = Audit()->Replay(&actx, all);
  av1::ReplayItem item;
  bool saw_original = false, saw_correction = false;
  while (r->Read(&item)) {
    const auto& e = item.event();
    if (e.stream() == facility && e.sequence() == seq) {
      saw_original = e.payload_json() == original.event().payload_json();
    }
    if (e.event_type() == "takt.scheduling.v1.ProductionCountCorrected") {
      saw_correction = e.payload_json().find("recounted") != std::string::npos &&
                       e.payload_json().find(original.event().event_id()) != std::string::npos &&
                       e.actor().find("127.0.0.1") != std::string::npos;
    }
  }
  ASSERT_TRUE(r->Finish().ok());
  EXPECT_TRUE(saw_original);
  EXPECT_TRUE(saw_correction);
}

TEST_F(AuditTest, BadRequestsGetClearErrors) {
  {
    grpc::ClientContext ctx;
    av1::ExplainRequest req;
    req.set_scope("regions/atlantis");
    req.set_kpi("oee");
    req.set_from("2026-03-01");
    req.set_to("2026-03-02");
    av1::ExplainResponse resp;
    auto st = Audit()->Explain(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
    EXPECT_NE(st.error_message().find("atlantis"), std::string::npos) << st.error_message();
  }
  {
    grpc::ClientContext ctx;
    av1::ExplainRequest req;
    req.set_scope("facilities/" + Units().front().first);
    req.set_kpi("happiness");
    req.set_from("2026-03-01");
    req.set_to("2026-03-02");
    av1::ExplainResponse resp;
    EXPECT_EQ(Audit()->Explain(&ctx, req, &resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    av1::ReplayRequest req;
    req.set_facility("bad/facility");
    auto reader = Audit()->Replay(&ctx, req);
    av1::ReplayItem item;
    while (reader->Read(&item)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    // A facility nobody defined has no history (and no read is recorded).
    grpc::ClientContext ctx;
    av1::VerifyRequest req;
    req.set_facility("atlantis-1");
    av1::VerifyResponse resp;
    auto st = Audit()->Verify(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(st.error_message().find("'atlantis-1' is not defined"), std::string::npos);
  }
}

// ---- The recorded-read policy (takt serve --record-reads) -----------------

TEST(ReadRecordingTest, TheListParsesAndAnUnknownReadIsNamed) {
  auto r = host::ParseReadRecording("kpis, audit");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->audit);
  EXPECT_FALSE(r->personal_data);
  EXPECT_TRUE(r->kpis);
  r = host::ParseReadRecording("none");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->audit || r->personal_data || r->kpis);
  const host::ReadRecording defaults;
  EXPECT_TRUE(defaults.audit && defaults.personal_data && !defaults.kpis);
  r = host::ParseReadRecording("audit,rollup");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("'rollup'"), std::string_view::npos) << r.status();
}

// With kpis recorded and audit reads not: a region's query is recorded in
// each of its facilities' streams (and no other), with the reader; an
// auditor's replay leaves no HistoryRead.
TEST(ReadRecordingTest, KpiQueriesAreRecordedPerCoveredFacilityWhenThePolicySaysSo) {
  testing::TempDir dir;
  host::ServerOptions o;
  o.security.insecure = true;
  o.data_dir = dir.path();
  o.listen = "127.0.0.1:0";
  o.record_reads = {.audit = false, .personal_data = true, .kpis = true};
  auto server = services::StartServer(o);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  std::ifstream in(std::string(TAKT_SOURCE_DIR) + "/deploy/examples/enterprise.yaml");
  std::stringstream yaml;
  yaml << in.rdbuf();
  auto defs = enterprise::ParseDefinitionsYaml(yaml.str(), "enterprise.yaml");
  ASSERT_TRUE(defs.ok()) << defs.status();
  {
    grpc::ClientContext ctx;
    enterprise::v1::ApplyDefinitionsResponse applied;
    ASSERT_TRUE(enterprise::v1::EnterpriseService::NewStub(channel)->ApplyDefinitions(&ctx, *defs, &applied).ok());
  }
  rollups::v1::QueryKpisRequest q;
  q.set_scope("regions/americas");
  q.add_kpis("oee");
  q.set_from("2026-01-05");
  q.set_to("2026-01-11");
  {
    grpc::ClientContext ctx;
    rollups::v1::QueryKpisResponse answer;
    grpc::Status s = rollups::v1::RollupService::NewStub(channel)->QueryKpis(&ctx, q, &answer);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto replay = [&](const std::string& facility, const std::string& context) {
    return testing::ReplayEvents(channel, facility, context);
  };
  const std::vector<av1::AuditedEvent> detroit = replay("detroit-1", "kpi_reads");
  ASSERT_EQ(detroit.size(), 1u);
  EXPECT_EQ(detroit[0].event_type(), "takt.rollups.v1.KpisRead");
  EXPECT_NE(detroit[0].payload_json().find("regions/americas"), std::string::npos) << detroit[0].payload_json();
  EXPECT_NE(detroit[0].actor().find("127.0.0.1"), std::string::npos) << detroit[0].actor();
  EXPECT_TRUE(replay("stuttgart-1", "kpi_reads").empty()) << "a facility outside the region";
  EXPECT_TRUE(replay("detroit-1", "audit").empty()) << "audit reads are not recorded under this policy";
  (*server)->Shutdown();
}

}  // namespace
}  // namespace takt
