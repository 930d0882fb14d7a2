// File: yaml_json.h
// -----------------------------------------------------------------------------
// The YAML files users write (plans, staff records) read into protobuf
// messages through their JSON mapping: YAML -> JSON -> JsonStringToMessage,
// with errors that name the line and column.
#ifndef TAKT_LIBS_CLI_YAML_JSON_H_
#define TAKT_LIBS_CLI_YAML_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace takt::cli {

// "line L, column C" of a node.
std::string YamlWhere(const YAML::Node& n);
// Parses YAML text; INVALID_ARGUMENT naming the line and column.
absl::StatusOr<YAML::Node> LoadYaml(const std::string& text);
// YAML to JSON: quoted scalars stay strings; plain ones become booleans or
// numbers when they read as such; a key given twice is refused.
absl::StatusOr<nlohmann::json> YamlToJson(const YAML::Node& n);

// The JSON text of `j`, never throwing: bytes that are not UTF-8 (yaml-cpp
// passes some through) become U+FFFD, so the protobuf parser names the field.
std::string JsonText(const nlohmann::json& j);

// A request file (a YAML mapping) into `request` through the JSON mapping,
// strictly (an unknown field is refused). When it does not parse, each
// element of the repeated message field `list` is parsed alone, so the
// error names its line: "line L, column C: commands[i]: ...".
absl::Status MessageFromYaml(const std::string& text, const std::string& list,
                             google::protobuf::Message* request);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_YAML_JSON_H_
