#include "libs/kpi/limits.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace takt::kpi {

absl::Status CheckQuantities(int64_t good, int64_t scrap, int64_t rework, bool allow_zero) {
  const std::pair<const char*, int64_t> fields[] = {{"good", good}, {"scrap", scrap}, {"rework", rework}};
  for (const auto& [name, value] : fields) {
    if (value < 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, " is ", value, ": must not be negative"));
    }
    if (value > kMaxItemsPerCount) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " is ", value, ": one count may claim at most ", kMaxItemsPerCount, " items"));
    }
  }
  if (!allow_zero && good + scrap + rework == 0) {
    return absl::InvalidArgumentError("good, scrap and rework are all 0: a count of nothing");
  }
  return absl::OkStatus();
}

absl::Status CheckPlannedRunTime(int64_t pri_us, const char* field) {
  if (pri_us <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is ", pri_us, " us: must be positive"));
  }
  if (pri_us > absl::ToInt64Microseconds(kMaxPlannedRunTimePerItem)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is ", pri_us, " us: at most ", absl::FormatDuration(kMaxPlannedRunTimePerItem),
        " per item"));
  }
  return absl::OkStatus();
}

absl::Status CheckPlannedTime(int64_t good, int64_t scrap, int64_t rework, int64_t pri_us) {
  // 3 x 10^9 items x 8.64 x 10^10 us can exceed int64: multiply checked.
  int64_t planned = 0;
  if (__builtin_mul_overflow(good + scrap + rework, pri_us, &planned) ||
      planned > absl::ToInt64Microseconds(kMaxPlannedTimePerCount)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the count claims ", good + scrap + rework, " items of ", pri_us,
        " us each: one count may claim at most ", absl::FormatDuration(kMaxPlannedTimePerCount)));
  }
  return absl::OkStatus();
}

}  // namespace takt::kpi
