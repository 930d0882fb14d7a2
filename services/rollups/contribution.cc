#include "services/rollups/contribution.h"

#include <any>

#include "absl/strings/str_cat.h"

namespace takt::rollup {

std::optional<std::string> CursorBeyondEnd(const eventlog::Cursor& stored,
                                           const eventlog::Cursor& end) {
  for (const auto& [partition, next] : stored) {
    auto it = end.find(partition);
    const uint64_t end_offset = it == end.end() ? 0 : it->second;
    if (next > end_offset) {
      return absl::StrCat("partition '", partition, "': the projection has read up to ", next,
                          ", the log ends at ", end_offset);
    }
  }
  return std::nullopt;
}

const ProductionFold* FindProductionFold(const std::vector<host::ModuleInfo>& modules) {
  for (const host::ModuleInfo& m : modules) {
    for (const std::any& x : m.extensions) {
      if (const auto* fold = std::any_cast<ProductionFold>(&x)) return fold;
    }
  }
  return nullptr;
}

}  // namespace takt::rollup
