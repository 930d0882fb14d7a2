// File: savings.h
// -----------------------------------------------------------------------------
// An improvement initiative's savings over a range of days, pure: planned
// (from its plan), measured (from the facts) and confirmed (entered with
// approval). Measured savings are never typed in: the initiative's target
// KPI over its baseline window against the same KPI over each month's
// measured days, valued by the TargetKpi's rule (events.proto), "what the
// baseline's rate would have needed for this volume, minus what was
// needed":
//
//   SCRAP_RATIO        per product: (scrap_b / made_b x made - scrap)
//                      x the product's standard unit cost of the month
//   MATERIAL_USAGE     (AQ_b / SQ_b x SQ - AQ) x the account's standard price
//   LABOUR_EFFICIENCY  (AH_b / SH_b x SH - AH) x the standard rate
//   COST_PER_GOOD_UNIT cost_b / good_b x good - cost
//
// (made = good + scrap; SQ and SH are the standard quantities allowed for the
// good output, from the cards in force; with a product, only its output and
// the postings that name it count). Each month is valued on its own and
// rounded half to even once. Positive is a saving, negative a loss.
//
// The measured days run from the start (or the range's first day) to the
// range's last day, or the day before a cancellation. Not valued, and said
// in `not_measured`: a baseline without output or (but for scrap) without
// postings of the account (there is no baseline rate); a month in which the
// account has no postings on the measured days (postings lagging the
// production would show as savings); for scrap, a product without baseline
// output or without a card. A month with postings but no good output is
// valued as all of it lost (nothing was allowed). For material and labour,
// output of a product without a card allows no quantity (said). Labour
// hours are the hours posted on the account (attendance feeds variances
// only). Confirmed savings count for the months of the range up to the
// last measured day, whole months.
#ifndef TAKT_SERVICES_BUDGETS_SAVINGS_H_
#define TAKT_SERVICES_BUDGETS_SAVINGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "services/budgets/budget_book.h"
#include "services/budgets/facts.h"
#include "takt/budgets/v1/budgets_service.pb.h"

namespace takt::budgets {

// The savings of `initiative` of `facility` over days [from, to], amounts
// in the facility currency.
absl::StatusOr<v1::InitiativeSavings> MeasureSavings(const BudgetBook& book, const std::string& facility,
                                                     const Initiative& initiative, const ActualByDay& actual,
                                                     const OutputByDay& output, absl::CivilDay from,
                                                     absl::CivilDay to);

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_SAVINGS_H_
