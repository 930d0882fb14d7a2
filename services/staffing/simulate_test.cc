#include "services/staffing/simulate.h"

#include <set>

#include "gtest/gtest.h"

namespace takt::staffing {
namespace {

TEST(SimulateStaffingTest, OneCertificateExpiresAndItsStationIsLeftOpen) {
  StaffingSimOptions o;
  o.facilities = 3;
  o.days = 3;
  o.seed = 5;
  o.start = absl::CivilDay(2026, 3, 2);
  const StaffingSimulation s = SimulateStaffing(o);
  ASSERT_EQ(s.facilities.size(), 3u);
  ASSERT_EQ(s.rosters.size(), 3u);
  EXPECT_EQ(s.batches.size(), 3u * 3 + 1);  // a batch per plant and day, one resent
  EXPECT_EQ(s.batches[0].SerializeAsString(), s.batches[1].SerializeAsString());
  EXPECT_EQ(s.expiring_facility, s.facilities[0]);
  std::set<std::string> days_of_expiring;
  for (const auto& a : s.rosters[0].assign()) {
    if (a.person() == s.expiring_person) days_of_expiring.insert(a.day());
  }
  EXPECT_EQ(days_of_expiring, std::set<std::string>{"2026-03-02"});
  // Punches come in pairs, with sequences that never repeat per clock.
  std::set<uint64_t> sequences;
  int punches = 0;
  for (size_t i = 0; i < s.batches.size(); ++i) {
    if (i == 1) continue;  // the resend
    for (const auto& r : s.batches[i].records()) {
      if (s.batches[i].facility() == s.facilities[0]) {
        EXPECT_TRUE(sequences.insert(r.source_sequence()).second);
      }
      ++punches;
    }
  }
  EXPECT_EQ(punches % 2, 0);
  // Deterministic for a seed.
  EXPECT_EQ(SimulateStaffing(o).batches[4].SerializeAsString(), s.batches[4].SerializeAsString());
}

}  // namespace
}  // namespace takt::staffing
