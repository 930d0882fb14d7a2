// The staffing context end to end through gRPC on the embedded log: people
// with sealed personal data, a qualified roster, attendance streamed with a
// resend, incidents, safety rates pooled over a region in the rollups (and
// recomputed by audit explain), then an erasure: the personal data reads
// [erased] in views and in the audited replay, the KPIs are unchanged and
// the history still verifies.
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/testing/temp_dir.h"
#include "services/registry.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::staffing::v1;
namespace rv1 = ::takt::rollups::v1;
namespace av1 = ::takt::audit::v1;
namespace schv1 = ::takt::scheduling::v1;

constexpr char kCanary[] = "CANARY-E2E-9F1C";
const absl::Time kShift = absl::FromCivil(absl::CivilSecond(2026, 11, 23, 6, 0, 0), absl::UTCTimeZone());

class StaffingE2eTest : public ::testing::Test {
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
    staffing_ = sv1::StaffingService::NewStub(channel_);
    ev1::ApplyDefinitionsRequest req;
    req.add_definitions()->mutable_region()->set_region("emea");
    for (const std::string f : {"berlin", "lyon"}) {
      auto* fd = req.add_definitions()->mutable_facility();
      fd->set_facility(f);
      fd->mutable_calendar()->set_time_zone("UTC");
      fd->mutable_calendar()->set_day_start("06:00");
      auto* shift = fd->mutable_calendar()->add_shifts();
      shift->set_name("early");
      shift->set_start("06:00");
      shift->set_end("14:00");
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
      u->set_work_unit(f + "-press");
    }
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    grpc::Status s2 = ev1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, req, &resp);
    ASSERT_TRUE(s2.ok()) << s2.error_message();
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  grpc::Status Apply(const sv1::ApplyStaffRequest& r) {
    grpc::ClientContext ctx;
    sv1::ApplyStaffResponse resp;
    return staffing_->ApplyStaff(&ctx, r, &resp);
  }
  // People of a plant, each working 06:00 + 10 h on the day (one batch).
  sv1::AttendanceBatch Worked(const std::string& f, int people, uint64_t batch) {
    sv1::AttendanceBatch b;
    b.set_facility(f);
    b.set_batch_id(batch);
    for (int i = 0; i < people; ++i) {
      for (auto [kind, at] : {std::pair{sv1::IN, kShift}, std::pair{sv1::OUT, kShift + absl::Hours(10)}}) {
        auto* r = b.add_records();
        r->set_source_id("clock-" + f);
        r->set_source_sequence(static_cast<uint64_t>(2 * i + (kind == sv1::OUT) + 1));
        r->set_person("p-" + std::to_string(i + 1));
        r->set_kind(kind);
        *r->mutable_at() = ToProto(at);
        r->set_station(f + "-press");
      }
    }
    return b;
  }
  double Kpi(const std::string& kpi, const std::string& scope) {
    auto stub = rv1::RollupService::NewStub(channel_);
    rv1::QueryKpisRequest q;
    q.set_scope(scope);
    q.add_kpis(kpi);
    q.set_from("2026-11-23");
    q.set_to("2026-11-23");
    grpc::ClientContext ctx;
    rv1::QueryKpisResponse r;
    grpc::Status s = stub->QueryKpis(&ctx, q, &r);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok() || r.total().kpis_size() == 0 || !r.total().kpis(0).has_value()) return -1;
    return r.total().kpis(0).value();
  }

  testing::TempDir dir_;
  std::unique_ptr<host::TaktServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sv1::StaffingService::Stub> staffing_;
};

