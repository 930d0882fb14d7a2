// End to end on the embedded log: a server on 127.0.0.1:0, the enterprise
// applied over gRPC, a gateway streaming observations (with a resend, a late
// batch and a bad observation), then director queries checked against
// hand-computed values, before and after a server restart.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/support/byte_buffer.h>

#include <filesystem>

#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "libs/eventlog/kafka_mock.h"
#include "services/registry.h"
#include "libs/testing/temp_dir.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::scheduling::v1;
namespace rv1 = ::takt::rollups::v1;

// The google.rpc details of an error answer: ErrorInfo's reason and, when
// there is one, the BadRequest's first field violation.
struct ErrorDetails {
  std::string domain, reason, field, description;
};
ErrorDetails DetailsOf(const grpc::Status& s) {
  ErrorDetails out;
  google::rpc::Status status;
  EXPECT_TRUE(status.ParseFromString(s.error_details())) << "no details: " << s.error_message();
  EXPECT_EQ(status.code(), s.error_code());
  for (const auto& any : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad;
    if (any.UnpackTo(&info)) {
      out.domain = info.domain();
      out.reason = info.reason();
    } else if (any.UnpackTo(&bad) && bad.field_violations_size() > 0) {
      out.field = bad.field_violations(0).field();
      out.description = bad.field_violations(0).description();
    }
  }
  return out;
}

