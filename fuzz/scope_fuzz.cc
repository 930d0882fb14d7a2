// Resource names of query scopes as clients send them ("regions/emea",
// "facilities/detroit-1/areas/body", ...).
#include <cstdint>
#include <string_view>

#include "services/rollups/query.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  (void)takt::rollup::ParseScope(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
