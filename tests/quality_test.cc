// The quality context end to end through gRPC on the embedded log: plans,
// streamed measurements with SPC rules, a resend, limits, NCR/CAPA, the
// quality KPIs in the rollups, capability pooled over a region, audit
// explain and replay.
#include <grpcpp/grpcpp.h>

#include <cmath>

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/testing/temp_dir.h"
#include "services/registry.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace qv1 = ::takt::quality::v1;
namespace rv1 = ::takt::rollups::v1;
namespace av1 = ::takt::audit::v1;

const absl::Time kStart = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 8, 0, 0), absl::UTCTimeZone());

class QualityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host::ServerOptions o;
    o.security.insecure = true;  // tests/security_test.cc covers TLS
    o.data_dir = dir_.path();
    o.listen = "127.0.0.1:0";
    auto s = services::StartServer(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    quality_ = qv1::QualityService::NewStub(channel_);
    ev1::ApplyDefinitionsRequest req;
    req.add_definitions()->mutable_region()->set_region("emea");
    for (const std::string f : {"berlin", "lyon"}) {
      auto* fd = req.add_definitions()->mutable_facility();
      fd->set_facility(f);
      fd->mutable_calendar()->set_time_zone("UTC");
      auto* mv = req.add_definitions()->mutable_move();
      mv->set_facility(f);
      mv->set_region("emea");
      mv->set_effective_from("2000-01-01");
      auto* area = req.add_definitions()->mutable_area();
      area->set_facility(f);
      area->set_area("a");
      auto* wc = req.add_definitions()->mutable_work_center();
      wc->set_facility(f);
      wc->set_area("a");
      wc->set_work_center("wc");
      auto* u = req.add_definitions()->mutable_work_unit();
      u->set_facility(f);
      u->set_work_center("wc");
      u->set_work_unit(f + "-cnc");
    }
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    grpc::Status s2 = ev1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, req, &resp);
    ASSERT_TRUE(s2.ok()) << s2.error_message();
    for (const std::string f : {"berlin", "lyon"}) {
      qv1::ApplyPlansRequest plans;
      plans.set_facility(f);
      plans.add_defect_codes()->set_code("SCRATCH");
      auto* p = plans.add_plans();
      p->set_plan_id("op20");
      p->set_product("housing");
      p->set_work_unit(f + "-cnc");
      p->set_effective_from("2026-01-01");
      auto* c = p->add_characteristics();
      c->set_id("bore");
      c->set_chart(qv1::XBAR_R);
      c->set_nominal(10);
      c->set_lower_spec(9.9);
      c->set_upper_spec(10.1);
      c->set_unit("mm");
      c->set_subgroup_size(3);
      c->set_resolution(0.001);
      auto* a = p->add_characteristics();
      a->set_id("finish");
      a->set_chart(qv1::P);
      a->add_defect_codes("SCRATCH");
      auto* leak = p->add_characteristics();
      leak->set_id("leak");
      leak->set_chart(qv1::P);
      grpc::ClientContext pctx;
      qv1::ApplyPlansResponse presp;
      grpc::Status ps = quality_->ApplyPlans(&pctx, plans, &presp);
      ASSERT_TRUE(ps.ok()) << ps.error_message();
    }
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  // Subgroups of three for a facility: values[i] at kStart + i minutes.
  qv1::SampleBatch Subgroups(const std::string& f, const std::vector<std::vector<double>>& groups,
                             uint64_t first_seq) {
    qv1::SampleBatch b;
    b.set_facility(f);
    for (size_t i = 0; i < groups.size(); ++i) {
      auto* s = b.add_samples();
      s->set_source_id("cmm");
      s->set_source_sequence(first_seq + i);
      *s->mutable_source_time() = ToProto(kStart + absl::Minutes(static_cast<int>(first_seq + i)));
      s->set_characteristic("bore");
      s->mutable_measurement()->set_unit("mm");
      for (double x : groups[i]) s->mutable_measurement()->add_values(x);
    }
    return b;
  }
  std::vector<qv1::SampleAck> Stream(const std::vector<qv1::SampleBatch>& batches, grpc::Status* end) {
    grpc::ClientContext ctx;
    auto stream = quality_->StreamSamples(&ctx);
    std::vector<qv1::SampleAck> acks;
    for (const auto& b : batches) {
      if (!stream->Write(b)) break;
      qv1::SampleAck ack;
      if (!stream->Read(&ack)) break;
      acks.push_back(ack);
    }
    stream->WritesDone();
    *end = stream->Finish();
    return acks;
  }

  testing::TempDir dir_;
  std::unique_ptr<host::TaktServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<qv1::QualityService::Stub> quality_;
};