// Runs each scenario on the embedded log and on Kafka (librdkafka's mock
// cluster, in process): the answers must be the same.
class EndToEndTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!GetParam()) return;
    auto cluster = eventlog::KafkaMockCluster::Start(1);  // a fresh cluster per test
    ASSERT_TRUE(cluster.ok());
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopics(services::ContextNames(), 3).ok());
  }
  void TearDown() override {
    server_.reset();
    cluster_.reset();
  }

  void Start(absl::Duration stream_idle_timeout = absl::Minutes(10)) {
    host::ServerOptions o;
    o.stream_idle_timeout = stream_idle_timeout;
    o.security.insecure = true;  // tests/security_test.cc covers TLS
    o.data_dir = dir_.path();
    o.listen = "127.0.0.1:0";
    if (GetParam()) {
      o.kafka_brokers = cluster_->bootstrap_servers();
      o.kafka_config = {{"fetch.wait.max.ms", "10"}, {"log_level", "0"}};
    }
    auto s = services::StartServer(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  // grpc.health.v1.Health/Check of `service` ("" for the server):
  // the HealthCheckResponse's bytes ("\x08\x01" is SERVING).
  std::string HealthOf(const std::string& service, grpc::Status* status) {
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    *status = grpc::internal::BlockingUnaryCall<grpc::health::v1::HealthCheckRequest,
                                                grpc::health::v1::HealthCheckResponse>(
        channel_.get(), grpc::internal::RpcMethod("/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC),
        &ctx, request, &response);
    return status->ok() ? response.SerializeAsString() : "";
  }
  void Stop() {
    server_->Shutdown();
    server_.reset();
  }

  void ApplyEnterprise() {
    ev1::ApplyDefinitionsRequest req;
    req.set_request_id("setup-1");
    for (const char* r : {"americas", "emea"}) req.add_definitions()->mutable_region()->set_region(r);
    auto* product = req.add_definitions()->mutable_product();
    product->set_product("door");
    product->set_planned_run_time_per_item_us(40'000'000);
    struct F {
      const char* id;
      const char* zone;
      const char* region;
    };
    for (F f : {F{"chicago-1", "America/Chicago", "americas"}, F{"berlin-1", "Europe/Berlin", "emea"}}) {
      auto* fd = req.add_definitions()->mutable_facility();
      fd->set_facility(f.id);
      fd->mutable_calendar()->set_time_zone(f.zone);
      fd->mutable_calendar()->set_day_start("06:00");
      auto* a = fd->mutable_calendar()->add_shifts();
      a->set_name("A");
      a->set_start("06:00");
      a->set_end("14:00");
      auto* mv = req.add_definitions()->mutable_move();
      mv->set_facility(f.id);
      mv->set_region(f.region);
      mv->set_effective_from("2026-01-01");
      auto* area = req.add_definitions()->mutable_area();
      area->set_facility(f.id);
      area->set_area("body");
      auto* wc = req.add_definitions()->mutable_work_center();
      wc->set_facility(f.id);
      wc->set_area("body");
      wc->set_work_center("line");
      auto* u = req.add_definitions()->mutable_work_unit();
      u->set_facility(f.id);
      u->set_work_center("line");
      u->set_work_unit("press-1");
    }
    auto stub = ev1::EnterpriseService::NewStub(channel_);
    for (int attempt = 0; attempt < 2; ++attempt) {  // a resend: the original result
      grpc::ClientContext ctx;
      ev1::ApplyDefinitionsResponse resp;
      ASSERT_TRUE(stub->ApplyDefinitions(&ctx, req, &resp).ok());
      EXPECT_EQ(resp.changed(), 13u);
    }
  }

  sv1::Observation State(uint64_t seq, const char* utc, sv1::UnitState s) {
    sv1::Observation o;
    o.set_source_id("gw-1");
    o.set_source_sequence(seq);
    absl::Time t;
    std::string err;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, utc, &t, &err)) << err;
    o.mutable_source_time()->set_seconds(absl::ToUnixSeconds(t));
    o.mutable_state_change()->set_work_unit("press-1");
    o.mutable_state_change()->set_state(s);
    return o;
  }
  sv1::Observation Count(uint64_t seq, const char* utc, int good, int scrap) {
    sv1::Observation o = State(seq, utc, sv1::UNIT_STATE_RUNNING);
    o.clear_state_change();
    o.mutable_count()->set_work_unit("press-1");
    o.mutable_count()->set_product("door");
    o.mutable_count()->set_good(good);
    o.mutable_count()->set_scrap(scrap);
    return o;
  }

  std::vector<sv1::IngestAck> Stream(const std::vector<sv1::ObservationBatch>& batches) {
    auto stub = sv1::FacilityIngestService::NewStub(channel_);
    grpc::ClientContext ctx;
    auto stream = stub->StreamObservations(&ctx);
    std::vector<sv1::IngestAck> acks;
    for (const auto& b : batches) {
      EXPECT_TRUE(stream->Write(b));
      sv1::IngestAck ack;
      EXPECT_TRUE(stream->Read(&ack));  // acknowledged once durable
      acks.push_back(ack);
    }
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
    return acks;
  }

  rv1::QueryKpisResponse Query(const std::string& scope, const std::string& by = "") {
    rv1::QueryKpisRequest req;
    req.set_downtime_pareto(by.empty());
    req.set_scope(scope);
    for (const char* k : {"oee", "availability", "effectiveness", "quality_ratio", "mttr",
                          "throughput_rate"}) {
      req.add_kpis(k);
    }
    req.set_from("2026-11-24");
    req.set_to("2026-11-24");
    req.set_by(by);
    auto stub = rv1::RollupService::NewStub(channel_);
    grpc::ClientContext ctx;
    rv1::QueryKpisResponse resp;
    grpc::Status s = stub->QueryKpis(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  static double Kpi(const rv1::Row& row, const std::string& id) {
    for (const auto& k : row.kpis()) {
      if (k.kpi() == id) return k.has_value() ? k.value() : -1;
    }
    return -2;
  }

  std::unique_ptr<eventlog::KafkaMockCluster> cluster_;
  testing::TempDir dir_;
  std::unique_ptr<host::TaktServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};



TEST_P(EndToEndTest, GatewayToDirectorWithResendsLateDataAndRestart) {
  Start();
  ApplyEnterprise();
  // Chicago shift A (06:00-14:00 CST = 12:00-20:00 UTC): setup 30 min,
  // running, a 45-minute failure, running; 600 good and 30 scrap doors.
  sv1::ObservationBatch b1;
  b1.set_facility("chicago-1");
  b1.set_batch_id(1);
  *b1.add_observations() = State(1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_SETUP);
  *b1.add_observations() = State(2, "2026-11-24T12:30:00Z", sv1::UNIT_STATE_RUNNING);
  *b1.add_observations() = Count(3, "2026-11-24T15:00:00Z", 300, 20);
  sv1::ObservationBatch b2;
  b2.set_facility("chicago-1");
  b2.set_batch_id(2);
  *b2.add_observations() = Count(6, "2026-11-24T19:59:00Z", 300, 10);
  *b2.add_observations() = State(7, "2026-11-24T20:00:00Z", sv1::UNIT_STATE_IDLE);
  sv1::Observation start = State(9, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
  start.clear_state_change();
  start.mutable_order_started()->set_work_unit("press-1");
  start.mutable_order_started()->set_order_id("wo-1001");
  *b2.add_observations() = start;
  sv1::Observation finish = State(10, "2026-11-24T20:00:00Z", sv1::UNIT_STATE_RUNNING);
  finish.clear_state_change();
  finish.mutable_order_ended()->set_work_unit("press-1");
  finish.mutable_order_ended()->set_order_id("wo-1001");
  *b2.add_observations() = finish;
  sv1::ObservationBatch resent = b1;  // the gateway reconnected and resent
  resent.set_batch_id(3);
  sv1::ObservationBatch late;  // the failure, delivered last
  late.set_facility("chicago-1");
  late.set_batch_id(4);
  *late.add_observations() = State(4, "2026-11-24T16:00:00Z", sv1::UNIT_STATE_DOWN);
  late.mutable_observations(0)->mutable_state_change()->set_reason_code("hydraulic-leak");
  *late.add_observations() = State(5, "2026-11-24T16:45:00Z", sv1::UNIT_STATE_RUNNING);
  *late.add_observations() = Count(8, "2026-11-24T17:00:00Z", -5, 0);  // bad: rejected alone
  auto acks = Stream({b1, b2, resent, late});
  EXPECT_EQ(acks[0].accepted(), 3u);
  EXPECT_EQ(acks[2].accepted(), 0u);
  EXPECT_EQ(acks[2].duplicates(), 3u);
  EXPECT_EQ(acks[3].accepted(), 2u);
  ASSERT_EQ(acks[3].rejected_size(), 1);
  EXPECT_EQ(acks[3].rejected(0).source_sequence(), 8u);
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());

  // Hand-computed: PBT 8 h; AUST 0.5 h; ADET 0.75 h; APT 6.75 h.
  // A = 6.75/8 = 84.375 %; E = 630 x 40 s / 6.75 h = 103.7 %; Q = 600/630;
  // OEE = 600 x 40 s / 8 h = 83.33 %; MTTR 0.75 h.
  rv1::QueryKpisResponse facility = Query("facilities/chicago-1");
  EXPECT_NEAR(Kpi(facility.total(), "availability"), 84.375, 1e-9);
  EXPECT_NEAR(Kpi(facility.total(), "effectiveness"), 100.0 * 630 * 40 / (6.75 * 3600), 1e-9);
  EXPECT_NEAR(Kpi(facility.total(), "quality_ratio"), 100.0 * 600 / 630, 1e-9);
  EXPECT_NEAR(Kpi(facility.total(), "oee"), 100.0 * 600 * 40 / (8 * 3600), 1e-9);
  EXPECT_NEAR(Kpi(facility.total(), "mttr"), 0.75, 1e-9);
  // Order wo-1001 ran 8 h and 630 parts were made: 78.75 parts per hour.
  EXPECT_NEAR(Kpi(facility.total(), "throughput_rate"), 630.0 / 8, 1e-9);
  EXPECT_EQ(facility.lag_events(), 0u);
  ASSERT_EQ(facility.downtime_pareto_size(), 1);
  EXPECT_EQ(facility.downtime_pareto(0).reason(), "hydraulic-leak");
  EXPECT_NEAR(facility.downtime_pareto(0).hours(), 0.75, 1e-9);
  EXPECT_EQ(facility.downtime_pareto(0).stoppages(), 1);
  EXPECT_NEAR(facility.downtime_pareto(0).share(), 100.0, 1e-9);
  // Positions of production: one stream on the embedded log, three
  // partitions on Kafka (each family of another context has its own).
  int production_positions = 0;
  for (const auto& p : facility.positions()) production_positions += p.context() == "scheduling";
  EXPECT_EQ(production_positions, GetParam() ? 3 : 1);

  rv1::QueryKpisResponse enterprise = Query("enterprise", "child");
  EXPECT_NEAR(Kpi(enterprise.total(), "oee"), Kpi(facility.total(), "oee"), 1e-9);
  ASSERT_EQ(enterprise.rows_size(), 2);
  EXPECT_EQ(enterprise.rows(1).label(), "regions/emea");
  EXPECT_EQ(Kpi(enterprise.rows(1), "oee"), -1);  // no data: no value

  // Restart: the same answers, and a resend is still a duplicate.
  Stop();
  Start();
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());
  EXPECT_NEAR(Kpi(Query("facilities/chicago-1").total(), "oee"), 100.0 * 600 * 40 / (8 * 3600), 1e-9);
  auto again = Stream({b2});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].rejected_size(), 0) << again[0].DebugString();
  EXPECT_EQ(again[0].duplicates(), 4u);
  EXPECT_EQ(again[0].accepted(), 0u);
}

