// File: inspection_fold.h
// -----------------------------------------------------------------------------
// A test element family: events of type "test.Inspected" whose payload is
// "unit,inspected,passed" count inspections per work unit and hour, and
// the KPI "<name>_pass_rate" = PASSED / INSPECTED. What a quality context
// would register, small enough for tests of the rollups' family seam.
#ifndef TAKT_LIBS_TESTING_INSPECTION_FOLD_H_
#define TAKT_LIBS_TESTING_INSPECTION_FOLD_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "libs/common/proto_time.h"
#include "libs/kpi/family.h"

namespace takt::testing {

class InspectionFold final : public kpi::Fold {
 public:
  absl::Status Apply(const eventlog::v1::Envelope& e, std::vector<kpi::FamilyDelta>& out) override {
    if (e.event_type() != "test.Inspected") return absl::OkStatus();
    std::vector<std::string> f = absl::StrSplit(e.payload(), ',');
    int64_t inspected = 0, passed = 0;
    if (f.size() != 3 || !absl::SimpleAtoi(f[1], &inspected) || !absl::SimpleAtoi(f[2], &passed)) {
      return absl::InvalidArgumentError("payload does not parse");
    }
    out.push_back({e.facility(), f[0], ToTime(e.occurred_time()), {inspected, passed}});
    return absl::OkStatus();
  }
};

// The family `family` over context `context`, with KPI "<family>_pass_rate".
inline kpi::FamilyRegistration InspectionFamily(const std::string& context,
                                                const std::string& family) {
  kpi::FamilyRegistration r;
  r.context = context;
  r.family = {family, {{"INSPECTED", false}, {"PASSED", false}}};
  r.kpis = {{family + "_pass_rate", "Pass rate", "%", kpi::Better::kHigher, "test",
             "PASSED / INSPECTED", {{std::vector<int>{1}, std::vector<int>{0}}}, 100.0, family}};
  r.fold = [] { return std::make_unique<InspectionFold>(); };
  return r;
}

}  // namespace takt::testing

#endif  // TAKT_LIBS_TESTING_INSPECTION_FOLD_H_
