// File: families.h
// -----------------------------------------------------------------------------
// What the staffing context brings to the rollups (libs/kpi/family.h): one
// element family, `staffing`, folded from single events (each event carries
// what the fold needs: a clock-out its worked interval and overtime, a
// coverage change its previous figures, a reclassification the class it
// replaces).
//
//   hours      WORKED (attendance, split at hour boundaries so that shifts
//              and days get their own share), OVERTIME (at the clock-out),
//              SCHEDULED (rostered shift time, at the shift's start),
//              ABSENT_PLANNED / ABSENT_UNPLANNED (the absent shift's time)
//   coverage   REQUIRED, ASSIGNED, QUALIFIED, COVERED = min(qualified,
//              required), per station at the shift's start
//   safety     RECORDABLE (OSHA 300 columns G+H+I+J), DART_CASES (H+I),
//              AWAY_CASES (H), DAYS_AWAY, DAYS_RESTRICTED, NEAR_MISSES,
//              FIRST_AID, per station at the incident's time; ACTIONS_DONE,
//              ACTIONS_ON_TIME
//
// Rates are pooled, never averaged: every scope and period sums cases and
// hours first (TRIR = sum RECORDABLE x 200,000 h / sum WORKED). The base is
// 200,000 hours (100 full-time workers x 40 h x 50 weeks, 29 CFR 1904);
// outside the US rates per 1,000,000 hours are these x 5.
#ifndef TAKT_SERVICES_STAFFING_FAMILIES_H_
#define TAKT_SERVICES_STAFFING_FAMILIES_H_

#include <string>
#include <vector>

#include "libs/common/plan_stream.h"
#include "libs/kpi/family.h"

namespace takt::staffing {

inline constexpr char kStaffingFamily[] = "staffing";
// The record stream of facility F is StaffStream(F) (libs/common/plan_stream.h);
// F holds attendance.
// The rates' base: hours (in microseconds, the unit of time elements).
inline constexpr double kRateBaseHours = 200000;

std::string FacilityOfStream(const std::string& stream);

enum StaffingElement : int {
  kWorked = 0,
  kOvertime,
  kScheduled,
  kAbsentPlanned,
  kAbsentUnplanned,
  kRequired,
  kAssigned,
  kQualified,
  kCovered,
  kRecordable,
  kDartCases,
  kAwayCases,
  kDaysAway,
  kDaysRestricted,
  kNearMisses,
  kFirstAid,
  kActionsDone,
  kActionsOnTime,
  kBooked,  // labour booked on work orders (ISO 22400 APWT), microseconds
  kStaffingElementCount
};

std::vector<kpi::FamilyRegistration> Families();

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_FAMILIES_H_