TEST_P(EndToEndTest, BadRequestsGetClearErrors) {
  Start();
  ApplyEnterprise();
  auto stub = rv1::RollupService::NewStub(channel_);
  rv1::QueryKpisRequest req;
  req.set_scope("facilities/nowhere");
  req.set_from("2026-11-24");
  req.set_to("2026-11-24");
  grpc::ClientContext ctx;
  rv1::QueryKpisResponse resp;
  grpc::Status s = stub->QueryKpis(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("nowhere"), std::string::npos);
  EXPECT_EQ(DetailsOf(s).domain, "takt.dev");
  EXPECT_EQ(DetailsOf(s).reason, "NOT_FOUND");
  EXPECT_EQ(DetailsOf(s).field, "");
  req.set_scope("enterprise");
  req.set_from("24/11/2026");
  grpc::ClientContext ctx2;
  s = stub->QueryKpis(&ctx2, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("from"), std::string::npos);
  // A program finds the field without reading the message (AIP-193).
  EXPECT_EQ(DetailsOf(s).reason, "INVALID_ARGUMENT");
  EXPECT_EQ(DetailsOf(s).field, "from") << s.error_message();
  EXPECT_FALSE(DetailsOf(s).description.empty());
  // A handler that builds its grpc::Status itself gets details too (the
  // host adds them on the way out).
  {
    auto enterprise = ev1::EnterpriseService::NewStub(channel_);
    ev1::ListRoleBindingsRequest list;
    list.set_subject("person:has space");
    ev1::ListRoleBindingsResponse bindings;
    grpc::ClientContext c;
    grpc::Status st = enterprise->ListRoleBindings(&c, list, &bindings);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_EQ(DetailsOf(st).field, "subject") << st.error_message();
  }
  // A batch for an unknown facility: every observation rejected, stream stays up.
  sv1::ObservationBatch b;
  b.set_facility("atlantis-1");
  *b.add_observations() = State(1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
  auto acks = Stream({b});
  ASSERT_EQ(acks[0].rejected_size(), 1);
  EXPECT_NE(acks[0].rejected(0).reason().find("atlantis-1"), std::string::npos);

  // Regression (issue 11.10): bytes that are no protobuf message. A unary
  // call got INTERNAL with an empty message; on the ingest stream the
  // stream ended with OK, as if everything had been taken.
  const std::string garbage("\xff\xff\xff\xff\x07", 5);
  auto raw = [&](const std::string& bytes) {
    grpc::Slice slice(bytes);
    return grpc::ByteBuffer(&slice, 1);
  };
  {
    grpc::ClientContext ctx;
    grpc::ByteBuffer reply;
    grpc::Status st = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel_.get(),
        grpc::internal::RpcMethod("/takt.rollups.v1.RollupService/QueryKpis",
                                  grpc::internal::RpcMethod::NORMAL_RPC),
        &ctx, raw(garbage), &reply);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_NE(st.error_message().find("QueryKpis"), std::string::npos) << st.error_message();
    EXPECT_EQ(DetailsOf(st).reason, "MALFORMED_REQUEST");
  }
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(),
            grpc::internal::RpcMethod("/takt.scheduling.v1.FacilityIngestService/StreamObservations",
                                      grpc::internal::RpcMethod::BIDI_STREAMING),
            &ctx));
    sv1::ObservationBatch good;
    good.set_facility("chicago-1");
    *good.add_observations() = State(77, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
    ASSERT_TRUE(stream->Write(raw(good.SerializeAsString())));
    grpc::ByteBuffer reply;
    ASSERT_TRUE(stream->Read(&reply));
    sv1::IngestAck ack;
    ASSERT_TRUE(grpc::SerializationTraits<sv1::IngestAck>::Deserialize(&reply, &ack).ok());
    EXPECT_EQ(ack.accepted(), 1u);
    stream->Write(raw(garbage));
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_NE(st.error_message().find("message 2"), std::string::npos) << st.error_message();
    EXPECT_EQ(DetailsOf(st).reason, "MALFORMED_MESSAGE");
  }
}

