// A context added as a module, the way quality, staffing and budgets will
// be: a test module "qa" with its own context, element family, KPI and fold,
// composed with the registered modules by the host. Its events reach the
// rollups (their own rows and position), directors query its KPI, auditors
// explain it from raw events and replay its streams; adding it later does
// not rebuild the production rollups.
#include <grpcpp/grpcpp.h>

#include <atomic>

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/event_log.h"
#include "libs/testing/inspection_fold.h"
#include "libs/testing/temp_dir.h"
#include "services/registry.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::scheduling::v1;
namespace rv1 = ::takt::rollups::v1;
namespace av1 = ::takt::audit::v1;

// The running module: no gRPC service; it hands the test its log.
std::atomic<eventlog::EventLog*> g_qa_log{nullptr};
class QaModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    g_qa_log = env.log();
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override { return {}; }
};

host::ModuleInfo QaModuleInfo() {
  host::ModuleInfo m;
  m.name = "qa";
  m.owns = {{"qa"}};
  // Events "unit,inspected,passed" (libs/testing/inspection_fold.h).
  m.families = {testing::InspectionFamily("qa", "qa_inspections")};
  // A second family over the same events whose explain recomputation is
  // written differently (and wrongly: it drops PASSED): explain must say so.
  kpi::FamilyRegistration disagreeing = testing::InspectionFamily("qa", "qa_recheck");
  disagreeing.explain_fold = [] {
    class DropsPassed final : public kpi::Fold {
     public:
      absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
        TAKT_RETURN_IF_ERROR(inner_.Apply(e, out));
        for (auto& d : out) d.values[1] = 0;
        return absl::OkStatus();
      }
      testing::InspectionFold inner_;
    };
    return std::unique_ptr<kpi::Fold>(std::make_unique<DropsPassed>());
  };
  m.families.push_back(std::move(disagreeing));
  m.create = [] { return std::make_unique<QaModule>(); };
  return m;
}

