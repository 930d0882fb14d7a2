#include "services/staffing/families.h"

#include "gtest/gtest.h"
#include "libs/common/proto_time.h"
#include "libs/kpi/registry.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::staffing {
namespace {

const absl::Time kT = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 6, 0, 0), absl::UTCTimeZone());

class FamiliesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto families = Families();
    ASSERT_EQ(families.size(), 1u);
    registration_ = std::move(families[0]);
    fold_ = registration_.fold();
  }
  // The deltas of one event on a facility's stream.
  std::vector<kpi::FamilyDelta> Fold(const std::string& stream, const google::protobuf::Message& m,
                                     absl::Time occurred = kT) {
    eventlog::v1::Envelope e;
    e.set_facility(stream);
    e.set_event_type(std::string(m.GetDescriptor()->full_name()));
    e.set_payload(m.SerializeAsString());
    *e.mutable_occurred_time() = ToProto(occurred);
    std::vector<kpi::FamilyDelta> out;
    EXPECT_TRUE(fold_->Apply(e, out).ok());
    return out;
  }
  kpi::Values Sum(const std::vector<kpi::FamilyDelta>& deltas) {
    kpi::Values v(kStaffingElementCount, 0);
    for (const auto& d : deltas) kpi::AddInto(v, d.values);
    return v;
  }
  double Kpi(const std::string& id, const kpi::Values& v) {
    for (const auto& k : registration_.kpis) {
      if (k.id == id) return kpi::Evaluate(k, v).value_or(-1);
    }
    ADD_FAILURE() << id;
    return -1;
  }
  std::vector<kpi::FamilyDelta> Worked(const std::string& facility, absl::Duration d) {
    v1::ClockedOut out;
    out.set_person("p");
    *out.mutable_at() = ToProto(kT + d);
    *out.mutable_clocked_in() = ToProto(kT);
    out.set_worked_us(absl::ToInt64Microseconds(d));
    return Fold(facility, out);
  }
  std::vector<kpi::FamilyDelta> Case(const std::string& facility, v1::IncidentClass c, uint32_t away = 0) {
    v1::IncidentReported r;
    r.set_incident("i");
    r.set_classification(c);
    r.set_days_away(away);
    *r.mutable_occurred() = ToProto(kT);
    return Fold(StaffStream(facility), r);
  }

  kpi::FamilyRegistration registration_;
  std::unique_ptr<kpi::Fold> fold_;
};

// manufacturing.md's example: site A 1 case in 10,000 h (TRIR 20), site B 10
// cases in 1,000,000 h (TRIR 2): the mean of rates is 11, pooled 2.178.
TEST_F(FamiliesTest, TrirOverTwoPlantsIsPooledNotAveraged) {
  std::vector<kpi::FamilyDelta> a, b;
  for (int i = 0; i < 10; ++i) {  // 10 x 1,000 h
    auto w = Worked("a", absl::Hours(1000));
    a.insert(a.end(), w.begin(), w.end());
  }
  auto ca = Case("a", v1::OTHER_RECORDABLE);
  a.insert(a.end(), ca.begin(), ca.end());
  for (int i = 0; i < 1000; ++i) {  // 1,000 x 1,000 h
    auto w = Worked("b", absl::Hours(1000));
    b.insert(b.end(), w.begin(), w.end());
  }
  for (int i = 0; i < 10; ++i) {
    auto cb = Case("b", i < 4 ? v1::DAYS_AWAY : v1::OTHER_RECORDABLE, i < 4 ? 5 : 0);
    b.insert(b.end(), cb.begin(), cb.end());
  }
  for (const auto& d : a) EXPECT_EQ(d.facility, "a");
  const kpi::Values va = Sum(a), vb = Sum(b);
  EXPECT_DOUBLE_EQ(Kpi("safety_trir", va), 20.0);
  EXPECT_DOUBLE_EQ(Kpi("safety_trir", vb), 2.0);
  kpi::Values both = va;
  kpi::AddInto(both, vb);
  EXPECT_NEAR(Kpi("safety_trir", both), 11.0 * 200000 / 1010000, 1e-12);  // 2.178, not 11
  EXPECT_NEAR(Kpi("safety_dart", both), 4.0 * 200000 / 1010000, 1e-12);
  EXPECT_NEAR(Kpi("safety_ltir", both), 4.0 * 200000 / 1010000, 1e-12);
  EXPECT_NEAR(Kpi("safety_severity", both), 20.0 * 200000 / 1010000, 1e-12);
  EXPECT_NEAR(Kpi("hours_worked", both), 1010000, 1e-6);
}

TEST_F(FamiliesTest, DartCountsDaysAwayAndRestrictedCasesOnly) {
  kpi::Values v(kStaffingElementCount, 0);
  for (auto c : {v1::NEAR_MISS, v1::FIRST_AID, v1::OTHER_RECORDABLE, v1::JOB_TRANSFER_OR_RESTRICTION,
                 v1::DAYS_AWAY, v1::DEATH}) {
    kpi::AddInto(v, Sum(Case("a", c)));
  }
  EXPECT_EQ(v[kRecordable], 4);  // G + H + I + J
  EXPECT_EQ(v[kDartCases], 2);   // H + I
  EXPECT_EQ(v[kAwayCases], 1);   // H
  EXPECT_EQ(v[kNearMisses], 1);
  EXPECT_EQ(v[kFirstAid], 1);
}

