#include "services/scheduling/sim/simulator.h"

#include <set>

#include "gtest/gtest.h"

namespace takt::sim {
namespace {

TEST(SimulatorTest, DeterministicForASeedAndDifferentAcrossSeeds) {
  SimOptions o;
  o.facilities = 3;
  o.days = 2;
  o.start = absl::CivilDay(2026, 11, 1);
  Simulation a = Simulate(o);
  Simulation b = Simulate(o);
  ASSERT_EQ(a.batches.size(), b.batches.size());
  for (size_t i = 0; i < a.batches.size(); ++i) {
    ASSERT_EQ(a.batches[i].SerializeAsString(), b.batches[i].SerializeAsString()) << i;
  }
  o.seed = 2;
  Simulation c = Simulate(o);
  EXPECT_NE(a.observations, c.observations);
}

TEST(SimulatorTest, GatewaysResendAndDeliverLateButSequencesAreUnique) {
  SimOptions o;
  o.facilities = 4;
  o.days = 3;
  o.start = absl::CivilDay(2026, 11, 1);
  Simulation s = Simulate(o);
  EXPECT_GT(s.resent_batches, 0u);
  EXPECT_GT(s.late_batches, 0u);
  std::set<std::pair<std::string, uint64_t>> seen;
  uint64_t sent = 0;
  for (const auto& b : s.batches) {
    for (const auto& ob : b.observations()) {
      seen.insert({ob.source_id(), ob.source_sequence()});
      ++sent;
    }
  }
  EXPECT_EQ(seen.size(), s.observations);
  EXPECT_GT(sent, s.observations);  // resends
  EXPECT_GT(s.enterprise.definitions_size(), 4 * (1 + 1 + 1 + 2 + 6));
}

}  // namespace
}  // namespace takt::sim
