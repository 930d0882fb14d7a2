// File: plans_yaml.h
// -----------------------------------------------------------------------------
// An inspection-plan file (YAML) as an ApplyPlansRequest. The file's keys
// are the request's fields (quality_service.proto), checked strictly: an
// unknown key, a wrong type or a bad enum name is refused with its
// line:column.
//
//   facility: detroit
//   defect_codes:
//     - {code: SCRATCH, description: Surface scratch, severity: minor}
//   plans:
//     - plan_id: housing-op20
//       product: housing
//       work_unit: detroit-cnc-1
//       effective_from: 2026-01-01
//       characteristics:
//         - {id: bore-dia, chart: XBAR_R, nominal: 10.0, lower_spec: 9.95,
//            upper_spec: 10.05, unit: mm, subgroup_size: 5, resolution: 0.001,
//            extra_rules: [5, 6], ncr_on_violation: true}
#ifndef TAKT_SERVICES_QUALITY_PLANS_YAML_H_
#define TAKT_SERVICES_QUALITY_PLANS_YAML_H_

#include <string>

#include "absl/status/statusor.h"
#include "takt/quality/v1/quality_service.pb.h"

namespace takt::quality {

absl::StatusOr<v1::ApplyPlansRequest> PlansFromYaml(const std::string& text);

}  // namespace takt::quality

#endif  // TAKT_SERVICES_QUALITY_PLANS_YAML_H_
