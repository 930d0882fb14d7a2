// The enterprise file as a user or an attacker writes it: the strict loader
// must answer every input with a request or an error, never crash.
#include <cstdint>
#include <string_view>

#include "services/enterprise/definitions_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  (void)takt::enterprise::ParseDefinitionsYaml(std::string_view(reinterpret_cast<const char*>(data), size),
                                               "fuzz.yaml");
  return 0;
}
