#include "services/quality/plans_yaml.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/cli/yaml_json.h"
#include "libs/common/status_macros.h"

namespace takt::quality {

absl::StatusOr<v1::ApplyPlansRequest> PlansFromYaml(const std::string& text) {
  TAKT_ASSIGN_OR_RETURN(YAML::Node root, cli::LoadYaml(text));
  if (!root.IsMap()) return absl::InvalidArgumentError("the plan file must be a mapping (facility:, plans:)");
  auto json = cli::YamlToJson(root);
  if (!json.ok()) return json.status();
  v1::ApplyPlansRequest request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(cli::JsonText(*json), &request, options);
  if (!parsed.ok()) {
    // Find the entry at fault: parse each plan and code alone.
    for (const char* list : {"plans", "defect_codes"}) {
      const YAML::Node items = root[list];
      if (!items || !items.IsSequence()) continue;
      for (size_t i = 0; i < items.size(); ++i) {
        auto one = cli::YamlToJson(items[i]);
        if (!one.ok()) return one.status();
        v1::Plan plan;
        v1::DefectCodeDefined code;
        google::protobuf::Message* m = std::string(list) == "plans" ? static_cast<google::protobuf::Message*>(&plan)
                                                                     : static_cast<google::protobuf::Message*>(&code);
        auto st = google::protobuf::util::JsonStringToMessage(cli::JsonText(*one), m, options);
        if (!st.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(cli::YamlWhere(items[i]), ": ", list, "[", i, "]: ",
                                                         std::string(st.message())));
        }
      }
    }
    return absl::InvalidArgumentError(std::string(parsed.message()));
  }
  return request;
}

}  // namespace takt::quality
