#include "services/quality/simulate.h"

#include "gtest/gtest.h"

namespace takt::quality {
namespace {

TEST(QualitySimulation, IsDeterministicAndPlantsSignals) {
  QualitySimOptions o;
  o.facilities = 4;
  o.days = 3;
  o.seed = 7;
  o.start = absl::CivilDay(2026, 11, 20);
  QualitySimulation a = SimulateQuality(o), b = SimulateQuality(o);
  ASSERT_EQ(a.facilities.size(), 4u);
  ASSERT_EQ(a.batches.size(), 12u);  // a batch per plant and day
  EXPECT_EQ(a.batches[5].SerializeAsString(), b.batches[5].SerializeAsString());
  EXPECT_FALSE(a.shifted.empty());
  EXPECT_NE(a.shifted, a.drifting);
  // The shifted plant's second afternoon sits above its first day's mean.
  auto mean = [](const v1::SampleBatch& batch, int from, int to) {
    double sum = 0;
    int n = 0;
    int i = 0;
    for (const auto& s : batch.samples()) {
      if (!s.has_measurement()) continue;
      if (i >= from && i < to) {
        for (double x : s.measurement().values()) {
          sum += x;
          ++n;
        }
      }
      ++i;
    }
    return sum / n;
  };
  size_t shifted = 0;
  for (size_t i = 0; i < a.facilities.size(); ++i) shifted = a.facilities[i] == a.shifted ? i : shifted;
  const auto& day1 = a.batches[shifted * 3];
  const auto& day2 = a.batches[shifted * 3 + 1];
  EXPECT_GT(mean(day2, 24, 48) - mean(day1, 0, 48), 0.01);
}

}  // namespace
}  // namespace takt::quality