TEST_F(StaffingE2eTest, PeopleRosterAttendanceIncidentsRatesAndErasure) {
  // Berlin: one person, one recordable case; Lyon: four people, two cases.
  for (auto [f, people, cases] : {std::tuple{"berlin", 1, 1}, std::tuple{"lyon", 4, 2}}) {
    sv1::ApplyStaffRequest r;
    r.set_facility(f);
    r.set_request_id(std::string("people-") + f);
    auto* q = r.add_commands()->mutable_define_qualification();
    q->set_qualification("press-op");
    q->set_name("Press operator");
    auto* req = r.add_commands()->mutable_set_requirement();
    req->set_station(std::string(f) + "-press");
    req->add_qualifications("press-op");
    req->set_min_people(1);
    for (int i = 0; i < people; ++i) {
      const std::string id = "p-" + std::to_string(i + 1);
      auto* p = r.add_commands()->mutable_register_person();
      p->set_person(id);
      p->set_name(i == 0 ? std::string(kCanary) + " " + f : "Operator " + id);
      p->set_contact(id + "@example.com");
      auto* g = r.add_commands()->mutable_grant_certification();
      g->set_person(id);
      g->set_qualification("press-op");
      g->set_certificate("PO-" + id);
      g->set_issued("2026-01-01");
      g->set_expires("2026-12-31");
    }
    for (int c = 0; c < cases; ++c) {
      auto* i = r.add_commands()->mutable_report_incident();
      i->set_incident("inc-" + std::to_string(c + 1));
      i->set_person("p-1");
      i->set_station(std::string(f) + "-press");
      *i->mutable_occurred() = ToProto(kShift + absl::Hours(3));
      i->set_classification(c == 0 ? sv1::DAYS_AWAY : sv1::OTHER_RECORDABLE);
      i->set_days_away(c == 0 ? 2 : 0);
      i->set_narrative(std::string("narrative ") + kCanary);
    }
    grpc::Status s = Apply(r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(Apply(r).ok());  // a resend changes nothing
    sv1::RosterRequest roster;
    roster.set_facility(f);
    auto* a = roster.add_assign();
    a->set_person("p-1");
    a->set_day("2026-11-23");
    a->set_shift("early");
    a->set_station(std::string(f) + "-press");
    grpc::ClientContext ctx;
    sv1::RosterResponse rr;
    s = staffing_->AssignRoster(&ctx, roster, &rr);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(rr.assigned(), 1u);
  }
  // A bad roster is a clear error with nothing recorded.
  {
    sv1::RosterRequest roster;
    roster.set_facility("lyon");
    auto* a = roster.add_assign();
    a->set_person("p-2");
    a->set_day("2027-01-04");  // after the certificate's expiry
    a->set_shift("early");
    a->set_station("lyon-press");
    grpc::ClientContext ctx;
    sv1::RosterResponse rr;
    grpc::Status s = staffing_->AssignRoster(&ctx, roster, &rr);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_TRUE(absl::StrContains(s.error_message(), "press-op (certificate PO-p-2 expired 2026-12-31)"))
        << s.error_message();
  }

  // Attendance: both plants in one stream, Berlin's batch resent.
  {
    grpc::ClientContext ctx;
    auto stream = staffing_->StreamAttendance(&ctx);
    uint32_t accepted = 0, duplicates = 0;
    for (const auto& b : {Worked("berlin", 1, 1), Worked("lyon", 4, 2), Worked("berlin", 1, 3)}) {
      ASSERT_TRUE(stream->Write(b));
      sv1::AttendanceAck ack;
      ASSERT_TRUE(stream->Read(&ack));
      accepted += ack.accepted();
      duplicates += ack.duplicates();
      EXPECT_EQ(ack.rejected_size(), 0) << ack.rejected(0).reason();
    }
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
    EXPECT_EQ(accepted, 10u);
    EXPECT_EQ(duplicates, 2u);
  }

  // Rates pooled over the region: 3 cases in 50 h, not the mean of 20,000 and 10,000.
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  EXPECT_DOUBLE_EQ(Kpi("safety_trir", "facilities/berlin"), 1.0 * 200000 / 10);
  EXPECT_DOUBLE_EQ(Kpi("safety_trir", "facilities/lyon"), 2.0 * 200000 / 40);
  const double trir = Kpi("safety_trir", "regions/emea");
  EXPECT_DOUBLE_EQ(trir, 3.0 * 200000 / 50);
  EXPECT_DOUBLE_EQ(Kpi("safety_dart", "regions/emea"), 2.0 * 200000 / 50);
  EXPECT_DOUBLE_EQ(Kpi("hours_worked", "regions/emea"), 50);
  EXPECT_DOUBLE_EQ(Kpi("staffing_coverage", "regions/emea"), 100);
  {
    av1::ExplainRequest ex;
    ex.set_scope("regions/emea");
    ex.set_kpi("safety_trir");
    ex.set_from("2026-11-23");
    ex.set_to("2026-11-23");
    grpc::ClientContext ctx;
    av1::ExplainResponse explained;
    grpc::Status s = av1::AuditService::NewStub(channel_)->Explain(&ctx, ex, &explained);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(explained.equal());
    EXPECT_DOUBLE_EQ(explained.recomputed_value(), trir);
  }

  // Erasure of Berlin's p-1.
  sv1::PersonRequest who;
  who.set_facility("berlin");
  who.set_person("p-1");
  {
    grpc::ClientContext ctx;
    sv1::PersonView v;
    ASSERT_TRUE(staffing_->GetPerson(&ctx, who, &v).ok());
    EXPECT_EQ(v.name(), std::string(kCanary) + " berlin");
  }
  sv1::EraseRequest erase;
  erase.set_facility("berlin");
  erase.set_person("p-1");
  {
    grpc::ClientContext ctx;
    sv1::EraseResponse er;
    EXPECT_EQ(staffing_->ErasePerson(&ctx, erase, &er).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  erase.set_reason("GDPR Art. 17 request");
  {
    grpc::ClientContext ctx;
    sv1::EraseResponse er;
    grpc::Status s = staffing_->ErasePerson(&ctx, erase, &er);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(er.sealed_fields(), 3u);  // name, contact, the narrative
  }
  {
    grpc::ClientContext ctx;
    sv1::PersonView v;
    ASSERT_TRUE(staffing_->GetPerson(&ctx, who, &v).ok());
    EXPECT_TRUE(v.erased());
    EXPECT_EQ(v.name(), "[erased]");
    EXPECT_EQ(v.incidents(0).narrative(), "[erased]");
  }
  // Lyon's p-1 is another person: untouched.
  who.set_facility("lyon");
  {
    grpc::ClientContext ctx;
    sv1::PersonView v;
    ASSERT_TRUE(staffing_->GetPerson(&ctx, who, &v).ok());
    EXPECT_EQ(v.name(), std::string(kCanary) + " lyon");
  }
  ASSERT_TRUE(server_->WaitForProjection(absl::Seconds(30)).ok());
  EXPECT_DOUBLE_EQ(Kpi("safety_trir", "regions/emea"), trir);  // unchanged

  // The audited history: no plain text, the erasure recorded, chains intact.
  av1::ReplayRequest rr;
  rr.set_facility("berlin");
  rr.add_contexts("staffing");
  grpc::ClientContext rctx;
  auto reader = av1::AuditService::NewStub(channel_)->Replay(&rctx, rr);
  av1::ReplayItem item;
  int erased = 0, events = 0;
  while (reader->Read(&item)) {
    if (!item.has_event()) continue;
    ++events;
    EXPECT_FALSE(absl::StrContains(item.event().payload_json(), kCanary)) << item.event().payload_json();
    erased += item.event().event_type() == "takt.staffing.v1.PersonErased";
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(erased, 1);
  EXPECT_GT(events, 5);
  av1::VerifyRequest vr;
  vr.set_facility("berlin");
  grpc::ClientContext vctx;
  av1::VerifyResponse verified;
  ASSERT_TRUE(av1::AuditService::NewStub(channel_)->Verify(&vctx, vr, &verified).ok());
  EXPECT_TRUE(verified.ok());
  EXPECT_GT(verified.events_checked(), 0u);
}

// Scheduling reads the crew from staffing's record: an order is planned
// only in a shift whose station has the qualified people it requires, and
// the proposal names the shift that was short.
TEST_F(StaffingE2eTest, ProposeScheduleRespectsTheRosteredCrew) {
  {
    ev1::ApplyDefinitionsRequest req;
    auto* p = req.add_definitions()->mutable_product();
    p->set_product("bracket");
    p->set_planned_run_time_per_item_us(60'000'000);
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    ASSERT_TRUE(ev1::EnterpriseService::NewStub(channel_)->ApplyDefinitions(&ctx, req, &resp).ok());
  }
  auto scheduling = schv1::SchedulingService::NewStub(channel_);
  {
    schv1::ExecuteRequest req;
    req.set_facility("berlin");
    auto* routing = req.add_commands()->mutable_define_routing();
    routing->set_product("bracket");
    auto* step = routing->add_steps();
    step->set_step("press");
    step->set_work_center("wc");
    auto* wo = req.add_commands()->mutable_create_work_order();
    wo->set_work_order("wo-1");
    wo->set_product("bracket");
    wo->set_quantity(60);  // one hour
    *wo->mutable_release_time() = ToProto(kShift);
    req.add_commands()->mutable_release_work_order()->set_work_order("wo-1");
    grpc::ClientContext ctx;
    schv1::ExecuteResponse resp;
    grpc::Status s = scheduling->Execute(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  // The press work center needs one certified press operator per shift;
  // the roster has one on Tuesday only.
  sv1::ApplyStaffRequest r;
  r.set_facility("berlin");
  auto* q = r.add_commands()->mutable_define_qualification();
  q->set_qualification("press-op");
  q->set_name("Press operator");
  auto* need = r.add_commands()->mutable_set_requirement();
  need->set_station("wc");
  need->add_qualifications("press-op");
  need->set_min_people(1);
  auto* p = r.add_commands()->mutable_register_person();
  p->set_person("p-1");
  p->set_name("Operator one");
  auto* g = r.add_commands()->mutable_grant_certification();
  g->set_person("p-1");
  g->set_qualification("press-op");
  g->set_certificate("PO-1");
  g->set_issued("2026-01-01");
  g->set_expires("2026-12-31");
  ASSERT_TRUE(Apply(r).ok());
  {
    sv1::RosterRequest roster;
    roster.set_facility("berlin");
    auto* a = roster.add_assign();
    a->set_person("p-1");
    a->set_day("2026-11-24");
    a->set_shift("early");
    a->set_station("wc");
    grpc::ClientContext ctx;
    sv1::RosterResponse resp;
    grpc::Status s = staffing_->AssignRoster(&ctx, roster, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  schv1::ScheduleRequest ask;
  ask.set_facility("berlin");
  *ask.mutable_horizon_start() = ToProto(kShift);
  ask.set_horizon_days(7);
  ask.set_max_iterations(100);
  ask.set_respect_crew(true);
  schv1::Schedule plan;
  {
    grpc::ClientContext ctx;
    grpc::Status s = scheduling->ProposeSchedule(&ctx, ask, &plan);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_EQ(plan.operations_size(), 1);
  EXPECT_EQ(ToTime(plan.operations(0).start()), kShift + absl::Hours(24));  // Tuesday 06:00
  ASSERT_EQ(plan.crew_shortages_size(), 1);
  EXPECT_EQ(plan.crew_shortages(0).day(), "2026-11-23");
  EXPECT_EQ(plan.crew_shortages(0).shift(), "early");
  EXPECT_EQ(plan.crew_shortages(0).station(), "wc");
  EXPECT_EQ(plan.crew_shortages(0).qualifications(0), "press-op");
  {
    schv1::CommitScheduleRequest commit;
    commit.set_facility("berlin");
    *commit.mutable_schedule() = plan;
    grpc::ClientContext ctx;
    schv1::CommitScheduleResponse resp;
    grpc::Status s = scheduling->CommitSchedule(&ctx, commit, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // Without respecting crew the order runs on Monday.
  ask.set_respect_crew(false);
  grpc::ClientContext ctx;
  schv1::Schedule free;
  ASSERT_TRUE(scheduling->ProposeSchedule(&ctx, ask, &free).ok());
  EXPECT_EQ(ToTime(free.operations(0).start()), kShift);
}

TEST_F(StaffingE2eTest, BadInputIsRefusedWithClearErrors) {
  sv1::ApplyStaffRequest r;
  r.set_facility("nowhere");
  r.add_commands()->mutable_register_person()->set_person("p-1");
  EXPECT_EQ(Apply(r).error_code(), grpc::StatusCode::NOT_FOUND);
  r.set_facility("berlin");
  grpc::Status s = Apply(r);  // no name
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "commands[0]")) << s.error_message();
  r.mutable_commands(0)->mutable_register_person()->set_name(std::string(5000, 'x'));
  EXPECT_EQ(Apply(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  r.mutable_commands(0)->mutable_register_person()->set_name("Ada");
  r.mutable_commands(0)->mutable_register_person()->set_person("../etc");
  EXPECT_EQ(Apply(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // An empty batch ends the stream with INVALID_ARGUMENT.
  grpc::ClientContext ctx;
  auto stream = staffing_->StreamAttendance(&ctx);
  sv1::AttendanceBatch b;
  b.set_facility("berlin");
  ASSERT_TRUE(stream->Write(b));  // empty batch
  sv1::AttendanceAck ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace takt