TEST_F(FamiliesTest, AReclassificationMovesTheCaseWithoutState) {
  kpi::Values v = Sum(Case("a", v1::DAYS_AWAY, 3));
  v1::IncidentReclassified r;
  r.set_incident("i");
  *r.mutable_occurred() = ToProto(kT);
  r.set_previous_classification(v1::DAYS_AWAY);
  r.set_previous_days_away(3);
  r.set_classification(v1::FIRST_AID);
  kpi::AddInto(v, Sum(Fold(StaffStream("a"), r)));
  EXPECT_EQ(v[kRecordable], 0);
  EXPECT_EQ(v[kDartCases], 0);
  EXPECT_EQ(v[kDaysAway], 0);
  EXPECT_EQ(v[kFirstAid], 1);
}

TEST_F(FamiliesTest, WorkedTimeIsSplitAtQuarterHours) {
  v1::ClockedOut out;
  out.set_person("p");
  out.set_station("press-1");
  *out.mutable_at() = ToProto(kT + absl::Minutes(150));  // 06:00 -> 08:30
  out.set_worked_us(absl::ToInt64Microseconds(absl::Minutes(150)));
  out.set_overtime_us(absl::ToInt64Microseconds(absl::Minutes(30)));
  auto deltas = Fold("a", out);
  ASSERT_EQ(deltas.size(), 11u);  // ten quarter hours and the overtime at the clock-out
  EXPECT_EQ(deltas[0].at, kT);
  EXPECT_EQ(deltas[9].at, kT + absl::Minutes(135));
  EXPECT_EQ(deltas[9].values[kWorked], absl::ToInt64Microseconds(absl::Minutes(15)));
  EXPECT_EQ(deltas[0].unit, "press-1");
  const kpi::Values v = Sum(deltas);
  EXPECT_DOUBLE_EQ(Kpi("overtime_ratio", v), 20.0);
}

// ISO 22400-2 worker efficiency = APWT / APAT: 2 h booked on one job, then
// a job left open 3 h 30 min until the clock-out, in 8 h attended: 68.75 %.
TEST_F(FamiliesTest, WorkerEfficiencyIsBookedOverAttendedTime) {
  v1::JobEnded job;
  job.set_person("p");
  job.set_work_order("wo-1");
  *job.mutable_started() = ToProto(kT + absl::Minutes(30));
  *job.mutable_at() = ToProto(kT + absl::Minutes(150));
  job.set_booked_us(absl::ToInt64Microseconds(absl::Hours(2)));
  auto deltas = Fold("plant", job);
  // 06:30-08:30 split at quarter hours.
  ASSERT_EQ(deltas.size(), 8u);
  EXPECT_EQ(deltas[0].values[kBooked], absl::ToInt64Microseconds(absl::Minutes(15)));
  v1::ClockedOut out;
  out.set_person("p");
  *out.mutable_clocked_in() = ToProto(kT);
  *out.mutable_at() = ToProto(kT + absl::Hours(8));
  out.set_worked_us(absl::ToInt64Microseconds(absl::Hours(8)));
  out.set_job_work_order("wo-2");
  out.set_job_station("press-2");
  out.set_job_booked_us(absl::ToInt64Microseconds(absl::Minutes(210)));
  auto more = Fold("plant", out);
  deltas.insert(deltas.end(), more.begin(), more.end());
  const kpi::Values v = Sum(deltas);
  EXPECT_EQ(v[kBooked], absl::ToInt64Microseconds(absl::Minutes(330)));
  EXPECT_DOUBLE_EQ(Kpi("worker_efficiency", v), 68.75);
  // Nobody booked anything: 0 %, not undefined (attendance is there).
  EXPECT_DOUBLE_EQ(Kpi("worker_efficiency", Sum(Worked("plant", absl::Hours(8)))), 0);
}

TEST_F(FamiliesTest, CoverageFoldsTheDifferenceCappedAtTheRequirement) {
  v1::CoverageChanged c;
  c.set_station("press-1");
  *c.mutable_shift_start() = ToProto(kT);
  c.set_required(2);
  c.set_assigned(3);
  c.set_qualified(3);
  kpi::Values v = Sum(Fold(StaffStream("a"), c));
  EXPECT_EQ(v[kCovered], 2);  // three qualified cover two required
  c.set_previous_required(2);
  c.set_previous_assigned(3);
  c.set_previous_qualified(3);
  c.set_assigned(2);
  c.set_qualified(1);
  kpi::AddInto(v, Sum(Fold(StaffStream("a"), c)));
  EXPECT_EQ(v[kRequired], 2);
  EXPECT_EQ(v[kCovered], 1);
  EXPECT_DOUBLE_EQ(Kpi("staffing_coverage", v), 50.0);
  EXPECT_DOUBLE_EQ(Kpi("certification_compliance", v), 50.0);
}

}  // namespace
}  // namespace takt::staffing
