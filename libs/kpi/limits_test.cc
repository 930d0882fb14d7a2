#include "libs/kpi/limits.h"

#include <limits>

#include "gtest/gtest.h"
#include "libs/kpi/elements.h"

namespace takt::kpi {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(LimitsTest, QuantitiesAreBoundedAndNamed) {
  EXPECT_TRUE(CheckQuantities(1, 0, 0, false).ok());
  EXPECT_TRUE(CheckQuantities(kMaxItemsPerCount, kMaxItemsPerCount, kMaxItemsPerCount, false).ok());
  absl::Status s = CheckQuantities(kMax, 0, 0, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("good is 9223372036854775807"), std::string::npos) << s;
  // The case that used to be refused as "a count of nothing" (the sum wrapped).
  s = CheckQuantities(kMax, kMax, 2, false);
  EXPECT_NE(s.message().find("good is"), std::string::npos) << s;
  s = CheckQuantities(0, -1, 0, false);
  EXPECT_NE(s.message().find("scrap is -1"), std::string::npos) << s;
  s = CheckQuantities(0, 0, 0, false);
  EXPECT_NE(s.message().find("a count of nothing"), std::string::npos) << s;
  EXPECT_TRUE(CheckQuantities(0, 0, 0, true).ok());
}

TEST(LimitsTest, PlannedRunTimeAndPlannedTimeAreBounded) {
  EXPECT_TRUE(CheckPlannedRunTime(40'000'000, "pri").ok());
  EXPECT_FALSE(CheckPlannedRunTime(0, "pri").ok());
  absl::Status s = CheckPlannedRunTime(kMax, "pri");
  EXPECT_NE(s.message().find("pri is 9223372036854775807 us"), std::string::npos) << s;
  EXPECT_TRUE(CheckPlannedTime(1000, 10, 0, 40'000'000).ok());
  // 10^9 items of 24 h each: within each bound, far beyond a year of work.
  s = CheckPlannedTime(kMaxItemsPerCount, 0, 0, absl::ToInt64Microseconds(absl::Hours(24)));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("at most"), std::string::npos) << s;
}

TEST(LimitsTest, SumsNeverWrap) {
  EXPECT_EQ(AddChecked(kMax, 1), kOverflowed);
  EXPECT_EQ(AddChecked(kOverflowed, -5), kOverflowed);  // sticky
  EXPECT_EQ(AddChecked(-kMax, -1), kOverflowed);
  EXPECT_EQ(MulChecked(kMaxItemsPerCount, kMax / 10), kOverflowed);
  ElementSums a, b;
  a[Element::kPq] = kMax;
  b[Element::kPq] = 1;
  b[Element::kGq] = 7;
  a += b;
  ASSERT_TRUE(a.Overflowed().has_value());
  EXPECT_EQ(*a.Overflowed(), Element::kPq);
  EXPECT_EQ(a[Element::kGq], 7);
  a += b;
  EXPECT_EQ(a[Element::kPq], kOverflowed);
}

}  // namespace
}  // namespace takt::kpi
