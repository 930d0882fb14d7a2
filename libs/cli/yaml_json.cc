#include "libs/cli/yaml_json.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace takt::cli {

std::string YamlWhere(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return absl::StrCat("line ", m.line + 1, ", column ", m.column + 1);
}

absl::StatusOr<nlohmann::json> YamlToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return absl::InvalidArgumentError(YamlWhere(kv.first) + ": a key must be a name");
        auto value = YamlToJson(kv.second);
        if (!value.ok()) return value.status();
        const std::string key = kv.first.Scalar();
        if (out.contains(key)) {
          return absl::InvalidArgumentError(absl::StrCat(YamlWhere(kv.first), ": '", key, "' is given twice"));
        }
        out[key] = *std::move(value);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : n) {
        auto value = YamlToJson(item);
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

absl::StatusOr<YAML::Node> LoadYaml(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
}

}  // namespace takt::cli
