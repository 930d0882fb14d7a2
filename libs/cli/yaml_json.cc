#include "libs/cli/yaml_json.h"

#include <algorithm>
#include <string_view>

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

// The offset of the first byte that is not part of well-formed UTF-8
// (RFC 3629: no overlongs, no surrogates, at most U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + n >= s.size()) return i;  // cut short
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

std::string JsonText(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<YAML::Node> LoadYaml(const std::string& text) {
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    const size_t line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    const size_t column = bad - (line_start == std::string::npos || bad == 0 ? 0 : line_start + 1) + 1;
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ", column ", column,
                                                   ": not valid UTF-8 (save the file as UTF-8)"));
  }
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
  auto parsed = google::protobuf::util::JsonStringToMessage(JsonText(*json), request, options);
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
      auto st = google::protobuf::util::JsonStringToMessage(JsonText(*item), one.get(), options);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(YamlWhere(items[i]), ": ", list, "[", i, "]: ", std::string(st.message())));
      }
    }
  }
  return absl::InvalidArgumentError(std::string(parsed.message()));
}

}  // namespace takt::cli