// grpcurl and buf curl ask reflection v1 first (Debian's gRPC serves only
// v1alpha): every service is listed and described from the binary's own
// descriptors, health included; what is unknown gets NOT_FOUND and the
// stream goes on.
TEST_P(EndToEndTest, ReflectionV1ListsAndDescribesEveryService) {
  Start();
  namespace refl = ::grpc::reflection::v1;
  auto stub = refl::ServerReflection::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->ServerReflectionInfo(&ctx);
  refl::ServerReflectionRequest req;
  refl::ServerReflectionResponse resp;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.push_back(s.name());
  for (const char* expected : {"takt.rollups.v1.RollupService", "takt.scheduling.v1.FacilityIngestService",
                               "takt.enterprise.v1.EnterpriseService", "takt.operations.v1.OperationsService",
                               "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                               "grpc.reflection.v1alpha.ServerReflection"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  // Every service described; its files and their imports build a pool in
  // which the service has the binary's methods.
  google::protobuf::SimpleDescriptorDatabase db;
  for (const std::string& name : names) {
    req.set_file_containing_symbol(name);
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&resp));
    ASSERT_TRUE(resp.has_file_descriptor_response()) << name << ": " << resp.DebugString();
    EXPECT_EQ(resp.original_request().file_containing_symbol(), name);
    for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      google::protobuf::FileDescriptorProto known;
      if (!db.FindFileByName(file.name(), &known)) {
        EXPECT_TRUE(db.Add(file)) << file.name();
      }
    }
  }
  google::protobuf::DescriptorPool pool(&db);
  for (const std::string& name : names) {
    const auto* described = pool.FindServiceByName(name);
    ASSERT_NE(described, nullptr) << name;
    EXPECT_GT(described->method_count(), 0) << name;
    if (const auto* own = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name)) {
      EXPECT_EQ(described->method_count(), own->method_count()) << name;
    }
  }
  EXPECT_NE(pool.FindMethodByName("grpc.health.v1.Health.Check"), nullptr);
  EXPECT_NE(pool.FindMessageTypeByName("takt.rollups.v1.QueryKpisRequest"), nullptr);
  // Unknown: NOT_FOUND, and the stream answers on.
  req.set_file_containing_symbol("takt.nosuch.v1.Nothing");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  req.set_file_by_filename("takt/rollups/v1/rollups.proto");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_GT(resp.file_descriptor_response().file_descriptor_proto_size(), 0);
  req.set_file_by_filename("../../etc/passwd");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.error_response().error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

