#include "services/quality/families.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "services/quality/capability.h"
#include "takt/quality/v1/events.pb.h"

namespace takt::quality {
namespace {

template <typename T>
absl::Status Parse(const eventlog::v1::Envelope& e, T& out) {
  if (!out.ParseFromString(e.payload())) {
    return absl::DataLossError(absl::StrCat(e.event_type(), " payload does not parse"));
  }
  return absl::OkStatus();
}

class QualityFold final : public kpi::Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
    const std::string& type = e.event_type();
    if (!absl::StartsWith(type, "takt.quality.v1.")) return absl::OkStatus();
    kpi::Values v(kQualityElementCount, 0);
    std::string unit;
    if (type == "takt.quality.v1.InspectionRecorded") {
      v1::InspectionRecorded r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      v[kInspected] = r.inspected();
      v[kDefective] = r.failed();
      v[kDefects] = static_cast<int64_t>(DefectsOf(r));
      v[kOpportunities] = static_cast<int64_t>(r.inspected()) * std::max<uint32_t>(1, r.opportunities_per_unit());
      if (!r.reinspection()) {
        v[kFirstInspected] = r.inspected();
        v[kFirstPassed] = static_cast<int64_t>(r.inspected()) - r.failed();
      }
      unit = r.work_unit();
    } else if (type == "takt.quality.v1.RuleViolated") {
      v1::RuleViolated r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      v[kViolations] = 1;
      unit = r.work_unit();
    } else if (type == "takt.quality.v1.NcrRaised") {
      v1::NcrRaised r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      v[kNcrRaised] = 1;
      unit = r.work_unit();
    } else if (type == "takt.quality.v1.NcrClosed") {
      v1::NcrClosed r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      v[kNcrClosed] = 1;
      v[kNcrOpenTime] = r.open_us();
    } else if (type == "takt.quality.v1.CapaActionCompleted") {
      v1::CapaActionCompleted r;
      TAKT_RETURN_IF_ERROR(Parse(e, r));
      v[kCapaDone] = 1;
      v[kCapaOnTime] = r.on_time() ? 1 : 0;
    } else {
      return absl::OkStatus();
    }
    out.push_back({FacilityOfStream(e.facility()), unit, ToTime(e.occurred_time()), std::move(v)});
    return absl::OkStatus();
  }
};

class CapabilityFold final : public kpi::Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
    if (e.event_type() != "takt.quality.v1.SubgroupMeasured") return absl::OkStatus();
    v1::SubgroupMeasured m;
    TAKT_RETURN_IF_ERROR(Parse(e, m));
    if (!(m.resolution() > 0)) {
      return absl::DataLossError("SubgroupMeasured has no resolution");
    }
    const std::vector<double> values(m.values().begin(), m.values().end());
    const double mr = m.moving_range();
    out.push_back({FacilityOfStream(e.facility()), m.characteristic(), ToTime(e.occurred_time()),
                   SubgroupMoments(values, m.nominal(), m.resolution(),
                                   m.has_moving_range() ? &mr : nullptr)});
    return absl::OkStatus();
  }
};

class StepsFold final : public kpi::Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
    if (e.event_type() != "takt.quality.v1.InspectionRecorded") return absl::OkStatus();
    v1::InspectionRecorded r;
    TAKT_RETURN_IF_ERROR(Parse(e, r));
    if (r.reinspection()) return absl::OkStatus();
    kpi::Values v(kStepElementCount, 0);
    v[kStepInspected] = r.inspected();
    v[kStepPassed] = static_cast<int64_t>(r.inspected()) - r.failed();
    out.push_back({FacilityOfStream(e.facility()), r.characteristic(), ToTime(e.occurred_time()),
                   std::move(v)});
    return absl::OkStatus();
  }
};

}  // namespace

uint64_t DefectsOf(const v1::InspectionRecorded& r) {
  if (r.defects_size() == 0) return r.failed();
  uint64_t defects = 0;
  for (const auto& d : r.defects()) defects += d.count();
  return defects;
}

std::string QmsStream(const std::string& facility) { return facility + kQmsSuffix; }

