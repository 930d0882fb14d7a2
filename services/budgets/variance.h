// File: variance.h
// -----------------------------------------------------------------------------
// Standard-costing variances of one cost line over a period (Horngren,
// Datar and Rajan, Cost Accounting, ch. 7 and 8), in minor units:
//
//   direct material      price  = AQ x AP - AQ x SP      usage      = (AQ - SQ) x SP
//   direct labour        rate   = AH x AR - AH x SR      efficiency = (AH - SH) x SR
//   variable overhead    spending = actual - AH x SR     efficiency = (AH - SH) x SR
//   fixed overhead       spending = actual - budget      volume     = budget - SH x SR
//   other accounts       spending = actual - flexible budget
//
// AQ/AH: actual quantity used or hours worked (from the postings); SQ/SH:
// the standard quantity or hours allowed for the actual good output; SP/SR:
// the standard price or rate; AQ x AP is the actual amount posted (material
// price variance "as used": the quantity in the postings is the quantity
// consumed). Overheads are absorbed per standard labour hour.
//
// The flexible budget is the standard cost of the actual output (variable
// lines) or the budget (fixed lines); the static budget is the budget as
// approved. So:
//   flexible-budget variance = actual - flexible budget = the two variances above
//   volume (activity) variance = flexible budget - static budget
//   static-budget variance = actual - static budget
//
// Sign convention: every variance is actual minus standard or budget. For
// costs, positive is unfavourable (U), negative favourable (F).
//
// For fixed overhead the flexible budget is the budget, so its spending
// variance is the flexible-budget variance, and price + quantity (spending +
// production-volume) is the under- or over-absorbed overhead (actual minus
// SH x absorption rate).
//
// Each product of a quantity and a price is rounded half to even to minor
// units once; the variances are differences of those rounded amounts, so
// they add up exactly to the flexible-budget and static-budget variances.
#ifndef TAKT_SERVICES_BUDGETS_VARIANCE_H_
#define TAKT_SERVICES_BUDGETS_VARIANCE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "services/budgets/money.h"

namespace takt::budgets {

enum class CostKind {
  kDirectMaterial,
  kDirectLabour,
  kVariableOverhead,
  kFixedOverhead,
  kOther,  // maintenance, scrap, utilities, ...: spending against the flexible budget
};

struct CostLine {
  CostKind kind = CostKind::kOther;
  bool variable = false;        // kOther: flexes with output (else fixed)
  int64_t actual = 0;           // minor units posted in the period
  Decimal actual_quantity;      // AQ (material), AH (labour, variable overhead): from postings
  Decimal standard_quantity;    // SQ or SH allowed for the actual good output
  Decimal standard_price;       // SP or SR, minor units per unit (fixed overhead: absorption rate)
  int64_t static_budget = 0;    // minor units budgeted for the period (approved version)
  // kOther and variable: the output the static budget was planned for and
  // the actual good output, to flex it.
  int64_t planned_output = 0;
  int64_t actual_output = 0;
};

struct Variances {
  int64_t actual = 0;
  int64_t flexible_budget = 0;
  int64_t static_budget = 0;
  // Price, rate or spending variance.
  int64_t price = 0;
  // Usage or efficiency (variable lines), production-volume (fixed overhead).
  int64_t quantity = 0;
  int64_t flexible_variance = 0;  // actual - flexible budget
  int64_t volume_variance = 0;    // flexible - static budget
  int64_t static_variance = 0;    // actual - static budget
};

// OUT_OF_RANGE when an amount leaves int64; INVALID_ARGUMENT for a
// negative planned output.
absl::StatusOr<Variances> ComputeVariances(const CostLine& line);

// "U", "F" or "" (zero), for a cost variance.
const char* Direction(int64_t variance);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_VARIANCE_H_