// gRPC sets SO_REUSEPORT by default; a second server on the port of a
// running one would split the clients between two logs. It must refuse to
// start, naming the address, and the first one keeps serving.
TEST_P(EndToEndTest, SecondServerOnTheSamePortRefusesToStart) {
  Start();
  ApplyEnterprise();
  testing::TempDir other;
  host::ServerOptions o;
  o.security.insecure = true;  // tests/security_test.cc covers TLS
  o.data_dir = other.path();
  o.listen = "127.0.0.1:" + std::to_string(server_->port());
  auto second = services::StartServer(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(o.listen), std::string::npos) << second.status();
  EXPECT_NEAR(Kpi(Query("facilities/chicago-1").total(), "oee"), -1, 1e-9);  // still answers
}

// Regression (issue 11.7): with the projection's cursor past the end of
// the log (a log restored from an older backup), newly acknowledged
// observations were never projected and answers said lag 0. The server now
// detects it on start and rebuilds the rollups from the log.
TEST_P(EndToEndTest, AProjectionAheadOfARestoredLogIsRebuilt) {
  if (GetParam()) GTEST_SKIP() << "the embedded log's backup and restore";
  auto batch = [](std::vector<sv1::Observation> obs) {
    sv1::ObservationBatch b;
    b.set_facility("chicago-1");
    for (auto& o : obs) *b.add_observations() = std::move(o);
    return b;
  };
  auto good = [&](const rv1::QueryKpisResponse& r) {
    for (const auto& e : r.total().elements()) {
      if (e.name() == "GQ") return e.value();
    }
    return int64_t{-1};
  };
  Start();
  ApplyEnterprise();
  Stream({batch({State(1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING),
                 Count(2, "2026-11-24T13:00:00Z", 100, 0)})});
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());
  Stop();
  const std::filesystem::path log_dir = std::filesystem::path(dir_.path()) / "log";
  const std::filesystem::path backup = std::filesystem::path(dir_.path()) / "log-backup";
  std::filesystem::copy(log_dir, backup, std::filesystem::copy_options::recursive);
  Start();
  Stream({batch({Count(3, "2026-11-24T14:00:00Z", 50, 0), Count(4, "2026-11-24T14:10:00Z", 50, 0)})});
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());
  EXPECT_EQ(good(Query("facilities/chicago-1")), 200);
  Stop();
  std::filesystem::remove_all(log_dir);
  std::filesystem::rename(backup, log_dir);  // the older backup is back
  Start();
  Stream({batch({Count(10, "2026-11-24T15:00:00Z", 7, 0)})});
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());
  rv1::QueryKpisResponse r = Query("facilities/chicago-1");
  EXPECT_EQ(good(r), 107);  // the first batch and the new one: nothing skipped
  EXPECT_EQ(r.lag_events(), 0u);
}

// Regression (issue 11.9): `takt schedule commit` resent with the same
// request id answered ALREADY_EXISTS (the occurred time entered the content
// compared), and resent commands reported "changed 0". Every command with a
// request id gets its original result when resent, also after a restart;
// the same request id with other content is ALREADY_EXISTS.
TEST_P(EndToEndTest, ResentCommandsGetTheirOriginalResultAlsoAfterARestart) {
  Start();
  ApplyEnterprise();  // resends its definitions once, expecting 13 changed both times
  sv1::ExecuteRequest exec;
  exec.set_facility("chicago-1");
  exec.set_request_id("plan-7");
  auto* routing = exec.add_commands()->mutable_define_routing();
  routing->set_product("door");
  auto* step = routing->add_steps();
  step->set_step("press");
  step->set_work_center("line");
  auto* w = exec.add_commands()->mutable_create_work_order();
  w->set_work_order("wo-7");
  w->set_product("door");
  w->set_quantity(30);
  w->mutable_release_time()->set_seconds(1'795'000'000);
  exec.add_commands()->mutable_release_work_order()->set_work_order("wo-7");
  sv1::ExecuteRequest done;
  done.set_facility("chicago-1");
  done.set_request_id("done-7");
  done.add_commands()->mutable_complete_work_order()->set_work_order("wo-7");  // "now"
  sv1::ScheduleRequest what_if;
  what_if.set_facility("chicago-1");
  what_if.mutable_horizon_start()->set_seconds(1'795'000'000);
  what_if.set_horizon_days(7);
  what_if.set_max_iterations(100);
  sv1::CommitScheduleRequest commit;
  commit.set_facility("chicago-1");
  commit.set_request_id("commit-7");

  auto execute = [&](const sv1::ExecuteRequest& r, sv1::ExecuteResponse* resp) {
    grpc::ClientContext ctx;
    return sv1::SchedulingService::NewStub(channel_)->Execute(&ctx, r, resp);
  };
  auto commit_it = [&](sv1::CommitScheduleResponse* resp) {
    grpc::ClientContext ctx;
    return sv1::SchedulingService::NewStub(channel_)->CommitSchedule(&ctx, commit, resp);
  };
  auto apply = [&](const ev1::ApplyDefinitionsRequest& r, ev1::ApplyDefinitionsResponse* resp) {
    grpc::ClientContext ctx;
    return ev1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, r, resp);
  };
  sv1::ExecuteResponse planned;
  ASSERT_TRUE(execute(exec, &planned).ok());
  EXPECT_EQ(planned.changed(), 3u);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(sv1::SchedulingService::NewStub(channel_)
                    ->ProposeSchedule(&ctx, what_if, commit.mutable_schedule())
                    .ok());
  }
  sv1::CommitScheduleResponse committed;
  grpc::Status st = commit_it(&committed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  sv1::ExecuteResponse completed;
  ASSERT_TRUE(execute(done, &completed).ok());
  EXPECT_EQ(completed.changed(), 1u);
  ev1::ApplyDefinitionsRequest product;
  product.set_request_id("product-7");
  product.add_definitions()->mutable_product()->set_product("hinge");
  product.mutable_definitions(0)->mutable_product()->set_planned_run_time_per_item_us(5'000'000);
  ev1::ApplyDefinitionsResponse defined;
  ASSERT_TRUE(apply(product, &defined).ok());
  EXPECT_EQ(defined.changed(), 1u);

  for (int round = 0; round < 2; ++round) {  // before and after a restart
    SCOPED_TRACE(round == 0 ? "running" : "restarted");
    sv1::ExecuteResponse again;
    st = execute(exec, &again);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(again.changed(), 3u);
    sv1::CommitScheduleResponse recommitted;
    st = commit_it(&recommitted);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(recommitted.schedule_id(), committed.schedule_id());
    st = execute(done, &again);  // its completed time was "now": still the same request
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(again.changed(), 1u);
    ev1::ApplyDefinitionsResponse redefined;
    ASSERT_TRUE(apply(product, &redefined).ok());
    EXPECT_EQ(redefined.changed(), 1u);
    // The same request id for other content: refused, naming it.
    sv1::ExecuteRequest other = exec;
    other.mutable_commands(1)->mutable_create_work_order()->set_quantity(31);
    st = execute(other, &again);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::ALREADY_EXISTS);
    EXPECT_NE(st.error_message().find("plan-7"), std::string::npos) << st.error_message();
    ev1::ApplyDefinitionsRequest other_product = product;
    other_product.mutable_definitions(0)->mutable_product()->set_planned_run_time_per_item_us(6'000'000);
    EXPECT_EQ(apply(other_product, &redefined).error_code(), grpc::StatusCode::ALREADY_EXISTS);
    Stop();
    Start();
  }
}