std::string FacilityOfStream(const std::string& stream) {
  if (absl::EndsWith(stream, kQmsSuffix)) {
    return stream.substr(0, stream.size() - (sizeof(kQmsSuffix) - 1));
  }
  return stream;
}

std::vector<kpi::FamilyRegistration> Families() {
  std::vector<kpi::FamilyRegistration> out;
  {
    kpi::FamilyRegistration r;
    r.context = kQualityContext;
    r.family = {kQualityFamily,
                {{"INSPECTED", false},
                 {"FIRST_INSPECTED", false},
                 {"FIRST_PASSED", false},
                 {"DEFECTIVE", false},
                 {"DEFECTS", false},
                 {"OPPORTUNITIES", false},
                 {"VIOLATIONS", false},
                 {"NCR_RAISED", false},
                 {"NCR_CLOSED", false},
                 {"NCR_OPEN_TIME", true},
                 {"CAPA_DONE", false},
                 {"CAPA_ON_TIME", false}}};
    auto kpi = [&](std::string id, std::string name, std::string unit, kpi::Better better,
                   std::string formula, std::vector<int> num, std::vector<int> den, double scale) {
      r.kpis.push_back({std::move(id), std::move(name), std::move(unit), better, "quality",
                        std::move(formula), {{std::move(num), std::move(den)}}, scale,
                        kQualityFamily});
    };
    kpi("quality_fpy", "First pass yield", "%", kpi::Better::kHigher,
        "FIRST_PASSED / FIRST_INSPECTED", {kFirstPassed}, {kFirstInspected}, 100.0);
    kpi("quality_dpu", "Defects per unit", "defects/unit", kpi::Better::kLower,
        "DEFECTS / INSPECTED", {kDefects}, {kInspected}, 1.0);
    kpi("quality_dpmo", "Defects per million opportunities", "DPMO", kpi::Better::kLower,
        "DEFECTS / OPPORTUNITIES x 10^6", {kDefects}, {kOpportunities}, 1e6);
    kpi("quality_ppm", "Defective parts per million", "ppm", kpi::Better::kLower,
        "DEFECTIVE / INSPECTED x 10^6", {kDefective}, {kInspected}, 1e6);
    kpi("spc_violations", "SPC rule violations", "signals", kpi::Better::kLower, "VIOLATIONS",
        {kViolations}, {}, 1.0);
    kpi("ncr_raised", "Nonconformances raised", "NCRs", kpi::Better::kLower, "NCR_RAISED",
        {kNcrRaised}, {}, 1.0);
    kpi("ncr_closed", "Nonconformances closed", "NCRs", kpi::Better::kHigher, "NCR_CLOSED",
        {kNcrClosed}, {}, 1.0);
    kpi("ncr_days_to_close", "Mean days to close an NCR", "d", kpi::Better::kLower,
        "NCR_OPEN_TIME / NCR_CLOSED", {kNcrOpenTime}, {kNcrClosed}, 1.0 / 86400e6);
    kpi("capa_on_time_rate", "CAPA actions closed on time", "%", kpi::Better::kHigher,
        "CAPA_ON_TIME / CAPA_DONE", {kCapaOnTime}, {kCapaDone}, 100.0);
    r.fold = [] { return std::make_unique<QualityFold>(); };
    out.push_back(std::move(r));
  }
  {
    kpi::FamilyRegistration r;
    r.context = kQualityContext;
    r.family = {kCapabilityFamily,
                {{"N", false},
                 {"SUM_D", false},
                 {"SUM_D2", false},
                 {"SUBGROUPS", false},
                 {"SUM_Q", false},
                 {"SUM_RANGE", false},
                 {"MOVING_RANGES", false},
                 {"SUM_MOVING_RANGE", false}}};
    r.fold = [] { return std::make_unique<CapabilityFold>(); };
    out.push_back(std::move(r));
  }
  {
    kpi::FamilyRegistration r;
    r.context = kQualityContext;
    r.family = {kStepsFamily, {{"FIRST_INSPECTED", false}, {"FIRST_PASSED", false}}};
    r.fold = [] { return std::make_unique<StepsFold>(); };
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace takt::quality
