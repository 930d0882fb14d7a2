#include "services/staffing/staff_book.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/common/proto_time.h"

namespace takt::staffing {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 3, 1, 12, 0, 0), absl::UTCTimeZone());

class StaffBookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    calendar_ = std::make_unique<kpi::FacilityCalendar>(
        *kpi::FacilityCalendar::Create({"UTC", 6 * 60, {{"day", 6 * 60, 14 * 60}, {"late", 14 * 60, 22 * 60}}}));
    facts_.calendar = calendar_.get();
    facts_.station_exists = [](const std::string& s) { return s == "press-1" || s == "line-1"; };
    facts_.now = kNow;
    v1::StaffCommand c;
    auto* q = c.mutable_define_qualification();
    q->set_qualification("forklift");
    q->set_name("Forklift licence");
    Do(c);
    for (const std::string p : {"p-1", "p-2", "p-3"}) {
      c.Clear();
      c.mutable_sealed_person()->set_person(p);
      c.mutable_sealed_person()->mutable_name()->set_subject(p);
      c.mutable_sealed_person()->mutable_name()->set_ciphertext("sealed");
      Do(c);
    }
    Grant("p-1", "FL-1", "2026-01-01", "2026-03-10");
    Grant("p-2", "FL-2", "2026-01-01", "2027-01-01");
    c.Clear();
    auto* r = c.mutable_set_requirement();
    r->set_station("press-1");
    r->add_qualifications("forklift");
    r->set_min_people(2);
    Do(c);
  }
  void Grant(const std::string& person, const std::string& cert, const std::string& issued,
             const std::string& expires) {
    v1::StaffCommand c;
    auto* g = c.mutable_grant_certification();
    g->set_person(person);
    g->set_qualification("forklift");
    g->set_certificate(cert);
    g->set_issued(issued);
    g->set_expires(expires);
    Do(c);
  }
  // Decides and applies one command (it must succeed).
  size_t Do(const v1::StaffCommand& c) {
    auto events = DecideStaff(book_, c, facts_);
    EXPECT_TRUE(events.ok()) << events.status();
    if (!events.ok()) return 0;
    std::set<CoverageKey> touched = AffectedCoverage(book_, c, facts_);
    for (const auto& e : *events) EXPECT_TRUE(book_.Apply(e).ok());
    size_t n = events->size();
    for (const auto& e : CoverageEvents(book_, touched, facts_)) {
      EXPECT_TRUE(book_.Apply(e).ok());
      coverage_events_.push_back(e);
      ++n;
    }
    return n;
  }
  absl::Status Fails(const v1::StaffCommand& c) { return DecideStaff(book_, c, facts_).status(); }
  v1::RosterResponse Roster(const v1::RosterRequest& r, std::vector<es::Event>* events = nullptr) {
    StaffBook scratch = book_;
    es::Decided out;
    v1::RosterResponse response;
    EXPECT_TRUE(DecideRoster(scratch, out, r, facts_, response).ok());
    if (response.problems_size() == 0) book_ = scratch;  // recorded only without problems
    if (events != nullptr) *events = out.events();
    return response;
  }
  static v1::Assignment* Assign(v1::RosterRequest& r, const std::string& person, const std::string& day,
                                const std::string& station = "press-1") {
    auto* a = r.add_assign();
    a->set_person(person);
    a->set_day(day);
    a->set_shift("day");
    a->set_station(station);
    return a;
  }

  std::unique_ptr<kpi::FacilityCalendar> calendar_;
  Facts facts_;
  StaffBook book_;
  std::vector<es::Event> coverage_events_;
};