class ModulesTest : public ::testing::Test {
 protected:
  void Start(bool with_qa) {
    std::vector<host::ModuleInfo> modules = services::Modules();
    if (with_qa) modules.push_back(QaModuleInfo());
    host::ServerOptions o;
    o.security.insecure = true;  // tests/security_test.cc covers TLS
    o.data_dir = dir_.path();
    o.listen = "127.0.0.1:0";
    auto s = host::TaktServer::Start(o, modules);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  void Stop() {
    server_->Shutdown();
    server_.reset();
  }
  void ApplyFacility() {
    ev1::ApplyDefinitionsRequest req;
    auto* fd = req.add_definitions()->mutable_facility();
    fd->set_facility("berlin-1");
    fd->mutable_calendar()->set_time_zone("Europe/Berlin");
    fd->mutable_calendar()->set_day_start("06:00");
    auto* area = req.add_definitions()->mutable_area();
    area->set_facility("berlin-1");
    area->set_area("body");
    auto* wc = req.add_definitions()->mutable_work_center();
    wc->set_facility("berlin-1");
    wc->set_area("body");
    wc->set_work_center("line");
    auto* u = req.add_definitions()->mutable_work_unit();
    u->set_facility("berlin-1");
    u->set_work_center("line");
    u->set_work_unit("press-1");
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    grpc::Status s = ev1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // Production data: one hour of running.
  void Produce() {
    sv1::ObservationBatch b;
    b.set_facility("berlin-1");
    b.set_batch_id(1);
    for (int i = 0; i < 2; ++i) {
      auto* o = b.add_observations();
      o->set_source_id("gw");
      o->set_source_sequence(i + 1);
      *o->mutable_source_time() =
          ToProto(absl::FromCivil(absl::CivilHour(2026, 11, 24, 8 + i), absl::UTCTimeZone()));
      if (i == 0) {
        o->mutable_state_change()->set_work_unit("press-1");
        o->mutable_state_change()->set_state(sv1::UNIT_STATE_RUNNING);
      } else {
        o->mutable_state_change()->set_work_unit("press-1");
        o->mutable_state_change()->set_state(sv1::UNIT_STATE_IDLE);
      }
    }
    grpc::ClientContext ctx;
    auto stream = sv1::FacilityIngestService::NewStub(channel_)->StreamObservations(&ctx);
    ASSERT_TRUE(stream->Write(b));
    sv1::IngestAck ack;
    ASSERT_TRUE(stream->Read(&ack));
    ASSERT_EQ(ack.rejected_size(), 0) << ack.rejected(0).reason();
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
  }
  void Inspect(const std::string& unit, int hour, int inspected, int passed) {
    eventlog::AppendRequest r;
    r.context = "qa";
    r.facility = "berlin-1";
    eventlog::Envelope e;
    e.set_event_type("test.Inspected");
    e.set_source_id("gauge");
    e.set_source_sequence(++seq_);
    *e.mutable_occurred_time() =
        ToProto(absl::FromCivil(absl::CivilHour(2026, 11, 24, hour), absl::UTCTimeZone()));
    e.set_payload(absl::StrCat(unit, ",", inspected, ",", passed));
    r.events.push_back(e);
    ASSERT_TRUE(g_qa_log.load()->Append(std::move(r)).ok());
  }
  rv1::QueryKpisResponse Query(const std::string& kpi, const std::string& scope = "facilities/berlin-1") {
    rv1::QueryKpisRequest req;
    req.set_scope(scope);
    req.add_kpis(kpi);
    req.set_from("2026-11-24");
    req.set_to("2026-11-24");
    grpc::ClientContext ctx;
    rv1::QueryKpisResponse resp;
    grpc::Status s = rv1::RollupService::NewStub(channel_)->QueryKpis(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  static std::map<std::string, uint64_t> Positions(const rv1::QueryKpisResponse& r,
                                                   const std::string& context) {
    std::map<std::string, uint64_t> out;
    for (const auto& p : r.positions()) {
      if (p.context() == context) out[p.partition()] = p.next_offset();
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<host::TaktServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  uint64_t seq_ = 0;
};

TEST_F(ModulesTest, AContextAddedLaterBringsItsKpisWithoutRebuildingProduction) {
  // Production first, without the qa module.
  Start(/*with_qa=*/false);
  ApplyFacility();
  Produce();
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  const rv1::QueryKpisResponse before = Query("availability");
  const auto production = Positions(before, "scheduling");
  ASSERT_EQ(production.at("berlin-1"), 3u);  // the next sequence: two applied
  Stop();

  // The same data directory with the qa module composed in.
  Start(/*with_qa=*/true);
  ASSERT_NE(kpi::FindKpi("qa_inspections_pass_rate"), nullptr)
      << "the host registers the module's families";
  // Production's rows and position are there at once: nothing rebuilt.
  const rv1::QueryKpisResponse after = Query("availability");
  EXPECT_EQ(Positions(after, "scheduling"), production);
  EXPECT_EQ(after.total().elements(1).value(), before.total().elements(1).value());  // APT
  Inspect("press-1", 9, 100, 90);
  Inspect("press-1", 10, 60, 55);
  Inspect("press-1", 11, 40, 40);
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());

  // Directors query the new KPI; the answer names its own position.
  const rv1::QueryKpisResponse qa = Query("qa_inspections_pass_rate");
  ASSERT_EQ(qa.total().kpis_size(), 1);
  EXPECT_TRUE(qa.total().kpis(0).has_value());
  EXPECT_DOUBLE_EQ(qa.total().kpis(0).value(), 100.0 * 185 / 200);
  std::map<std::string, int64_t> elements;
  for (const auto& e : qa.total().elements()) elements[e.name()] = e.value();
  EXPECT_EQ(elements["qa_inspections.INSPECTED"], 200);
  EXPECT_EQ(elements["qa_inspections.PASSED"], 185);
  EXPECT_EQ(Positions(qa, "qa#qa_inspections").at("berlin-1"), 4u);
  EXPECT_EQ(qa.lag_events(), 0u);
  // The same by hour, and at the work unit.
  const rv1::QueryKpisResponse unit = Query("qa_inspections_pass_rate", "facilities/berlin-1/workUnits/press-1");
  EXPECT_DOUBLE_EQ(unit.total().kpis(0).value(), 100.0 * 185 / 200);

  // Auditors: the KPI recomputed from the raw qa events equals the rollups.
  av1::ExplainRequest ex;
  ex.set_scope("facilities/berlin-1");
  ex.set_kpi("qa_inspections_pass_rate");
  ex.set_from("2026-11-24");
  ex.set_to("2026-11-24");
  grpc::ClientContext ectx;
  av1::ExplainResponse explained;
  grpc::Status es = av1::AuditService::NewStub(channel_)->Explain(&ectx, ex, &explained);
  ASSERT_TRUE(es.ok()) << es.error_message();
  EXPECT_TRUE(explained.equal());
  EXPECT_EQ(explained.events_read(), 3u);
  EXPECT_DOUBLE_EQ(explained.recomputed_value(), 100.0 * 185 / 200);

  // A recomputation that disagrees is reported element by element.
  ex.set_kpi("qa_recheck_pass_rate");
  grpc::ClientContext ectx2;
  av1::ExplainResponse differs;
  ASSERT_TRUE(av1::AuditService::NewStub(channel_)->Explain(&ectx2, ex, &differs).ok());
  EXPECT_FALSE(differs.equal());
  ASSERT_EQ(differs.elements_size(), 2);
  EXPECT_EQ(differs.elements(1).name(), "qa_recheck.PASSED");
  EXPECT_EQ(differs.elements(1).projection(), 185);
  EXPECT_EQ(differs.elements(1).recomputed(), 0);
  EXPECT_EQ(differs.elements(0).recomputed(), differs.elements(0).projection());

  // And replay the new context's history, chain checked.
  av1::ReplayRequest rr;
  rr.set_facility("berlin-1");
  rr.add_contexts("qa");
  grpc::ClientContext rctx;
  auto reader = av1::AuditService::NewStub(channel_)->Replay(&rctx, rr);
  av1::ReplayItem item;
  int events = 0;
  while (reader->Read(&item)) events += item.has_event() ? 1 : 0;
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(events, 3);
}

}  // namespace
}  // namespace takt
