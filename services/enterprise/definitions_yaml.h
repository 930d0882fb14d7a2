// File: definitions_yaml.h
// -----------------------------------------------------------------------------
// The enterprise description file (`takt apply --file enterprise.yaml`), read
// strictly against its schema: every key known, every required one there,
// every value of its type, ids by the one id grammar, durations through
// absl::ParseDuration, no id defined twice in one file (nor a unit under two
// work centers, a work center under two areas). Errors name the file, line
// and column, the path to the value and what was expected; nothing is sent.
//
//   regions:    [{id, name}]
//   products:   [{id, name, planned_run_time_per_item: 40s}]
//   facilities: [{id, name, region, region_from, commissioned_on,
//                 calendar: {time_zone, day_start, effective_from,
//                            shifts: [{name, start, end}]},
//                 areas: [{id, name,
//                          work_centers: [{id, name,
//                                          work_units: [id | {id, name}]}]}]}]
//   moves:      [{facility, region, effective_from}]
#ifndef TAKT_SERVICES_ENTERPRISE_DEFINITIONS_YAML_H_
#define TAKT_SERVICES_ENTERPRISE_DEFINITIONS_YAML_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "takt/enterprise/v1/enterprise_service.pb.h"

namespace takt::enterprise {

// Parses a description into definitions in dependency order (regions and
// products, then each facility with its move, areas, work centers and
// units, then moves). `file` names the file in messages.
absl::StatusOr<v1::ApplyDefinitionsRequest> ParseDefinitionsYaml(std::string_view text,
                                                                 std::string_view file);

}  // namespace takt::enterprise

#endif  // TAKT_SERVICES_ENTERPRISE_DEFINITIONS_YAML_H_
