#include "libs/kpi/registry.h"

#include <set>

#include "gtest/gtest.h"

namespace takt::kpi {
namespace {

constexpr int64_t kHour = 3'600'000'000;  // microseconds

// A unit that ran `hours` of planned busy time at `oee` (all loss as idle
// time, perfect speed and quality) producing items of 60 s planned time.
ElementSums SiteAt(double oee, double hours) {
  ElementSums s;
  s[Element::kPbt] = static_cast<int64_t>(hours * kHour);
  s[Element::kApt] = static_cast<int64_t>(oee * hours * kHour);
  s[Element::kAdot] = s[Element::kPbt] - s[Element::kApt];
  const int64_t items = s[Element::kApt] / 60'000'000;
  s[Element::kPq] = s[Element::kGq] = items;
  s[Element::kPriPq] = s[Element::kPriGq] = items * 60'000'000;
  return s;
}

TEST(RegistryTest, EveryKpiIsDefinedOnceWithReferenceAndFormula) {
  std::set<std::string> ids;
  for (const KpiDef& k : Registry()) {
    EXPECT_TRUE(ids.insert(k.id).second) << k.id;
    EXPECT_FALSE(k.iso_ref.empty()) << k.id;
    EXPECT_FALSE(k.formula.empty()) << k.id;
    EXPECT_FALSE(k.factors.empty()) << k.id;
  }
  for (const char* id : {"availability", "effectiveness", "quality_ratio", "oee", "nee",
                         "utilization_efficiency", "allocation_efficiency", "setup_ratio",
                         "technical_efficiency", "throughput_rate", "scrap_ratio",
                         "rework_ratio", "mtbf", "mttr", "mttf"}) {
    EXPECT_NE(FindKpi(id), nullptr) << id;
  }
  EXPECT_EQ(FindKpi("nope"), nullptr);
}

TEST(RegistryTest, RatiosOfSumsNotAveragesOfRatios) {
  // Site A: 90 % OEE over 10 h; site B: 50 % over 990 h -> 50.4 %, not 70 %.
  ElementSums enterprise = SiteAt(0.9, 10);
  enterprise += SiteAt(0.5, 990);
  auto oee = Evaluate(*FindKpi("oee"), enterprise);
  ASSERT_TRUE(oee.has_value());
  EXPECT_NEAR(*oee, 50.4, 1e-9);
}

TEST(RegistryTest, AvailabilityTimesEffectivenessTimesQualityIsOeeForMixedProducts) {
  // One unit, two products with different planned run times and yields.
  ElementSums s;
  s[Element::kPbt] = 8 * kHour;
  s[Element::kApt] = 6 * kHour;
  s[Element::kAust] = kHour / 2;
  s[Element::kAdet] = kHour;
  s[Element::kAdot] = kHour / 2;
  // Product X: PRI 30 s, 400 made, 380 good. Product Y: PRI 120 s, 100 made, 70 good.
  s[Element::kPq] = 500;
  s[Element::kGq] = 450;
  s[Element::kPriPq] = 400 * 30'000'000LL + 100 * 120'000'000LL;
  s[Element::kPriGq] = 380 * 30'000'000LL + 70 * 120'000'000LL;
  double a = *Evaluate(*FindKpi("availability"), s);
  double e = *Evaluate(*FindKpi("effectiveness"), s);
  double q = *Evaluate(*FindKpi("quality_ratio"), s);
  double oee = *Evaluate(*FindKpi("oee"), s);
  EXPECT_NEAR(a * e * q / 10000.0, oee, 1e-9);
  EXPECT_NEAR(oee, 100.0 * (380 * 30 + 70 * 120) / (8 * 3600.0), 1e-9);
  // The count-based GQ/PQ (90 %) would not multiply out.
  EXPECT_GT(std::abs(a * e * 90.0 / 10000.0 - oee), 1.0);
  // NEE = OEE x AUPT / APT.
  EXPECT_NEAR(*Evaluate(*FindKpi("nee"), s), oee * 6.5 / 6.0, 1e-9);
  EXPECT_NEAR(*Evaluate(*FindKpi("setup_ratio"), s), 100.0 * 0.5 / 6.5, 1e-9);
  EXPECT_NEAR(*Evaluate(*FindKpi("technical_efficiency"), s), 100.0 * 6 / 7, 1e-9);
  EXPECT_NEAR(*Evaluate(*FindKpi("allocation_efficiency"), s), 100.0 * 7.5 / 8, 1e-9);
  // Availability = allocation efficiency x utilization efficiency.
  EXPECT_NEAR(a, *Evaluate(*FindKpi("allocation_efficiency"), s) *
                     *Evaluate(*FindKpi("utilization_efficiency"), s) / 100.0,
              1e-9);
}

TEST(RegistryTest, MaintenanceKpisInHoursAndNoDataIsNotZero) {
  ElementSums s;
  s[Element::kFe] = 4;
  s[Element::kTbf] = 100 * kHour;
  s[Element::kTtr] = 2 * kHour;
  s[Element::kTtf] = 96 * kHour;
  EXPECT_NEAR(*Evaluate(*FindKpi("mtbf"), s), 25.0, 1e-12);
  EXPECT_NEAR(*Evaluate(*FindKpi("mttr"), s), 0.5, 1e-12);
  EXPECT_NEAR(*Evaluate(*FindKpi("mttf"), s), 24.0, 1e-12);
  EXPECT_FALSE(Evaluate(*FindKpi("oee"), s).has_value());
  EXPECT_FALSE(Evaluate(*FindKpi("mtbf"), ElementSums{}).has_value());
  ElementSums t;
  t[Element::kPq] = 120;
  t[Element::kAoet] = 2 * kHour;
  EXPECT_NEAR(*Evaluate(*FindKpi("throughput_rate"), t), 60.0, 1e-9);
}

}  // namespace
}  // namespace takt::kpi
