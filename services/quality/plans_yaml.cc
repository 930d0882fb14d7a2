#include "services/quality/plans_yaml.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace takt::quality {
namespace {

std::string Where(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return absl::StrCat("line ", m.line + 1, ", column ", m.column + 1);
}

// YAML to JSON: quoted scalars stay strings; plain ones become booleans or
// numbers when they read as such.
absl::StatusOr<nlohmann::json> ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return absl::InvalidArgumentError(Where(kv.first) + ": a key must be a name");
        auto value = ToJson(kv.second);
        if (!value.ok()) return value.status();
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) {
          return absl::InvalidArgumentError(absl::StrCat(Where(kv.first), ": '", key, "' is given twice"));
        }
        out[key] = *std::move(value);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : n) {
        auto value = ToJson(item);
        if (!value.ok()) return value.status();
        out.push_back(*std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return nlohmann::json(s);  // quoted
      if (s == "true") return nlohmann::json(true);
      if (s == "false") return nlohmann::json(false);
      int64_t i = 0;
      if (absl::SimpleAtoi(s, &i)) return nlohmann::json(i);
      double d = 0;
      if (absl::SimpleAtod(s, &d) && s.find_first_of("0123456789") != std::string::npos &&
          s.find_first_not_of("+-.eE0123456789") == std::string::npos) {
        return nlohmann::json(d);
      }
      return nlohmann::json(s);
    }
    default:
      return nlohmann::json(nullptr);
  }
}


}  // namespace

absl::StatusOr<v1::ApplyPlansRequest> PlansFromYaml(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("the plan file must be a mapping (facility:, plans:)");
  auto json = ToJson(root);
  if (!json.ok()) return json.status();
  v1::ApplyPlansRequest request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(json->dump(), &request, options);
  if (!parsed.ok()) {
    // Find the entry at fault: parse each plan and code alone.
    for (const char* list : {"plans", "defect_codes"}) {
      const YAML::Node items = root[list];
      if (!items || !items.IsSequence()) continue;
      for (size_t i = 0; i < items.size(); ++i) {
        auto one = ToJson(items[i]);
        if (!one.ok()) return one.status();
        v1::Plan plan;
        v1::DefectCodeDefined code;
        google::protobuf::Message* m = std::string(list) == "plans" ? static_cast<google::protobuf::Message*>(&plan)
                                                                     : static_cast<google::protobuf::Message*>(&code);
        auto st = google::protobuf::util::JsonStringToMessage(one->dump(), m, options);
        if (!st.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(Where(items[i]), ": ", list, "[", i, "]: ",
                                                         std::string(st.message())));
        }
      }
    }
    return absl::InvalidArgumentError(std::string(parsed.message()));
  }
  return request;
}

}  // namespace takt::quality
