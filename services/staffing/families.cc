#include "services/staffing/families.h"

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "services/staffing/staff_book.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::staffing {
namespace {

constexpr int64_t kQuarter = 15 * 60;  // seconds

template <typename T>
absl::Status Parse(const eventlog::v1::Envelope& e, T& out) {
  if (!out.ParseFromString(e.payload())) {
    return absl::DataLossError(absl::StrCat(e.event_type(), " payload does not parse"));
  }
  return absl::OkStatus();
}

// The safety elements of one case's figures, times `sign`.
void AddCase(kpi::Values& v, v1::IncidentClass c, uint32_t days_away, uint32_t days_restricted,
             int sign) {
  if (Recordable(c)) v[kRecordable] += sign;
  if (Dart(c)) v[kDartCases] += sign;
  if (c == v1::DAYS_AWAY) v[kAwayCases] += sign;
  if (c == v1::NEAR_MISS) v[kNearMisses] += sign;
  if (c == v1::FIRST_AID) v[kFirstAid] += sign;
  v[kDaysAway] += sign * static_cast<int64_t>(days_away);
  v[kDaysRestricted] += sign * static_cast<int64_t>(days_restricted);
}

class StaffingFold final : public kpi::Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
    const std::string& type = e.event_type();
    if (!absl::StartsWith(type, "takt.staffing.v1.")) return absl::OkStatus();
    const std::string facility = FacilityOfStream(e.facility());
    auto delta = [&](const std::string& unit, absl::Time at) -> kpi::Values& {
      out.push_back({facility, unit, at, kpi::Values(kStaffingElementCount, 0)});
      return out.back().values;
    };
    // Time ending at `end` into `element`, split at quarter hours: every
    // time zone's offset is a multiple of 15 minutes, so no piece straddles
    // a local hour (the rollups' grain) in any plant (India, Nepal,
    // Newfoundland included).
    auto hours = [&](const std::string& station, absl::Time end, int64_t micros, int element) {
      absl::Time t = end - absl::Microseconds(micros);
      while (t < end) {
        const absl::Time next = std::min(end, absl::FromUnixSeconds((absl::ToUnixSeconds(t) / kQuarter + 1) * kQuarter));
        delta(station, t)[element] = absl::ToInt64Microseconds(next - t);
        t = next;
      }
    };
    if (type == "takt.staffing.v1.ClockedOut") {
      v1::ClockedOut r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      const absl::Time end = ToTime(r.at());
      hours(r.station(), end, r.worked_us(), kWorked);
      if (r.overtime_us() > 0) delta(r.station(), end)[kOvertime] = r.overtime_us();
      if (r.job_booked_us() > 0) hours(r.job_station(), end, r.job_booked_us(), kBooked);
    } else if (type == "takt.staffing.v1.JobEnded") {
      v1::JobEnded r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      hours(r.station(), ToTime(r.at()), r.booked_us(), kBooked);
    } else if (type == "takt.staffing.v1.ShiftAssigned" || type == "takt.staffing.v1.ShiftUnassigned") {
      const bool assigned = type == "takt.staffing.v1.ShiftAssigned";
      v1::ShiftAssigned a;
      v1::ShiftUnassigned u;
      if (assigned) {
        TAKT_RETURN_IF_ERROR(Parse(e, a));
      } else {
        TAKT_RETURN_IF_ERROR(Parse(e, u));
      }
      const auto& start = assigned ? a.start() : u.start();
      const auto& end = assigned ? a.end() : u.end();
      delta(assigned ? a.station() : u.station(), ToTime(start))[kScheduled] =
          (assigned ? 1 : -1) * absl::ToInt64Microseconds(ToTime(end) - ToTime(start));
    } else if (type == "takt.staffing.v1.AbsenceRecorded") {
      v1::AbsenceRecorded r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      delta(r.station(), ToTime(r.start()))[r.kind() == v1::PLANNED ? kAbsentPlanned : kAbsentUnplanned] =
          absl::ToInt64Microseconds(ToTime(r.end()) - ToTime(r.start()));
    } else if (type == "takt.staffing.v1.CoverageChanged") {
      v1::CoverageChanged r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      kpi::Values& v = delta(r.station(), ToTime(r.shift_start()));
      v[kRequired] = static_cast<int64_t>(r.required()) - r.previous_required();
      v[kAssigned] = static_cast<int64_t>(r.assigned()) - r.previous_assigned();
      v[kQualified] = static_cast<int64_t>(r.qualified()) - r.previous_qualified();
      v[kCovered] = static_cast<int64_t>(std::min(r.qualified(), r.required())) -
                    std::min(r.previous_qualified(), r.previous_required());
    } else if (type == "takt.staffing.v1.IncidentReported") {
      v1::IncidentReported r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      AddCase(delta(r.station(), ToTime(r.occurred())), r.classification(), r.days_away(),
              r.days_restricted(), 1);
    } else if (type == "takt.staffing.v1.IncidentReclassified") {
      v1::IncidentReclassified r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      kpi::Values& v = delta(r.station(), ToTime(r.occurred()));
      AddCase(v, r.previous_classification(), r.previous_days_away(), r.previous_days_restricted(), -1);
      AddCase(v, r.classification(), r.days_away(), r.days_restricted(), 1);
    } else if (type == "takt.staffing.v1.IncidentActionCompleted") {
      v1::IncidentActionCompleted r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      kpi::Values& v = delta("", ToTime(e.occurred_time()));
      v[kActionsDone] = 1;
      v[kActionsOnTime] = r.on_time() ? 1 : 0;
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::string FacilityOfStream(const std::string& stream) {
  if (absl::EndsWith(stream, kStaffSuffix)) {
    return stream.substr(0, stream.size() - (sizeof(kStaffSuffix) - 1));
  }
  return stream;
}

std::vector<kpi::FamilyRegistration> Families() {
  kpi::FamilyRegistration r;
  r.context = kStaffingContext;
  r.family = {kStaffingFamily,
              {{"WORKED", true},
               {"OVERTIME", true},
               {"SCHEDULED", true},
               {"ABSENT_PLANNED", true},
               {"ABSENT_UNPLANNED", true},
               {"REQUIRED", false},
               {"ASSIGNED", false},
               {"QUALIFIED", false},
               {"COVERED", false},
               {"RECORDABLE", false},
               {"DART_CASES", false},
               {"AWAY_CASES", false},
               {"DAYS_AWAY", false},
               {"DAYS_RESTRICTED", false},
               {"NEAR_MISSES", false},
               {"FIRST_AID", false},
               {"ACTIONS_DONE", false},
               {"ACTIONS_ON_TIME", false},
               {"BOOKED", true}}};
  auto kpi = [&](std::string id, std::string name, std::string unit, kpi::Better better,
                 std::string ref, std::string formula, std::vector<int> num, std::vector<int> den,
                 double scale) {
    r.kpis.push_back({std::move(id), std::move(name), std::move(unit), better, std::move(ref),
                      std::move(formula), {{std::move(num), std::move(den)}}, scale, kStaffingFamily});
  };
  // Cases per 200,000 hours worked; WORKED is in microseconds.
  const double per_base = kRateBaseHours * 3600e6;
  const std::string osha = "29 CFR 1904 (OSHA 300 log); rate per 200,000 h worked";
  kpi("safety_trir", "Total recordable incident rate", "cases/200,000 h", kpi::Better::kLower, osha,
      "RECORDABLE x 200,000 h / WORKED", {kRecordable}, {kWorked}, per_base);
  kpi("safety_dart", "Days away, restricted or transferred rate", "cases/200,000 h",
      kpi::Better::kLower, osha, "DART_CASES x 200,000 h / WORKED", {kDartCases}, {kWorked}, per_base);
  kpi("safety_ltir", "Lost time incident rate", "cases/200,000 h", kpi::Better::kLower, osha,
      "AWAY_CASES x 200,000 h / WORKED", {kAwayCases}, {kWorked}, per_base);
  kpi("safety_severity", "Severity rate (days away)", "days/200,000 h", kpi::Better::kLower, osha,
      "DAYS_AWAY x 200,000 h / WORKED", {kDaysAway}, {kWorked}, per_base);
  kpi("safety_near_miss_rate", "Near-miss frequency rate", "near misses/200,000 h",
      kpi::Better::kHigher, "leading indicator; no OSHA formula; per 200,000 h worked",
      "NEAR_MISSES x 200,000 h / WORKED", {kNearMisses}, {kWorked}, per_base);
  kpi("safety_recordable_cases", "Recordable cases", "cases", kpi::Better::kLower, osha,
      "RECORDABLE", {kRecordable}, {}, 1.0);
  kpi("safety_action_on_time_rate", "Safety actions closed on time", "%", kpi::Better::kHigher,
      "staffing", "ACTIONS_ON_TIME / ACTIONS_DONE", {kActionsOnTime}, {kActionsDone}, 100.0);
  kpi("hours_worked", "Hours worked", "h", kpi::Better::kHigher, "attendance", "WORKED",
      {kWorked}, {}, 1.0 / 3600e6);
  kpi("staffing_coverage", "Qualified staffing coverage", "%", kpi::Better::kHigher, "roster",
      "COVERED / REQUIRED (COVERED = min(qualified, required) per station and shift)", {kCovered},
      {kRequired}, 100.0);
  kpi("certification_compliance", "Assigned people fully qualified", "%", kpi::Better::kHigher,
      "roster", "QUALIFIED / ASSIGNED", {kQualified}, {kAssigned}, 100.0);
  kpi("absenteeism", "Unplanned absence rate", "%", kpi::Better::kLower, "attendance",
      "ABSENT_UNPLANNED / SCHEDULED", {kAbsentUnplanned}, {kScheduled}, 100.0);
  kpi("worker_efficiency", "Worker efficiency", "%", kpi::Better::kHigher,
      "ISO 22400-2 (APWT / APAT); labour booked with JOB_START/JOB_END punches",
      "BOOKED / WORKED", {kBooked}, {kWorked}, 100.0);
  kpi("overtime_ratio", "Overtime ratio", "%", kpi::Better::kLower, "attendance",
      "OVERTIME / WORKED", {kOvertime}, {kWorked}, 100.0);
  r.fold = [] { return std::make_unique<StaffingFold>(); };
  return {std::move(r)};
}

}  // namespace takt::staffing
