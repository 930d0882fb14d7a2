// File: serve_config.h
// -----------------------------------------------------------------------------
// Where `takt serve` takes its settings from. For each flag, highest first:
//   1. the flag on the command line (--data-dir /var/lib/takt);
//   2. its environment variable: TAKT_ and the flag's name in upper case
//      with '_' for '-' (TAKT_DATA_DIR, TAKT_TLS_CERT, TAKT_KAFKA_BROKERS);
//   3. the config file (--config FILE, or TAKT_CONFIG): YAML whose keys are
//      the flags' names without dashes, e.g.
//        data-dir: /var/lib/takt
//        listen: 0.0.0.0:7470
//        jwt-public-key: [/etc/takt/idp.pub]
//        kafka-property: [security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512]
//        insecure: false
//   4. the flag's default.
// A repeatable flag takes its values from one source only, the first of
// these that has any.
#ifndef TAKT_LIBS_CLI_SERVE_CONFIG_H_
#define TAKT_LIBS_CLI_SERVE_CONFIG_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace takt::cli {

// "data-dir" -> "TAKT_DATA_DIR".
std::string EnvNameOf(const std::string& flag);

struct FlagSet {
  std::set<std::string> known;       // every flag's name, without dashes
  std::set<std::string> repeatable;  // those that take several values
  std::set<std::string> switches;    // those that take no value (--insecure)
};

// The arguments the config file adds ("--data-dir=/var/lib/takt", "--insecure"):
// one for each key whose flag is neither in `argv` nor set in the
// environment (`env_set`). INVALID_ARGUMENT naming file:line:column for a
// file that is not a YAML map, an unknown key, a list for a flag that takes
// one value, or a map as a value.
absl::StatusOr<std::vector<std::string>> ConfigFileArgs(const std::string& yaml_text, const std::string& file_name,
                                                        const FlagSet& flags, const std::vector<std::string>& argv,
                                                        const std::function<bool(const std::string&)>& env_set);

// librdkafka properties from repeated key=value flags and a properties file
// (`file_text` of --kafka-properties-file, named `file_name`: key=value
// lines, '#' or '!' comments, blank lines). A flag wins over the file for the
// same key, so a secret kept in the file (sasl.password) never needs a
// command line. INVALID_ARGUMENT names the flag or file:line that is not
// key=value.
absl::StatusOr<std::map<std::string, std::string>> KafkaProperties(
    const std::vector<std::string>& flags, const std::string& file_text, const std::string& file_name);

// KafkaProperties with the file read from `file_path` (no file when empty).
absl::StatusOr<std::map<std::string, std::string>> ReadKafkaProperties(const std::vector<std::string>& flags,
                                                                       const std::string& file_path);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_SERVE_CONFIG_H_
