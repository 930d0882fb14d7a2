#include "services/scheduling/crew.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "libs/common/plan_stream.h"
#include "libs/common/status_macros.h"
#include "libs/kpi/calendar.h"

namespace takt::scheduling {
namespace {

namespace sv1 = ::takt::staffing::v1;

template <typename M>
absl::Status Parse(const es::Event& e, M& out) {
  if (!out.ParseFromString(e.payload)) {
    return absl::DataLossError(absl::StrCat("crew: unreadable ", e.type));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CrewFacts::Apply(const es::Event& event) {
  if (event.type == sv1::StationRequirementSet::descriptor()->full_name()) {
    sv1::StationRequirementSet r;
    TAKT_RETURN_IF_ERROR(Parse(event, r));
    auto key = std::make_pair(r.station(), r.shift());
    if (r.min_people() == 0 && r.qualifications().empty()) {
      requirements_.erase(key);
    } else {
      requirements_[std::move(key)] = std::move(r);
    }
  } else if (event.type == sv1::CoverageChanged::descriptor()->full_name()) {
    sv1::CoverageChanged c;
    TAKT_RETURN_IF_ERROR(Parse(event, c));
    qualified_[{c.day(), c.shift(), c.station()}] = c.qualified();
  }
  return absl::OkStatus();
}

const sv1::StationRequirementSet* CrewFacts::Requirement(const std::string& station,
                                                         const std::string& shift) const {
  auto it = requirements_.find({station, shift});
  if (it == requirements_.end()) it = requirements_.find({station, ""});
  return it == requirements_.end() ? nullptr : &it->second;
}

uint32_t CrewFacts::Qualified(const std::string& day, const std::string& shift,
                              const std::string& station) const {
  auto it = qualified_.find({day, shift, station});
  return it == qualified_.end() ? 0 : it->second;
}

std::vector<std::string> CrewFacts::CrewedStations() const {
  std::vector<std::string> out;
  for (const auto& [key, r] : requirements_) {
    if (r.min_people() > 0 && (out.empty() || out.back() != key.first)) out.push_back(key.first);
  }
  return out;
}

std::vector<CrewGap> CrewGaps(const CrewFacts& crew, const model::EnterpriseModel& model,
                              const std::string& facility, absl::Time from, absl::Time to) {
  std::vector<CrewGap> out;
  const kpi::FacilityCalendar* cal = model.Calendar(facility);
  if (cal == nullptr || from >= to) return out;
  // The units each crewed station closes.
  std::vector<std::pair<std::string, std::vector<std::string>>> stations;
  for (const std::string& s : crew.CrewedStations()) {
    if (model.HasWorkUnit(facility, s)) {
      stations.push_back({s, {s}});
    } else if (model.HasWorkCenter(facility, s)) {
      stations.push_back({s, model.WorkUnits(facility, "", s)});
    }
    // A station the model no longer has closes nothing.
  }
  if (stations.empty()) return out;
  for (absl::CivilDay day = cal->ProductionDay(from) - 1; day <= cal->ProductionDay(to); ++day) {
    const std::string day_text = absl::FormatCivilTime(day);
    for (const kpi::ShiftDef& def : cal->SpecOn(day).shifts) {
      auto shift = cal->Shift(day, def.name);
      if (!shift.ok() || shift->interval.end <= from || shift->interval.start >= to) continue;
      for (const auto& [station, units] : stations) {
        const sv1::StationRequirementSet* req = crew.Requirement(station, def.name);
        if (req == nullptr || req->min_people() == 0) continue;
        const uint32_t qualified = crew.Qualified(day_text, def.name, station);
        if (qualified >= req->min_people()) continue;
        CrewGap gap;
        gap.station = station;
        gap.day = day_text;
        gap.shift = def.name;
        gap.start = shift->interval.start;
        gap.end = shift->interval.end;
        gap.required = req->min_people();
        gap.qualified = qualified;
        gap.qualifications.assign(req->qualifications().begin(), req->qualifications().end());
        gap.work_units = units;
        out.push_back(std::move(gap));
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const CrewGap& a, const CrewGap& b) {
    return std::tie(a.start, a.station) < std::tie(b.start, b.station);
  });
  return out;
}

std::string DescribeGap(const CrewGap& gap) {
  return absl::StrCat("station '", gap.station, "' on shift ", gap.shift, " of ", gap.day, ": ",
                      gap.qualified, " of ", gap.required, " qualified",
                      gap.qualifications.empty()
                          ? std::string()
                          : absl::StrCat(" (", absl::StrJoin(gap.qualifications, ", "), ")"));
}

absl::StatusOr<CrewFacts> CrewReader::Snapshot(const std::string& facility) {
  absl::MutexLock lock(&mu_);
  // The fold below runs under the lock (the analysis does not see into lambdas).
  std::map<std::string, CrewFacts>* facilities = &facilities_;
  absl::Status caught_up = follower_.CatchUp([&](const eventlog::LoggedEvent& logged) -> absl::Status {
    const auto& e = logged.envelope;
    if (!absl::EndsWith(e.facility(), kStaffSuffix)) return absl::OkStatus();  // attendance
    const std::string f = e.facility().substr(0, e.facility().size() - (sizeof(kStaffSuffix) - 1));
    absl::Status applied = (*facilities)[f].Apply(es::Event{e.event_type(), e.payload()});
    if (!applied.ok()) {
      return absl::Status(applied.code(), absl::StrCat(kStaffingContext, "/", e.facility(), " sequence ",
                                                       e.sequence(), ": ", applied.message()));
    }
    return absl::OkStatus();
  });
  if (!caught_up.ok()) {
    facilities_.clear();  // the follower starts over
    return caught_up;
  }
  auto it = facilities_.find(facility);
  return it == facilities_.end() ? CrewFacts() : it->second;
}

}  // namespace takt::scheduling