// Issue 12.4: an oversized batch ends the stream once with INVALID_ARGUMENT
// (not 10,001 identical rejections); one peer cannot open streams without
// bound.
TEST_P(EndToEndTest, OversizedBatchesAndTooManyStreamsAreRefused) {
  Start();
  ApplyEnterprise();
  auto stub = sv1::FacilityIngestService::NewStub(channel_);
  {
    sv1::ObservationBatch huge;
    huge.set_facility("chicago-1");
    huge.set_batch_id(9);
    for (int i = 0; i <= 10000; ++i) {
      *huge.add_observations() = State(i + 1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
    }
    grpc::ClientContext ctx;
    auto stream = stub->StreamObservations(&ctx);
    stream->Write(huge);
    stream->WritesDone();
    sv1::IngestAck ack;
    EXPECT_FALSE(stream->Read(&ack));
    grpc::Status st = stream->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("batch 9 has 10001 observations"), std::string::npos)
        << st.error_message();
  }
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::unique_ptr<grpc::ClientReaderWriter<sv1::ObservationBatch, sv1::IngestAck>>> streams;
  grpc::Status refused;
  for (int i = 0; i < 40 && refused.ok(); ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    streams.push_back(stub->StreamObservations(contexts.back().get()));
    sv1::ObservationBatch b;
    b.set_facility("chicago-1");
    *b.add_observations() = State(100 + i, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
    sv1::IngestAck ack;
    if (!streams.back()->Write(b) || !streams.back()->Read(&ack)) refused = streams.back()->Finish();
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.error_message();
  EXPECT_EQ(streams.size(), 33u);
  EXPECT_NE(refused.error_message().find("at most 32 per peer"), std::string::npos);
  EXPECT_EQ(DetailsOf(refused).reason, "TOO_MANY_STREAMS");
  for (size_t i = 0; i + 1 < streams.size(); ++i) {
    streams[i]->WritesDone();
    EXPECT_TRUE(streams[i]->Finish().ok());
  }
}

// A stream of batches the client leaves silent is closed after the idle
// timeout (a blocked read cannot time out by itself: issue 12.4); what it
// acknowledged stays recorded, and a stream that keeps sending stays open.
TEST_P(EndToEndTest, IdleStreamsAreClosedAndWhatTheyAcknowledgedStays) {
  Start(absl::Seconds(2));
  ApplyEnterprise();
  auto stub = sv1::FacilityIngestService::NewStub(channel_);
  sv1::ObservationBatch b;
  b.set_facility("chicago-1");
  *b.add_observations() = State(1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
  grpc::ClientContext idle_ctx, busy_ctx;
  auto idle = stub->StreamObservations(&idle_ctx);
  sv1::IngestAck ack;
  ASSERT_TRUE(idle->Write(b));
  ASSERT_TRUE(idle->Read(&ack));
  EXPECT_EQ(ack.accepted(), 1u);
  auto busy = stub->StreamObservations(&busy_ctx);
  for (int i = 0; i < 14; ++i) {  // 4.2 s, a batch every 0.3 s
    if (i > 0) absl::SleepFor(absl::Milliseconds(300));
    sv1::ObservationBatch next = b;
    *next.mutable_observations(0) = State(10 + i, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
    ASSERT_TRUE(busy->Write(next)) << "a busy stream was closed after " << i << " batches";
    ASSERT_TRUE(busy->Read(&ack));
    EXPECT_EQ(ack.accepted(), 1u);
  }
  EXPECT_FALSE(idle->Read(&ack));
  EXPECT_EQ(idle->Finish().error_code(), grpc::StatusCode::CANCELLED);
  busy->WritesDone();
  EXPECT_TRUE(busy->Finish().ok());
  // The idle stream's batch was recorded: a resend is a duplicate.
  auto again = Stream({b});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].duplicates(), 1u) << again[0].DebugString();
}

// gRPC health per service name (issue 12.6): every service a process runs
// answers SERVING once ready (the rollups: projection applying and caught
// up); an unknown name is NOT_FOUND.
TEST_P(EndToEndTest, HealthIsReportedPerService) {
  Start();
  ApplyEnterprise();
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(10)).ok());
  const std::string serving("\x08\x01", 2);
  grpc::Status st;
  // The readiness check runs once a second.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (HealthOf("takt.rollups.v1.RollupService", &st) != serving && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  for (const char* service : {"", "takt.enterprise.v1.EnterpriseService",
                              "takt.scheduling.v1.FacilityIngestService",
                              "takt.scheduling.v1.SchedulingService", "takt.rollups.v1.RollupService",
                              "takt.audit.v1.AuditService"}) {
    EXPECT_EQ(HealthOf(service, &st), serving) << service << ": " << st.error_message();
  }
  HealthOf("takt.payroll.v1.PayrollService", &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

// Readiness of the write side (issue 12.6): with no Kafka broker answering,
// the services that append turn NOT_SERVING (probes route writes
// elsewhere), and SERVING again once a broker is back.
TEST_P(EndToEndTest, ServicesThatAppendAreNotReadyWhileTheLogTakesNoWrites) {
  if (!GetParam()) GTEST_SKIP() << "a broker that goes down: the Kafka mock";
  Start();
  ApplyEnterprise();
  const std::string serving("\x08\x01", 2), not_serving("\x08\x02", 2);
  const char* kWriter = "takt.scheduling.v1.FacilityIngestService";
  grpc::Status st;
  auto wait_for = [&](const std::string& want) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (HealthOf(kWriter, &st) != want && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
    return HealthOf(kWriter, &st) == want;
  };
  ASSERT_TRUE(wait_for(serving)) << st.error_message();
  cluster_->SetBrokerDown(1);
  EXPECT_TRUE(wait_for(not_serving)) << "still SERVING with no broker: " << st.error_message();
  cluster_->SetBrokerUp(1);
  EXPECT_TRUE(wait_for(serving)) << "not SERVING again with the broker back: " << st.error_message();
  // And it takes writes again.
  sv1::ObservationBatch b;
  b.set_facility("chicago-1");
  *b.add_observations() = State(1, "2026-11-24T12:00:00Z", sv1::UNIT_STATE_RUNNING);
  auto acks = Stream({b});
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].accepted(), 1u) << acks[0].DebugString();
}