TEST_F(StaffBookTest, CoverageTheDayAfterACertificateExpires) {
  v1::RosterRequest r;
  Assign(r, "p-1", "2026-03-10");  // the certificate's last valid day
  Assign(r, "p-2", "2026-03-10");
  v1::RosterResponse ok = Roster(r);
  ASSERT_EQ(ok.problems_size(), 0) << ok.problems(0).reason();
  EXPECT_EQ(ok.assigned(), 2u);
  EXPECT_EQ(book_.CoverageOf({"2026-03-10", "day", "press-1"}), (Coverage{2, 2, 2}));

  // The day after: p-1 is refused, naming the expired certificate.
  r.Clear();
  Assign(r, "p-1", "2026-03-11");
  Assign(r, "p-2", "2026-03-11");
  v1::RosterResponse refused = Roster(r);
  ASSERT_EQ(refused.problems_size(), 1);
  EXPECT_EQ(refused.problems(0).index(), 0u);
  ASSERT_EQ(refused.problems(0).missing_size(), 1);
  EXPECT_EQ(refused.problems(0).missing(0), "forklift (certificate FL-1 expired 2026-03-10)");
  EXPECT_TRUE(absl::StrContains(refused.problems(0).reason(), "override")) << refused.problems(0).reason();
  EXPECT_EQ(book_.CoverageOf({"2026-03-11", "day", "press-1"}), (Coverage{2, 0, 0}));  // nothing recorded

  // Without p-1 (and the day published): one of two required is covered.
  r.Clear();
  Assign(r, "p-2", "2026-03-11");
  auto* publish = r.add_publish();
  publish->set_from("2026-03-11");
  publish->set_to("2026-03-11");
  std::vector<es::Event> events;
  ASSERT_EQ(Roster(r, &events).problems_size(), 0);
  EXPECT_EQ(book_.CoverageOf({"2026-03-11", "day", "press-1"}), (Coverage{2, 1, 1}));
  // Both shifts of the day were recorded (the late one with nobody).
  EXPECT_EQ(book_.RecordedCoverage({"2026-03-11", "late", "press-1"}).value(), (Coverage{2, 0, 0}));
  int changed = 0;
  for (const auto& e : events) changed += e.type == "takt.staffing.v1.CoverageChanged";
  EXPECT_EQ(changed, 2);

  // A supervisor's override: assigned, recorded with what was missing, not qualified.
  r.Clear();
  Assign(r, "p-1", "2026-03-11")->set_override_reason("retest booked, supervised by p-2");
  v1::RosterResponse over = Roster(r, &events);
  ASSERT_EQ(over.problems_size(), 0);
  EXPECT_EQ(over.overrides(), 1u);
  v1::ShiftAssigned recorded;
  ASSERT_TRUE(recorded.ParseFromString(events[0].payload));
  EXPECT_EQ(recorded.override_reason(), "retest booked, supervised by p-2");
  ASSERT_EQ(recorded.missing_size(), 1);
  EXPECT_EQ(book_.CoverageOf({"2026-03-11", "day", "press-1"}), (Coverage{2, 2, 1}));
}

TEST_F(StaffBookTest, RosterProblemsAreAllListedAndNameTheirCause) {
  v1::RosterRequest r;
  Assign(r, "p-9", "2026-03-02");                      // unknown person
  Assign(r, "p-2", "2026-02-30");                      // no such day
  Assign(r, "p-2", "2026-03-02", "press-9");           // no such station
  Assign(r, "p-3", "2026-03-02");                      // no certificate at all
  Assign(r, "p-2", "2026-03-02")->set_shift("night");  // no such shift
  Assign(r, "p-2", "2026-03-02");                      // fine
  Assign(r, "p-2", "2026-03-02", "line-1");            // already on press-1 that shift
  v1::RosterResponse response = Roster(r);
  ASSERT_EQ(response.problems_size(), 6);
  EXPECT_TRUE(absl::StrContains(response.problems(0).reason(), "p-9 is not registered"));
  EXPECT_TRUE(absl::StrContains(response.problems(2).reason(), "press-9"));
  EXPECT_EQ(response.problems(3).missing(0), "forklift (none)");
  EXPECT_TRUE(absl::StrContains(response.problems(4).reason(), "night"));
  EXPECT_EQ(response.problems(5).index(), 6u);
  EXPECT_TRUE(absl::StrContains(response.problems(5).reason(), "already assigned to station press-1"));
}

TEST_F(StaffBookTest, ARevokedCertificateChangesRecordedCoverage) {
  v1::RosterRequest r;
  Assign(r, "p-2", "2026-03-05");
  Assign(r, "p-2", "2026-03-06")->set_shift("late");
  ASSERT_EQ(Roster(r).problems_size(), 0);
  coverage_events_.clear();
  v1::StaffCommand c;
  auto* revoke = c.mutable_revoke_certification();
  revoke->set_person("p-2");
  revoke->set_qualification("forklift");
  revoke->set_certificate("FL-2");
  revoke->set_effective("2026-03-06");
  revoke->set_reason("failed the annual check");
  Do(c);
  ASSERT_EQ(coverage_events_.size(), 1u);  // only the day from the revocation on
  v1::CoverageChanged changed;
  ASSERT_TRUE(changed.ParseFromString(coverage_events_[0].payload));
  EXPECT_EQ(changed.day(), "2026-03-06");
  EXPECT_EQ(changed.qualified(), 0u);
  EXPECT_EQ(changed.previous_qualified(), 1u);
  EXPECT_EQ(book_.Missing("p-2", absl::CivilDay(2026, 3, 6), {"forklift"})[0],
            "forklift (certificate FL-2 revoked from 2026-03-06)");
  EXPECT_TRUE(book_.Missing("p-2", absl::CivilDay(2026, 3, 5), {"forklift"}).empty());
}

