// File: facts.h
// -----------------------------------------------------------------------------
// What the budgets context reads besides its record: actual postings summed
// per month and account (variances) and per day, account and product
// (improvement savings), and good output, scrap and rework per month or day
// and product (scheduling's counts, by facility-local production day).
#ifndef TAKT_SERVICES_BUDGETS_FACTS_H_
#define TAKT_SERVICES_BUDGETS_FACTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/time/civil_time.h"

namespace takt::budgets {

// Good output, scrap and rework of a product in a month or day.
struct Output {
  int64_t good = 0;
  int64_t scrap = 0;
  int64_t rework = 0;
};
using OutputByMonth = std::map<std::pair<absl::CivilMonth, std::string>, Output>;  // (month, product)
using OutputByDay = std::map<std::pair<absl::CivilDay, std::string>, Output>;      // (day, product)

// Actual amounts and quantities of an account.
struct Actual {
  int64_t amount = 0;
  int64_t quantity_nanos = 0;
  int64_t postings = 0;  // how many postings (reversals included) made it
};
using ActualByMonth = std::map<std::pair<absl::CivilMonth, std::string>, Actual>;  // (month, account)
// (day, account, product): product "" for postings that name none.
using ActualByDay = std::map<std::tuple<absl::CivilDay, std::string, std::string>, Actual>;

// (month, cost centre, account).
using ActualByCostCentre = std::map<std::tuple<absl::CivilMonth, std::string, std::string>, Actual>;

// A facility's postings summed three ways.
struct PostingTotals {
  ActualByMonth monthly;
  ActualByDay daily;
  ActualByCostCentre by_cost_centre;
};

// Attended time (clock-in to clock-out) per production month of the
// clock-in, microseconds (staffing's ClockedOut).
using AttendedByMonth = std::map<absl::CivilMonth, int64_t>;

// What the budgets context reads from the other contexts, per facility.
struct FacilityFacts {
  OutputByMonth months;
  OutputByDay days;
  AttendedByMonth attended_us;
};

}  // namespace takt::budgets

#endif  // TAKT_SERVICES_BUDGETS_FACTS_H_
