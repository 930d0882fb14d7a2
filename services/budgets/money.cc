#include "services/budgets/money.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/numeric/int128.h"
#include "absl/strings/str_cat.h"

namespace takt::budgets {
namespace {

// ISO 4217 (list one, 2024): the currencies of the countries manufacturers
// report in, with their minor-unit exponents. Sorted by code.
constexpr std::array<std::pair<std::string_view, int>, 44> kCurrencies = {{
    {"AED", 2}, {"ARS", 2}, {"AUD", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"CZK", 2}, {"DKK", 2}, {"EGP", 2}, {"EUR", 2},
    {"GBP", 2}, {"HKD", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"ISK", 0},
    {"JOD", 3}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3}, {"MAD", 2}, {"MXN", 2}, {"MYR", 2},
    {"NOK", 2}, {"NZD", 2}, {"OMR", 3}, {"PHP", 2}, {"PLN", 2}, {"RON", 2}, {"SAR", 2},
    {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TND", 3}, {"TRY", 2}, {"TWD", 2}, {"USD", 2},
    {"VND", 0}, {"ZAR", 2},
}};

constexpr int64_t kPow10[] = {1,         10,         100,         1000,         10000,
                              100000,    1000000,    10000000,    100000000,    1000000000};

// Parses [-]digits[.digits] with at most `max_decimals` decimals into
// value * 10^max_decimals.
absl::StatusOr<int64_t> ParseFixed(std::string_view text, int max_decimals, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " '", std::string(text.substr(0, 40)), "': ", std::string(why)));
  };
  if (text.empty()) return bad("empty");
  bool negative = false;
  size_t i = 0;
  if (text[0] == '-') {
    negative = true;
    i = 1;
  }
  absl::int128 value = 0;
  int decimals = -1;  // -1: before the point
  bool digits = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (decimals >= 0) return bad("two decimal points");
      decimals = 0;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("not a decimal number");
    digits = true;
    if (decimals >= 0 && ++decimals > max_decimals) {
      return bad(absl::StrCat("more than ", max_decimals, " decimals"));
    }
    value = value * 10 + (c - '0');
    if (value > absl::int128(INT64_MAX) * 10) return bad("out of range");
  }
  if (!digits) return bad("no digits");
  if (decimals == 0) return bad("a decimal point without decimals");
  value *= kPow10[max_decimals - std::max(decimals, 0)];
  if (negative) value = -value;
  if (value > INT64_MAX || value < -absl::int128(INT64_MAX)) return bad("out of range");
  return static_cast<int64_t>(value);
}

std::string FormatFixed(int64_t value, int decimals, bool trim) {
  const bool negative = value < 0;
  absl::uint128 v = negative ? static_cast<absl::uint128>(-absl::int128(value))
                                 : static_cast<absl::uint128>(value);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  if (decimals > 0) {
    if (digits.size() <= static_cast<size_t>(decimals)) {
      digits.insert(digits.begin(), static_cast<size_t>(decimals) + 1 - digits.size(), '0');
    }
    digits.insert(digits.end() - decimals, '.');
    if (trim) {
      while (digits.back() == '0') digits.pop_back();
      if (digits.back() == '.') digits.pop_back();
    }
  }
  return negative ? "-" + digits : digits;
}

// n / d rounded half to even; d > 0.
absl::int128 DivRoundHalfEven(absl::int128 n, absl::int128 d) {
  absl::int128 q = n / d;
  absl::int128 r = n % d;
  if (r < 0) {  // floor division
    q -= 1;
    r += d;
  }
  const absl::int128 twice = 2 * r;
  if (twice > d || (twice == d && (q % 2 != 0))) q += 1;
  return q;
}

}  // namespace

absl::StatusOr<int> MinorExponent(std::string_view currency) {
  auto it = std::lower_bound(kCurrencies.begin(), kCurrencies.end(), currency,
                             [](const auto& entry, std::string_view code) { return entry.first < code; });
  if (it == kCurrencies.end() || it->first != currency) {
    return absl::NotFoundError(absl::StrCat("currency '", std::string(currency.substr(0, 8)),
                                            "' is not an ISO 4217 code Takt knows (e.g. USD, EUR, JPY)"));
  }
  return it->second;
}

absl::StatusOr<Decimal> ParseDecimal(std::string_view text) {
  auto v = ParseFixed(text, 9, "decimal");
  if (!v.ok()) return v.status();
  return Decimal{*v};
}

std::string FormatDecimal(Decimal d) { return FormatFixed(d.nanos, 9, true); }

absl::StatusOr<int64_t> ParseAmount(std::string_view text, std::string_view currency) {
  auto exponent = MinorExponent(currency);
  if (!exponent.ok()) return exponent.status();
  return ParseFixed(text, *exponent, absl::StrCat("amount in ", std::string(currency)));
}

std::string FormatAmount(int64_t minor, int exponent) { return FormatFixed(minor, exponent, false); }

absl::StatusOr<int64_t> MulDiv(int64_t a, int64_t b, int64_t c) {
  if (c == 0) return absl::InvalidArgumentError("division by zero");
  absl::int128 n = static_cast<absl::int128>(a) * b;
  absl::int128 d = c;
  if (d < 0) {
    n = -n;
    d = -d;
  }
  const absl::int128 q = DivRoundHalfEven(n, d);
  if (q > INT64_MAX || q < INT64_MIN) return absl::OutOfRangeError("amount out of range");
  return static_cast<int64_t>(q);
}

absl::StatusOr<int64_t> Times(int64_t minor, Decimal factor) { return MulDiv(minor, factor.nanos, kNanosPerUnit); }

absl::StatusOr<int64_t> Cost(Decimal quantity, Decimal price) {
  const absl::int128 q = DivRoundHalfEven(static_cast<absl::int128>(quantity.nanos) * price.nanos,
                                      static_cast<absl::int128>(kNanosPerUnit) * kNanosPerUnit);
  if (q > INT64_MAX || q < INT64_MIN) return absl::OutOfRangeError("cost out of range");
  return static_cast<int64_t>(q);
}

absl::StatusOr<int64_t> Convert(int64_t minor, std::string_view from, std::string_view to, Decimal rate) {
  auto ef = MinorExponent(from);
  if (!ef.ok()) return ef.status();
  auto et = MinorExponent(to);
  if (!et.ok()) return et.status();
  if (rate.nanos <= 0) return absl::InvalidArgumentError("an exchange rate must be positive");
  // minor / 10^ef * rate * 10^et, in one rounding.
  absl::int128 n = static_cast<absl::int128>(minor) * rate.nanos;
  absl::int128 d = kNanosPerUnit;
  if (*et >= *ef) {
    n *= kPow10[*et - *ef];
  } else {
    d *= kPow10[*ef - *et];
  }
  const absl::int128 q = DivRoundHalfEven(n, d);
  if (q > INT64_MAX || q < INT64_MIN) return absl::OutOfRangeError("converted amount out of range");
  return static_cast<int64_t>(q);
}

bool AddTo(int64_t& sum, int64_t amount) {
  int64_t out;
  if (__builtin_add_overflow(sum, amount, &out)) return false;
  sum = out;
  return true;
}

}  // namespace takt::budgets
