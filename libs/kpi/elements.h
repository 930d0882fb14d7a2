// File: elements.h
// -----------------------------------------------------------------------------
// ISO 22400-2 elements: the additive quantities every KPI is a ratio of.
// Times are integer microseconds and quantities integer counts, so sums are
// exact and independent of order: a rollup rebuilt from the log, or
// recomputed by an auditor from raw events, gives the same bits.
#ifndef TAKT_LIBS_KPI_ELEMENTS_H_
#define TAKT_LIBS_KPI_ELEMENTS_H_

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace takt::kpi {

enum class Element : int {
  kPbt = 0,   // planned busy time (POT minus planned downtime)
  kApt,       // actual production time
  kAust,      // actual unit setup time
  kAdet,      // actual unit delay time (failures, minor stops, other delays)
  kAdot,      // actual unit down time: available, no order (idle)
  kPdt,       // planned downtime (planned maintenance, breaks)
  kPriPq,     // sum of planned run time per item x produced quantity (time)
  kPriGq,     // sum of planned run time per item x good quantity (time)
  kPq,        // produced quantity
  kGq,        // good quantity
  kSq,        // scrap quantity
  kRq,        // rework quantity
  kFe,        // failure events
  kTbf,       // operating time between failures
  kTtr,       // time to restoration (down for failure)
  kTtf,       // operating time to failure
  kAoet,      // actual order execution time
  // Work orders against committed schedules (scheduling context); counted
  // for the facility, on the production day of the planned end (scheduled,
  // in window) or of the completion (the others).
  kOrdersScheduled,  // orders in the last committed schedule (not cancelled)
  kOrdersInWindow,   // ... completed within their planned window
  kOrdersCompleted,  // orders completed
  kOrdersWithDue,    // ... that had a due date
  kOrdersOnTime,     // ... completed by their due date
  kOrdersLate,       // ... completed after it
  kLateness,         // sum of completion - due over orders with a due date
  kCount,
};

inline constexpr int kElementCount = static_cast<int>(Element::kCount);

// Short ISO name ("PBT", "APT", ...), as used in formulas and exports.
std::string_view ElementName(Element e);
// True for time elements (microseconds), false for counts.
bool IsTimeElement(Element e);

// takt::kpi::kOverflowed
//
// The value of an element sum that left the int64 range. Sums never wrap:
// an overflow makes the sum kOverflowed, and it stays so whatever is added
// later; readers turn it into an OUT_OF_RANGE answer. No real sum reaches
// it (INT64_MIN), because element sums are never below zero.
inline constexpr int64_t kOverflowed = std::numeric_limits<int64_t>::min();

// a + b, or kOverflowed if either is kOverflowed or the sum leaves the range.
inline int64_t AddChecked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a == kOverflowed || b == kOverflowed || __builtin_add_overflow(a, b, &r)) {
    return kOverflowed;
  }
  return r;
}

// a x b, or kOverflowed likewise.
inline int64_t MulChecked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a == kOverflowed || b == kOverflowed || __builtin_mul_overflow(a, b, &r)) {
    return kOverflowed;
  }
  return r;
}

// takt::kpi::ElementSums
//
// A vector of element totals for some scope and period. Addition is
// overflow-checked element by element (see kOverflowed).
struct ElementSums {
  std::array<int64_t, kElementCount> v{};

  int64_t& operator[](Element e) { return v[static_cast<int>(e)]; }
  int64_t operator[](Element e) const { return v[static_cast<int>(e)]; }
  ElementSums& operator+=(const ElementSums& o) {
    for (int i = 0; i < kElementCount; ++i) v[i] = AddChecked(v[i], o.v[i]);
    return *this;
  }
  // The first element whose sum overflowed, if any.
  std::optional<Element> Overflowed() const {
    for (int i = 0; i < kElementCount; ++i) {
      if (v[i] == kOverflowed) return static_cast<Element>(i);
    }
    return std::nullopt;
  }
  bool operator==(const ElementSums&) const = default;
};

}  // namespace takt::kpi

#endif  // TAKT_LIBS_KPI_ELEMENTS_H_
