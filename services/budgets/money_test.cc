#include "services/budgets/money.h"

#include <random>

#include "absl/numeric/int128.h"
#include "gtest/gtest.h"

namespace takt::budgets {
namespace {

TEST(MoneyTest, AmountsParseExactlyInTheCurrencysMinorUnits) {
  EXPECT_EQ(*ParseAmount("1234.56", "USD"), 123456);
  EXPECT_EQ(*ParseAmount("-0.5", "EUR"), -50);
  EXPECT_EQ(*ParseAmount("1234", "JPY"), 1234);
  EXPECT_EQ(*ParseAmount("1.234", "KWD"), 1234);
  // More decimals than the currency has is refused, not rounded.
  auto bad = ParseAmount("1.234", "USD");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("more than 2 decimals"), std::string::npos) << bad.status();
  EXPECT_EQ(ParseAmount("1.5", "JPY").status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* text : {"", "-", "1e3", "1,000.00", " 1", "1.", "1..2", "NaN", "0x10"}) {
    EXPECT_EQ(ParseAmount(text, "USD").status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(ParseAmount("92233720368547758.08", "USD").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseAmount("92233720368547758.07", "USD"), INT64_MAX);
  EXPECT_EQ(ParseAmount("1", "XYZ").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FormatAmount(-123450, 2), "-1234.50");
  EXPECT_EQ(FormatAmount(5, 2), "0.05");
  EXPECT_EQ(FormatAmount(1234, 0), "1234");
  EXPECT_EQ(FormatAmount(-1, 3), "-0.001");
}

TEST(MoneyTest, DecimalsKeepNinePlaces) {
  EXPECT_EQ(ParseDecimal("1.0842")->nanos, 1'084'200'000);
  EXPECT_EQ(ParseDecimal("0.000000001")->nanos, 1);
  EXPECT_EQ(ParseDecimal("-3")->nanos, -3'000'000'000);
  EXPECT_EQ(ParseDecimal("0.0000000001").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatDecimal({1'084'200'000}), "1.0842");
  EXPECT_EQ(FormatDecimal({-3'000'000'000}), "-3");
  EXPECT_EQ(FormatDecimal({1}), "0.000000001");
}

TEST(MoneyTest, RoundingIsHalfToEvenOnce) {
  EXPECT_EQ(*MulDiv(5, 1, 2), 2);    // 2.5 -> 2
  EXPECT_EQ(*MulDiv(15, 1, 10), 2);  // 1.5 -> 2
  EXPECT_EQ(*MulDiv(-5, 1, 2), -2);  // -2.5 -> -2
  EXPECT_EQ(*MulDiv(-15, 1, 10), -2);
  EXPECT_EQ(*MulDiv(7, 1, 3), 2);
  EXPECT_EQ(*MulDiv(-7, 1, 3), -2);
  EXPECT_EQ(*MulDiv(8, 1, 3), 3);
  EXPECT_EQ(*MulDiv(1, 1, -2), 0);   // -0.5 -> 0
  EXPECT_EQ(MulDiv(INT64_MAX, 2, 1).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(*MulDiv(INT64_MAX, 2, 2), INT64_MAX);  // exact in 128 bits
  EXPECT_EQ(MulDiv(1, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*Times(1000, *ParseDecimal("0.125")), 125);
  EXPECT_EQ(*Times(100, *ParseDecimal("0.125")), 12);  // 12.5 -> 12
  EXPECT_EQ(*Times(300, *ParseDecimal("0.125")), 38);  // 37.5 -> 38
}

TEST(MoneyTest, ConversionRoundsToTheTargetsMinorUnit) {
  const Decimal eur_usd = *ParseDecimal("1.0842");
  EXPECT_EQ(*Convert(10000, "EUR", "USD", eur_usd), 10842);   // 100.00 EUR = 108.42 USD
  EXPECT_EQ(*Convert(1, "EUR", "USD", eur_usd), 1);           // 0.010842 -> 0.01
  EXPECT_EQ(*Convert(123456, "USD", "JPY", *ParseDecimal("151.37")), 186875);  // 1234.56 USD
  EXPECT_EQ(*Convert(150, "JPY", "USD", *ParseDecimal("0.0066")), 99);        // 0.99 USD
  EXPECT_EQ(*Convert(1000, "KWD", "USD", *ParseDecimal("3.25")), 325);        // 1.000 KWD
  EXPECT_EQ(Convert(1, "EUR", "USD", Decimal{0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Convert(INT64_MAX, "EUR", "JPY", *ParseDecimal("160")).status().code(),
            absl::StatusCode::kOutOfRange);
}

// A year of postings never loses a minor unit: integer sums are exact, so
// the running total equals the total recomputed from the texts as
// arbitrary-precision decimals (here: cents and whole dollars summed apart).
TEST(MoneyTest, AYearOfPostingsSumsToTheMinorUnit) {
  std::mt19937_64 rng(7);
  int64_t total = 0;
  absl::int128 dollars = 0, cents = 0;
  for (int day = 0; day < 365; ++day) {
    for (int i = 0; i < 400; ++i) {
      const int64_t d = static_cast<int64_t>(rng() % 1'000'000) - 300'000;
      const int64_t c = static_cast<int64_t>(rng() % 100);
      const std::string text = (d < 0 ? "-" : "") + std::to_string(d < 0 ? -d : d) + "." +
                               (c < 10 ? "0" : "") + std::to_string(c);
      auto minor = ParseAmount(text, "USD");
      ASSERT_TRUE(minor.ok()) << text;
      ASSERT_TRUE(AddTo(total, *minor));
      dollars += d;
      cents += d < 0 ? -c : c;
    }
  }
  EXPECT_EQ(static_cast<absl::int128>(total), dollars * 100 + cents);
  int64_t near_max = INT64_MAX - 1;
  EXPECT_FALSE(AddTo(near_max, 2));
  EXPECT_EQ(near_max, INT64_MAX - 1);
}

}  // namespace
}  // namespace takt::budgets
