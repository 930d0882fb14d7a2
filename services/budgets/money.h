// File: money.h
// -----------------------------------------------------------------------------
// Money as integer minor units of an ISO 4217 currency: 1234.56 USD is
// 123456 (exponent 2), 1234 JPY is 1234 (exponent 0), 1.234 BHD is 1234
// (exponent 3). Never floating point. Amounts are int64; every sum and
// product is checked and fails with OUT_OF_RANGE rather than wrap.
//
// Prices per unit, quantities and exchange rates need more precision than a
// currency's minor unit ("1.0842 USD per EUR", "0.125 kg per unit"), so they
// are exact decimals with nine places (Decimal: value = nanos / 10^9).
//
// Rounding: a result that falls between two minor units (a conversion, an
// amount times a decimal) is rounded half to even ("banker's rounding") once,
// at the end of the computation, never at intermediate steps; the tie rule
// keeps the rounding error of many postings centred on zero.
#ifndef TAKT_SERVICES_BUDGETS_MONEY_H_
#define TAKT_SERVICES_BUDGETS_MONEY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace takt::budgets {

// The minor-unit exponent of an ISO 4217 code Takt knows ("USD" -> 2,
// "JPY" -> 0, "KWD" -> 3); NOT_FOUND names the code otherwise.
absl::StatusOr<int> MinorExponent(std::string_view currency);

// An exact decimal: value = nanos / 10^9. Range about +-9.2e9.
struct Decimal {
  int64_t nanos = 0;
  bool operator==(const Decimal&) const = default;
};
inline constexpr int64_t kNanosPerUnit = 1'000'000'000;

// "12", "-0.5", "1.084200001": at most nine decimals; INVALID_ARGUMENT
// naming the text otherwise (no exponents, no grouping, no spaces).
absl::StatusOr<Decimal> ParseDecimal(std::string_view text);
// The shortest exact text ("1.0842", "-3", "0.000000001").
std::string FormatDecimal(Decimal d);

// "1234.56" in `currency` to minor units, exactly: at most the currency's
// exponent of decimals ("1.234 USD" is refused, not rounded).
absl::StatusOr<int64_t> ParseAmount(std::string_view text, std::string_view currency);
// Minor units as text with the currency's decimals ("-1234.50").
std::string FormatAmount(int64_t minor, int exponent);

// a * b / c, rounded half to even, computed exactly in 128 bits; c != 0.
// OUT_OF_RANGE when the result leaves int64.
absl::StatusOr<int64_t> MulDiv(int64_t a, int64_t b, int64_t c);

// An amount of minor units times a decimal (a quantity, a ratio), rounded
// half to even to minor units.
absl::StatusOr<int64_t> Times(int64_t minor, Decimal factor);

// A quantity times a price in minor units per unit (both decimals),
// rounded half to even to minor units.
absl::StatusOr<int64_t> Cost(Decimal quantity, Decimal price);

// `minor` units of `from` in `to`, at `rate` units of `to` per unit of
// `from`, rounded half to even to `to`'s minor unit.
absl::StatusOr<int64_t> Convert(int64_t minor, std::string_view from, std::string_view to, Decimal rate);

// Checked sum; false on overflow (out unchanged).
bool AddTo(int64_t& sum, int64_t amount);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_MONEY_H_
