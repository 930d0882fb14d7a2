#include "services/registry.h"

#include "services/audit/module.h"
#include "services/budgets/module.h"
#include "services/enterprise/module.h"
#include "services/quality/module.h"
#include "services/rollups/module.h"
#include "services/scheduling/module.h"
#include "services/staffing/module.h"

namespace takt::services {

const std::vector<host::ModuleInfo>& Modules() {
  static const auto* modules = new std::vector<host::ModuleInfo>{
      enterprise::Module(),
      scheduling::Module(),
      rollup::Module(),
      quality::Module(),  // after rollups: capability reads its store
      staffing::Module(),
      budgets::Module(),
      audit::Module(),
  };
  return *modules;
}

std::vector<es::ContextDescriptor> Contexts() {
  std::vector<es::ContextDescriptor> out;
  for (const host::ModuleInfo& m : Modules()) out.insert(out.end(), m.owns.begin(), m.owns.end());
  return out;
}

std::vector<std::string> ContextNames() { return es::ContextNames(Contexts()); }

absl::StatusOr<std::unique_ptr<host::TaktServer>> StartServer(const host::ServerOptions& options) {
  return host::TaktServer::Start(options, Modules());
}

}  // namespace takt::services