TEST_F(QualityE2eTest, MeasurementsToSignalsToKpisToCapabilityToAudit) {
  // Berlin centred and tight, Lyon off-centre and wide.
  const std::vector<std::vector<double>> berlin = {
      {10.001, 9.999, 10.000}, {10.002, 10.000, 9.998}, {10.000, 10.001, 9.999}, {10.001, 10.000, 9.999}};
  const std::vector<std::vector<double>> lyon = {
      {10.010, 10.016, 10.004}, {10.020, 10.008, 10.014}, {10.012, 10.018, 10.006}, {10.011, 10.013, 10.012}};
  grpc::Status end;
  auto acks = Stream({Subgroups("berlin", berlin, 1), Subgroups("lyon", lyon, 1)}, &end);
  ASSERT_TRUE(end.ok()) << end.error_message();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].accepted(), 4u);
  EXPECT_EQ(acks[1].accepted(), 4u);
  // Resent after a reconnect: nothing new.
  acks = Stream({Subgroups("berlin", berlin, 1)}, &end);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(acks[0].duplicates(), 4u);

  // Limits from Berlin's four subgroups; then a subgroup far out fires rule 1.
  qv1::ApproveLimitsRequest lr;
  lr.set_facility("berlin");
  lr.set_characteristic("bore");
  *lr.mutable_baseline_from() = ToProto(kStart);
  *lr.mutable_baseline_to() = ToProto(kStart + absl::Hours(1));
  lr.set_reason("capability study");
  lr.set_request_id("limits-1");
  qv1::LimitsApproved limits;
  {
    grpc::ClientContext ctx;
    grpc::Status s = quality_->ApproveLimits(&ctx, lr, &limits);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(limits.revision(), 1u);
  acks = Stream({Subgroups("berlin", {{10.02, 10.021, 10.019}}, 5)}, &end);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(acks[0].violations(), 1u);

  // A batch refused as a whole ends the stream with INVALID_ARGUMENT.
  {
    // (The typed client cannot send undecodable bytes; an empty batch is
    // a malformed request refused as a whole, named.)
    grpc::ClientContext ctx;
    auto stream = quality_->StreamSamples(&ctx);
    qv1::SampleBatch empty;
    empty.set_facility("berlin");
    ASSERT_TRUE(stream->Write(empty));
    qv1::SampleAck ack;
    EXPECT_FALSE(stream->Read(&ack));
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("no samples"), std::string::npos);
  }

  // Bytes that are no SampleBatch: the stream ends with INVALID_ARGUMENT
  // naming the message (not OK, as if everything had been taken).
  {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel_.get(),
            grpc::internal::RpcMethod("/takt.quality.v1.QualityService/StreamSamples",
                                      grpc::internal::RpcMethod::BIDI_STREAMING),
            &ctx));
    const std::string garbage("\xff\xff\xff\xff\x07", 5);
    grpc::Slice slice(garbage);
    stream->Write(grpc::ByteBuffer(&slice, 1));
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_NE(s.error_message().find("SampleBatch"), std::string::npos) << s.error_message();
  }

  // Inspections and an NCR taken to closure.
  {
    qv1::SampleBatch b;
    b.set_facility("lyon");
    auto* s = b.add_samples();
    s->set_source_id("vision");
    s->set_source_sequence(1);
    *s->mutable_source_time() = ToProto(kStart + absl::Hours(2));
    s->set_characteristic("finish");
    s->mutable_inspection()->set_inspected(40);
    s->mutable_inspection()->set_failed(4);
    auto* d = s->mutable_inspection()->add_defects();
    d->set_code("SCRATCH");
    d->set_count(5);
    acks = Stream({b}, &end);
    ASSERT_TRUE(end.ok());
    ASSERT_EQ(acks[0].accepted(), 1u);
  }
  auto ncr = [&](qv1::NcrCommand c) {
    qv1::NcrRequest r;
    r.set_facility("lyon");
    *r.mutable_command() = c;
    grpc::ClientContext ctx;
    qv1::NcrResponse resp;
    grpc::Status s = quality_->ExecuteNcr(&ctx, r, &resp);
    return std::make_pair(s, resp);
  };
  qv1::NcrCommand c;
  c.mutable_raise()->set_description("scratches on lot 7");
  auto [raised_status, raised] = ncr(c);
  ASSERT_TRUE(raised_status.ok()) << raised_status.error_message();
  const std::string id = raised.ncr().ncr_id();
  c.Clear();
  c.mutable_close()->set_ncr_id(id);
  c.mutable_close()->set_reason("done");
  EXPECT_EQ(ncr(c).first.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // The quality KPIs in the rollups, and audit explain recomputes them.
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  auto stub = rv1::RollupService::NewStub(channel_);
  rv1::QueryKpisRequest q;
  q.set_scope("regions/emea");
  q.add_kpis("quality_fpy");
  q.add_kpis("quality_dpu");
  q.add_kpis("ncr_raised");
  q.set_from("2026-11-23");
  // Through today: the NCR was raised now.
  q.set_to(absl::FormatCivilTime(absl::ToCivilDay(absl::Now(), absl::UTCTimeZone())));
  rv1::QueryKpisResponse kpis;
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub->QueryKpis(&ctx, q, &kpis);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(kpis.total().kpis_size(), 3);
  EXPECT_DOUBLE_EQ(kpis.total().kpis(0).value(), 100.0 * 36 / 40);
  EXPECT_DOUBLE_EQ(kpis.total().kpis(1).value(), 5.0 / 40);
  EXPECT_DOUBLE_EQ(kpis.total().kpis(2).value(), 1);
  av1::ExplainRequest ex;
  ex.set_scope("regions/emea");
  ex.set_kpi("quality_fpy");
  ex.set_from("2026-11-23");
  ex.set_to("2026-11-23");
  {
    grpc::ClientContext ctx;
    av1::ExplainResponse explained;
    grpc::Status s = av1::AuditService::NewStub(channel_)->Explain(&ctx, ex, &explained);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(explained.equal());
    EXPECT_DOUBLE_EQ(explained.recomputed_value(), 90.0);
  }

  // Capability over the region: the pooled data, by hand.
  std::vector<std::vector<double>> all = berlin;
  all.insert(all.end(), lyon.begin(), lyon.end());
  all.push_back({10.02, 10.021, 10.019});
  double n = 0, sum = 0;
  for (auto& g : all) for (double x : g) { sum += x; n += 1; }
  const double mean = sum / n;
  double ss_within = 0, ss_overall = 0;
  for (auto& g : all) {
    const double gm = (g[0] + g[1] + g[2]) / 3;
    for (double x : g) {
      ss_within += (x - gm) * (x - gm);
      ss_overall += (x - mean) * (x - mean);
    }
  }
  const double within = std::sqrt(ss_within / (n - all.size()));
  const double overall = std::sqrt(ss_overall / (n - 1));
  qv1::CapabilityRequest cr;
  cr.set_characteristic("bore");
  cr.set_scope("regions/emea");
  cr.set_from("2026-11-23");
  cr.set_to("2026-11-23");
  qv1::Capability cap;
  {
    grpc::ClientContext ctx;
    grpc::Status s = quality_->GetCapability(&ctx, cr, &cap);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(cap.n(), 27u);
  EXPECT_EQ(cap.facilities_size(), 2);
  EXPECT_NEAR(cap.mean(), mean, 1e-9);
  EXPECT_NEAR(cap.sigma_within(), within, 1e-9);
  EXPECT_NEAR(cap.sigma_overall(), overall, 1e-9);
  EXPECT_NEAR(cap.cpk(), std::min(10.1 - mean, mean - 9.9) / (3 * within), 1e-6);

  // The audited history of the context.
  av1::ReplayRequest rr;
  rr.set_facility("berlin");
  rr.add_contexts("quality");
  grpc::ClientContext rctx;
  auto reader = av1::AuditService::NewStub(channel_)->Replay(&rctx, rr);
  av1::ReplayItem item;
  int events = 0, violations = 0;
  while (reader->Read(&item)) {
    if (!item.has_event()) continue;
    ++events;
    violations += item.event().event_type() == "takt.quality.v1.RuleViolated";
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(violations, 1);
  EXPECT_EQ(events, 4 + 1 + 1 + 3);  // subgroups, the violation, and F.qms: plan, code, limits

  // Rolled throughput yield of the housing over its two inspection steps,
  // each pooled over the region: finish (Berlin 60/3 failed, Lyon 40/4:
  // 93 of 100 first time) x leak (Lyon 20/1 and a re-inspection that does
  // not count: 19 of 20) = 0.93 x 0.95.
  auto inspect = [&](const std::string& f, const std::string& c, uint64_t seq, int n, int failed,
                     bool again) {
    qv1::SampleBatch b;
    b.set_facility(f);
    auto* s = b.add_samples();
    s->set_source_id("vision-2");
    s->set_source_sequence(seq);
    *s->mutable_source_time() = ToProto(kStart + absl::Hours(3));
    s->set_characteristic(c);
    s->mutable_inspection()->set_inspected(static_cast<uint32_t>(n));
    s->mutable_inspection()->set_failed(static_cast<uint32_t>(failed));
    s->mutable_inspection()->set_reinspection(again);
    grpc::Status st;
    auto a = Stream({b}, &st);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(a[0].accepted(), 1u);
  };
  inspect("berlin", "finish", 1, 60, 3, false);
  inspect("lyon", "leak", 1, 20, 1, false);
  inspect("lyon", "leak", 2, 1, 0, true);
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  qv1::RtyRequest rq;
  rq.set_product("housing");
  rq.set_scope("regions/emea");
  rq.set_from("2026-11-23");
  rq.set_to("2026-11-23");
  qv1::RtyResponse rty;
  {
    grpc::ClientContext ctx;
    grpc::Status s = quality_->GetRolledThroughputYield(&ctx, rq, &rty);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(rty.steps_size(), 2);
  EXPECT_EQ(rty.steps(0).characteristic(), "finish");
  EXPECT_EQ(rty.steps(0).first_inspected(), 100u);
  EXPECT_EQ(rty.steps(0).first_passed(), 93u);
  EXPECT_EQ(rty.steps(1).first_inspected(), 20u);
  EXPECT_DOUBLE_EQ(rty.rolled_throughput_yield(), 0.93 * 0.95);
}

}  // namespace
}  // namespace takt
