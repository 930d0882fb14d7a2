#include "libs/cli/yaml_json.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

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

absl::Status MessageFromYaml(const std::string& text, const std::string& list,
                             google::protobuf::Message* request) {
  auto root = LoadYaml(text);
  if (!root.ok()) return root.status();
  if (!root->IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("the file must be a mapping (", list, ": and the rest)"));
  }
  auto json = YamlToJson(*root);
  if (!json.ok()) return json.status();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(json->dump(), request, options);
  if (parsed.ok()) return absl::OkStatus();
  const google::protobuf::FieldDescriptor* field = request->GetDescriptor()->FindFieldByName(list);
  const YAML::Node items = (*root)[list];
  if (field != nullptr && field->message_type() != nullptr && items && items.IsSequence()) {
    std::unique_ptr<google::protobuf::Message> one(
        request->GetReflection()->GetMessageFactory()->GetPrototype(field->message_type())->New());
    for (size_t i = 0; i < items.size(); ++i) {
      auto item = YamlToJson(items[i]);
      if (!item.ok()) return item.status();
      one->Clear();
      auto st = google::protobuf::util::JsonStringToMessage(item->dump(), one.get(), options);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(YamlWhere(items[i]), ": ", list, "[", i, "]: ", std::string(st.message())));
      }
    }
  }
  return absl::InvalidArgumentError(std::string(parsed.message()));
}

}  // namespace takt::cli