// A planner's day: routings and work orders through the scheduling
// service, a what-if, a commit, completions from the shop floor, then the
// delivery KPIs a director sees for the facility and its region.
TEST_P(EndToEndTest, WorkOrdersScheduledCommittedAndMeasured) {
  Start();
  ApplyEnterprise();
  auto stub = sv1::SchedulingService::NewStub(channel_);
  auto ts = [](const char* utc) {
    absl::Time t;
    std::string err;
    EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, utc, &t, &err)) << err;
    google::protobuf::Timestamp out;
    out.set_seconds(absl::ToUnixSeconds(t));
    return out;
  };
  sv1::ExecuteRequest exec;
  exec.set_facility("chicago-1");
  exec.set_request_id("plan-1");
  auto* routing = exec.add_commands()->mutable_define_routing();
  routing->set_product("door");
  auto* step = routing->add_steps();
  step->set_step("press");
  step->set_work_center("line");
  step->set_setup_us(600'000'000);  // 10 min
  step->set_setup_family("door-die");
  // Shift A is 06:00-14:00 Chicago (12:00-20:00 UTC on 2026-11-24).
  struct Order {
    const char* id;
    int qty;
    const char* due;
  };
  for (Order o : {Order{"wo-1", 90, "2026-11-24T14:00:00Z"},      // 1 h of work, due 08:00 local
                  Order{"wo-2", 180, "2026-11-24T23:00:00Z"},     // 2 h, due after the shift
                  Order{"wo-3", 45, "2026-11-24T12:30:00Z"}}) {   // 0.5 h + setup: late
    auto* w = exec.add_commands()->mutable_create_work_order();
    w->set_work_order(o.id);
    w->set_product("door");
    w->set_quantity(o.qty);
    *w->mutable_release_time() = ts("2026-11-24T12:00:00Z");
    *w->mutable_due_time() = ts(o.due);
    exec.add_commands()->mutable_release_work_order()->set_work_order(o.id);
  }
  for (int attempt = 0; attempt < 2; ++attempt) {  // the resend gets the original result
    grpc::ClientContext ctx;
    sv1::ExecuteResponse resp;
    grpc::Status st = stub->Execute(&ctx, exec, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.changed(), 7u);
  }
  {  // a bad command: a routing step on a unit that does not exist
    sv1::ExecuteRequest bad;
    bad.set_facility("chicago-1");
    auto* r = bad.add_commands()->mutable_define_routing();
    r->set_product("door");
    auto* st = r->add_steps();
    st->set_step("press");
    st->add_work_units("press-9");
    grpc::ClientContext ctx;
    sv1::ExecuteResponse resp;
    grpc::Status s = stub->Execute(&ctx, bad, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("'press-9'"), std::string::npos) << s.error_message();
  }
  sv1::ScheduleRequest what_if;
  what_if.set_facility("chicago-1");
  what_if.set_objective("weighted_tardiness");
  *what_if.mutable_horizon_start() = ts("2026-11-24T12:00:00Z");
  what_if.set_horizon_days(7);
  what_if.set_max_iterations(2000);
  sv1::Schedule proposal;
  {
    grpc::ClientContext ctx;
    grpc::Status st = stub->ProposeSchedule(&ctx, what_if, &proposal);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_EQ(proposal.orders_size(), 3);
  EXPECT_EQ(proposal.kpis().late_orders(), 1);  // wo-3 needs 40 min from 12:00 UTC
  {  // what-if committed nothing
    grpc::ClientContext ctx;
    sv1::ListWorkOrdersRequest req;
    req.set_facility("chicago-1");
    sv1::ListWorkOrdersResponse list;
    ASSERT_TRUE(stub->ListWorkOrders(&ctx, req, &list).ok());
    EXPECT_TRUE(list.committed_schedule_id().empty());
    for (const auto& w : list.work_orders()) EXPECT_FALSE(w.has_planned_end()) << w.work_order();
  }
  {
    grpc::ClientContext ctx;
    sv1::CommitScheduleRequest commit;
    commit.set_facility("chicago-1");
    commit.set_request_id("commit-1");
    *commit.mutable_schedule() = proposal;
    sv1::CommitScheduleResponse resp;
    grpc::Status st = stub->CommitSchedule(&ctx, commit, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.schedule_id(), proposal.schedule_id());
  }
  // The shop floor completes every order at its planned end, except wo-2,
  // which finishes an hour after its window (still before its due date).
  sv1::ExecuteRequest done;
  done.set_facility("chicago-1");
  done.set_request_id("done-1");
  for (const auto& o : proposal.orders()) {
    auto* c = done.add_commands()->mutable_complete_work_order();
    c->set_work_order(o.work_order());
    *c->mutable_completed_time() = o.planned_end();
    if (o.work_order() == "wo-2") c->mutable_completed_time()->set_seconds(o.planned_end().seconds() + 3600);
  }
  {
    grpc::ClientContext ctx;
    sv1::ExecuteResponse resp;
    grpc::Status st = stub->Execute(&ctx, done, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  for (const char* scope : {"facilities/chicago-1", "regions/americas", "enterprise"}) {
    rv1::QueryKpisRequest req;
    req.set_scope(scope);
    for (const char* k : {"schedule_adherence", "on_time_completion", "mean_lateness", "late_orders"}) {
      req.add_kpis(k);
    }
    req.set_from("2026-11-24");
    req.set_to("2026-11-24");
    auto rstub = rv1::RollupService::NewStub(channel_);
    grpc::ClientContext ctx;
    rv1::QueryKpisResponse resp;
    ASSERT_TRUE(rstub->QueryKpis(&ctx, req, &resp).ok());
    EXPECT_NEAR(Kpi(resp.total(), "schedule_adherence"), 100.0 * 2 / 3, 1e-6) << scope;
    EXPECT_NEAR(Kpi(resp.total(), "on_time_completion"), 100.0 * 2 / 3, 1e-6) << scope;
    EXPECT_EQ(Kpi(resp.total(), "late_orders"), 1) << scope;
    double lateness_h = 0;
    for (const auto& o : proposal.orders()) {
      lateness_h += (o.lateness_seconds() + (o.work_order() == "wo-2" ? 3600 : 0)) / 3600.0;
    }
    EXPECT_NEAR(Kpi(resp.total(), "mean_lateness"), lateness_h / 3, 1e-6) << scope;
  }
}

INSTANTIATE_TEST_SUITE_P(Logs, EndToEndTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Kafka" : "Embedded";
                         });

}  // namespace
}  // namespace takt
