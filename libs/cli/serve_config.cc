#include "libs/cli/serve_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"

namespace takt::cli {
namespace {

std::string Where(const std::string& file, const YAML::Mark& mark) {
  return absl::StrCat(file, ":", mark.line + 1, ":", mark.column + 1);
}

bool Given(const std::vector<std::string>& argv, const std::string& flag) {
  const std::string exact = "--" + flag, with_value = "--" + flag + "=";
  return std::any_of(argv.begin(), argv.end(),
                     [&](const std::string& a) { return a == exact || absl::StartsWith(a, with_value); });
}

}  // namespace

std::string EnvNameOf(const std::string& flag) {
  std::string out = "TAKT_";
  for (char c : flag) out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

absl::StatusOr<std::vector<std::string>> ConfigFileArgs(const std::string& yaml_text, const std::string& file_name,
                                                        const FlagSet& flags, const std::vector<std::string>& argv,
                                                        const std::function<bool(const std::string&)>& env_set) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(Where(file_name, e.mark), ": not YAML: ", e.msg));
  }
  std::vector<std::string> out;
  if (root.IsNull()) return out;  // an empty file
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(Where(file_name, root.Mark()), ": expected a map of flag names"));
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    const std::string at = Where(file_name, entry.first.Mark());
    if (!flags.known.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": '", key, "' is not a takt serve flag (takt serve --help)"));
    }
    if (key == "config") return absl::InvalidArgumentError(absl::StrCat(at, ": a config file cannot name another"));
    if (Given(argv, key) || env_set(EnvNameOf(key))) continue;  // the flag or the environment wins
    if (value.IsMap()) return absl::InvalidArgumentError(absl::StrCat(at, ": '", key, "' takes a value, not a map"));
    if (value.IsSequence()) {
      if (!flags.repeatable.contains(key)) {
        return absl::InvalidArgumentError(absl::StrCat(at, ": '", key, "' takes one value, not a list"));
      }
      for (const auto& item : value) {
        if (!item.IsScalar()) {
          return absl::InvalidArgumentError(absl::StrCat(Where(file_name, item.Mark()), ": '", key,
                                                         "' takes a list of values"));
        }
        out.push_back(absl::StrCat("--", key, "=", item.as<std::string>()));
      }
      continue;
    }
    const std::string text = value.IsNull() ? "" : value.as<std::string>();
    if (flags.switches.contains(key)) {
      if (text == "true") {
        out.push_back("--" + key);
      } else if (text != "false") {
        return absl::InvalidArgumentError(absl::StrCat(at, ": '", key, "' is true or false"));
      }
      continue;
    }
    out.push_back(absl::StrCat("--", key, "=", text));
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> KafkaProperties(
    const std::vector<std::string>& flags, const std::string& file_text, const std::string& file_name) {
  std::map<std::string, std::string> out;
  auto split = [&](absl::string_view line, std::string* key, std::string* value) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return false;
    *key = std::string(absl::StripAsciiWhitespace(line.substr(0, eq)));
    *value = std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    return !key->empty();
  };
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(file_text, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    std::string key, value;
    if (!split(line, &key, &value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ":", line_number, ": not key=value (e.g. sasl.password=...)"));
    }
    out[key] = value;
  }
  for (const std::string& p : flags) {
    std::string key, value;
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--kafka-property '", p, "' is not key=value (e.g. security.protocol=SASL_SSL)"));
    }
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadKafkaProperties(const std::vector<std::string>& flags,
                                                                       const std::string& file_path) {
  std::string text;
  if (!file_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file_path, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat("the Kafka properties file ", file_path, " is not a file (a Secret's mount point? name the key's file)"));
    }
    std::ifstream in(file_path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read the Kafka properties file ", file_path));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  return KafkaProperties(flags, text, file_path);
}

}  // namespace takt::cli