TEST_F(StaffBookTest, IncidentsAreClassifiedAsIn1904) {
  v1::StaffCommand c;
  auto* i = c.mutable_sealed_incident();
  i->set_incident("inc-1");
  i->set_person("p-1");
  i->set_station("press-1");
  *i->mutable_occurred() = ToProto(kNow - absl::Hours(2));
  i->set_classification(v1::FIRST_AID);
  i->set_days_away(2);
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kInvalidArgument);  // first aid has no days away
  i->set_classification(v1::DAYS_AWAY);
  i->set_days_away(181);
  EXPECT_TRUE(absl::StrContains(Fails(c).message(), "180"));
  i->set_days_away(3);
  *i->mutable_occurred() = ToProto(kNow + absl::Hours(1));
  EXPECT_TRUE(absl::StrContains(Fails(c).message(), "future"));
  *i->mutable_occurred() = ToProto(kNow - absl::Hours(2));
  i->set_classification(v1::INCIDENT_CLASS_UNSPECIFIED);
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kInvalidArgument);
  i->set_classification(v1::DAYS_AWAY);
  EXPECT_EQ(Do(c), 1u);
  EXPECT_EQ(Do(c), 0u);  // the same report again changes nothing
  i->set_days_away(4);
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kAlreadyExists);

  v1::StaffCommand re;
  auto* x = re.mutable_reclassify_incident();
  x->set_incident("inc-1");
  x->set_classification(v1::JOB_TRANSFER_OR_RESTRICTION);
  x->set_days_restricted(5);
  EXPECT_EQ(Fails(re).code(), absl::StatusCode::kInvalidArgument);  // needs a reason
  x->set_reason("physician: light duty instead");
  auto events = DecideStaff(book_, re, facts_);
  ASSERT_TRUE(events.ok()) << events.status();
  v1::IncidentReclassified e;
  ASSERT_TRUE(e.ParseFromString((*events)[0].payload));
  EXPECT_EQ(e.previous_classification(), v1::DAYS_AWAY);
  EXPECT_EQ(e.previous_days_away(), 3u);
  EXPECT_EQ(e.station(), "press-1");
  EXPECT_TRUE(Recordable(v1::DEATH) && Recordable(v1::OTHER_RECORDABLE));
  EXPECT_FALSE(Recordable(v1::FIRST_AID) || Recordable(v1::NEAR_MISS));
  EXPECT_TRUE(Dart(v1::DAYS_AWAY) && Dart(v1::JOB_TRANSFER_OR_RESTRICTION));
  EXPECT_FALSE(Dart(v1::DEATH) || Dart(v1::OTHER_RECORDABLE));
}

TEST_F(StaffBookTest, ErasureIsRecordedOnceAndTheIdIsNeverReused) {
  EXPECT_EQ(DecideErase(book_, "p-1", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecideErase(book_, "p-9", "asked").status().code(), absl::StatusCode::kNotFound);
  auto events = DecideErase(book_, "p-1", "GDPR Art. 17 request of 2026-02-27");
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  v1::PersonErased erased;
  ASSERT_TRUE(erased.ParseFromString((*events)[0].payload));
  EXPECT_EQ(erased.sealed_fields(), 1u);  // the name
  ASSERT_TRUE(book_.Apply((*events)[0]).ok());
  EXPECT_TRUE(DecideErase(book_, "p-1", "again")->empty());
  v1::StaffCommand c;
  c.mutable_sealed_person()->set_person("p-1");
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kFailedPrecondition);
  // The pseudonymous record stays: certificates still count.
  EXPECT_TRUE(book_.Missing("p-1", absl::CivilDay(2026, 3, 2), {"forklift"}).empty());
}

TEST_F(StaffBookTest, CertificatesAreChecked) {
  v1::StaffCommand c;
  auto* g = c.mutable_grant_certification();
  g->set_person("p-3");
  g->set_qualification("welding");
  g->set_certificate("W-1");
  g->set_issued("2026-01-01");
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kNotFound);  // undefined qualification
  g->set_qualification("forklift");
  g->set_expires("2025-12-31");
  EXPECT_TRUE(absl::StrContains(Fails(c).message(), "before the day it was issued"));
  g->set_expires("2026-13-01");
  EXPECT_EQ(Fails(c).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::staffing
