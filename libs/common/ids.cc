#include "libs/common/ids.h"

#include <algorithm>
#include <cstdint>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace takt {
namespace {

bool IsLowerAlnumOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsFacilityChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

absl::Status ValidateContextName(std::string_view context) {
  if (context.empty()) {
    return absl::InvalidArgumentError("context: must not be empty");
  }
  if (context.size() > 32) {
    return absl::InvalidArgumentError("context: longer than 32 characters");
  }
  if (context[0] < 'a' || context[0] > 'z') {
    return absl::InvalidArgumentError(
        absl::StrCat("context '", std::string(context), "': must start with a lower-case letter"));
  }
  for (char c : context) {
    if (!IsLowerAlnumOrUnderscore(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("context '", std::string(context), "': only [a-z0-9_] allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateId(std::string_view field, std::string_view id, size_t max_length) {
  // The value as shown in a message: at most 40 characters, escaped.
  auto shown = [&] {
    std::string v = absl::CHexEscape(absl::string_view(id.data(), std::min<size_t>(id.size(), 40)));
    if (id.size() > 40) absl::StrAppend(&v, "...");
    return v;
  };
  const std::string name(field);
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(name, ": must not be empty"));
  if (id.size() > max_length) {
    return absl::InvalidArgumentError(absl::StrCat(name, " '", shown(), "': ", id.size(),
                                                   " characters, at most ", max_length));
  }
  if (id[0] == '.' || id[0] == '-') {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " '", shown(), "': must not start with '.' or '-'"));
  }
  for (char c : id) {
    if (!IsFacilityChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " '", shown(), "': only [A-Za-z0-9._-] allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFacilityId(std::string_view facility) {
  return ValidateId("facility", facility);
}

std::string NewUuid() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  uint64_t hi = gen();
  uint64_t lo = gen();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int pos = 0;
  auto put = [&](uint64_t v, int nibble) { out[pos++] = kHex[(v >> (nibble * 4)) & 0xF]; };
  for (int i = 15; i >= 0; --i) {
    if (pos == 8 || pos == 13) ++pos;
    put(hi, i);
  }
  for (int i = 15; i >= 0; --i) {
    if (pos == 18 || pos == 23) ++pos;
    put(lo, i);
  }
  return out;
}

std::string HexEncode(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

bool HexDecode(std::string_view hex, std::string* out) {
  // absl::HexStringToBytes (this Abseil) does not check its input: check
  // first that it is an even number of hex digits.
  if (hex.size() % 2 != 0 || !std::all_of(hex.begin(), hex.end(), [](char c) {
        return absl::ascii_isxdigit(static_cast<unsigned char>(c));
      })) {
    return false;
  }
  *out = absl::HexStringToBytes(absl::string_view(hex.data(), hex.size()));
  return true;
}

}  // namespace takt
