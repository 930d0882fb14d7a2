#include "services/budgets/variance.h"

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace takt::budgets {
namespace {

absl::StatusOr<int64_t> Sub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) return absl::OutOfRangeError("variance out of range");
  return out;
}

}  // namespace

absl::StatusOr<Variances> ComputeVariances(const CostLine& line) {
  Variances v;
  v.actual = line.actual;
  v.static_budget = line.static_budget;
  switch (line.kind) {
    case CostKind::kDirectMaterial:
    case CostKind::kDirectLabour:
    case CostKind::kVariableOverhead: {
      TAKT_ASSIGN_OR_RETURN(const int64_t at_standard_price, Cost(line.actual_quantity, line.standard_price));
      TAKT_ASSIGN_OR_RETURN(v.flexible_budget, Cost(line.standard_quantity, line.standard_price));
      TAKT_ASSIGN_OR_RETURN(v.price, Sub(line.actual, at_standard_price));
      TAKT_ASSIGN_OR_RETURN(v.quantity, Sub(at_standard_price, v.flexible_budget));
      break;
    }
    case CostKind::kFixedOverhead: {
      TAKT_ASSIGN_OR_RETURN(const int64_t absorbed, Cost(line.standard_quantity, line.standard_price));
      v.flexible_budget = line.static_budget;
      TAKT_ASSIGN_OR_RETURN(v.price, Sub(line.actual, line.static_budget));
      TAKT_ASSIGN_OR_RETURN(v.quantity, Sub(line.static_budget, absorbed));
      break;
    }
    case CostKind::kOther: {
      if (line.variable) {
        if (line.planned_output < 0 || line.actual_output < 0) {
          return absl::InvalidArgumentError("output must not be negative");
        }
        if (line.planned_output == 0) {
          v.flexible_budget = line.static_budget;  // nothing planned to flex by
        } else {
          TAKT_ASSIGN_OR_RETURN(v.flexible_budget,
                                MulDiv(line.static_budget, line.actual_output, line.planned_output));
        }
      } else {
        v.flexible_budget = line.static_budget;
      }
      TAKT_ASSIGN_OR_RETURN(v.price, Sub(line.actual, v.flexible_budget));
      break;
    }
  }
  TAKT_ASSIGN_OR_RETURN(v.flexible_variance, Sub(v.actual, v.flexible_budget));
  TAKT_ASSIGN_OR_RETURN(v.volume_variance, Sub(v.flexible_budget, v.static_budget));
  TAKT_ASSIGN_OR_RETURN(v.static_variance, Sub(v.actual, v.static_budget));
  return v;
}

const char* Direction(int64_t variance) { return variance > 0 ? "U" : variance < 0 ? "F" : ""; }

}  // namespace takt::budgets
