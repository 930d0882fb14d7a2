// File: limits.h
// -----------------------------------------------------------------------------
// What one observation may claim. Element sums are int64 (microseconds and
// counts) and must never wrap, so every count and duration is bounded where
// it enters Takt, far above anything a plant produces and far below what
// could overflow a sum of many of them:
//
//   good, scrap, rework of one count      each 0 .. 10^9 items, sum >= 1
//   planned run time per item (PRI)       1 us .. 24 h
//   planned time of one count (PQ x PRI)  <= 366 days
//
// Sums over many observations are still overflow-checked (elements.h).
#ifndef TAKT_LIBS_KPI_LIMITS_H_
#define TAKT_LIBS_KPI_LIMITS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace takt::kpi {

inline constexpr int64_t kMaxItemsPerCount = 1'000'000'000;
inline constexpr absl::Duration kMaxPlannedRunTimePerItem = absl::Hours(24);
inline constexpr absl::Duration kMaxPlannedTimePerCount = absl::Hours(24 * 366);

// Checks the quantities of one count (or corrected count): INVALID_ARGUMENT
// naming the field and its value. `allow_zero` admits a count of nothing
// (a correction may cancel a count).
absl::Status CheckQuantities(int64_t good, int64_t scrap, int64_t rework, bool allow_zero);

// Checks a planned run time per item in microseconds; `field` names it.
absl::Status CheckPlannedRunTime(int64_t pri_us, const char* field);

// Checks that PQ x PRI of one count stays within kMaxPlannedTimePerCount.
// Call after both checks above.
absl::Status CheckPlannedTime(int64_t good, int64_t scrap, int64_t rework, int64_t pri_us);

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_LIMITS_H_
