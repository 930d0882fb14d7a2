// File: families.h
// -----------------------------------------------------------------------------
// What the quality context brings to the rollups (libs/kpi/family.h): two
// element families, each folded from single events (the events carry what
// the fold needs: nominal and resolution with each subgroup, on-time with
// each completed action, open time with each closure).
//
//   quality      per work unit: attribute inspections (inspected, first
//                pass inspected and passed, defective, defects,
//                opportunities), rule violations, NCRs raised; per
//                facility: NCRs closed with their open time, CAPA actions
//                done and on time.
//                KPIs: quality_fpy, quality_dpu, quality_dpmo, quality_ppm,
//                spc_violations, ncr_raised, ncr_closed, ncr_days_to_close,
//                capa_on_time_rate.
//   capability   per characteristic (the "unit" of its rows is the
//                characteristic id): the moments of capability.h.
//   inspection_steps  per attribute characteristic: first-pass units
//                inspected and passed (the steps of rolled throughput
//                yield).
#ifndef TAKT_SERVICES_QUALITY_FAMILIES_H_
#define TAKT_SERVICES_QUALITY_FAMILIES_H_

#include <string>
#include <vector>

#include "libs/kpi/family.h"
#include "takt/quality/v1/events.pb.h"

namespace takt::quality {

inline constexpr char kQualityContext[] = "quality";
inline constexpr char kQualityFamily[] = "quality";
inline constexpr char kCapabilityFamily[] = "capability";
inline constexpr char kStepsFamily[] = "inspection_steps";
// The plans/limits/NCR stream of facility F is F + kQmsSuffix.
inline constexpr char kQmsSuffix[] = ".qms";

std::string QmsStream(const std::string& facility);
// The facility of a quality stream (either).
std::string FacilityOfStream(const std::string& stream);

enum StepElement : int { kStepInspected = 0, kStepPassed, kStepElementCount };

enum QualityElement : int {
  kInspected = 0,
  kFirstInspected,
  kFirstPassed,
  kDefective,
  kDefects,
  kOpportunities,
  kViolations,
  kNcrRaised,
  kNcrClosed,
  kNcrOpenTime,
  kCapaDone,
  kCapaOnTime,
  kQualityElementCount
};

std::vector<kpi::FamilyRegistration> Families();

// The defects an inspection counts: the sum of its defect counts, or its
// failed units when it lists none (one place for ingest, replay and fold).
uint64_t DefectsOf(const v1::InspectionRecorded& r);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_FAMILIES_H_
