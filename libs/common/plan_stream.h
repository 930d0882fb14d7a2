// File: plan_stream.h
// -----------------------------------------------------------------------------
// A facility's planning facts (routings, work orders, committed schedules)
// live in stream "<facility>.plan" of the scheduling context, beside the
// facility's shop-floor stream "<facility>". Facility ids ending in ".plan"
// are reserved for this.
#ifndef TAKT_LIBS_COMMON_PLAN_STREAM_H_
#define TAKT_LIBS_COMMON_PLAN_STREAM_H_

#include <optional>
#include <string>

namespace takt {

// The scheduling context: shop-floor streams "<facility>", planning
// streams "<facility>.plan" (budgets reads the production counts there).
inline constexpr char kSchedulingContext[] = "scheduling";
inline constexpr char kPlanStreamSuffix[] = ".plan";

inline std::string PlanStream(const std::string& facility) { return facility + kPlanStreamSuffix; }

// The facility of a planning stream, or nullopt for any other stream.
inline std::optional<std::string> FacilityOfPlanStream(const std::string& stream) {
  constexpr size_t n = sizeof(kPlanStreamSuffix) - 1;
  if (stream.size() <= n || stream.compare(stream.size() - n, n, kPlanStreamSuffix) != 0) {
    return std::nullopt;
  }
  return stream.substr(0, stream.size() - n);
}

// The staffing context keeps a facility's people, qualifications and
// rosters in stream "<facility>.staff" (its attendance in "<facility>");
// scheduling reads the crew facts there (services/scheduling/crew.h).
inline constexpr char kStaffingContext[] = "staffing";
inline constexpr char kStaffSuffix[] = ".staff";
inline std::string StaffStream(const std::string& facility) { return facility + kStaffSuffix; }
// The budgets context keeps a facility's budget record in "<facility>.budget".
inline constexpr char kBudgetSuffix[] = ".budget";

// Suffixes of the streams contexts derive from a facility id (scheduling's
// "<f>.plan", quality's "<f>.qms", staffing's "<f>.staff", budgets'
// "<f>.budget"): no facility id
// may end in one.
inline bool HasReservedStreamSuffix(const std::string& id) {
  for (const char* suffix : {kPlanStreamSuffix, ".qms", kStaffSuffix, kBudgetSuffix}) {
    const size_t n = std::char_traits<char>::length(suffix);
    if (id.size() > n && id.compare(id.size() - n, n, suffix) == 0) return true;
  }
  return false;
}

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_PLAN_STREAM_H_
