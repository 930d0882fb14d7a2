#include "services/enterprise/module.h"

#include "libs/model/model_store.h"
#include "services/enterprise/cli.h"
#include "services/enterprise/definitions.h"
#include "services/enterprise/grpc_service.h"
#include "takt/enterprise/v1/model.pb.h"

namespace takt::enterprise {
namespace {

class EnterpriseModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    definitions_ = std::make_unique<Definitions>(env.log(), env.models());
    service_ = std::make_unique<EnterpriseServiceImpl>(definitions_.get());
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    return {{service_.get(), std::string(v1::EnterpriseService::service_full_name())}};
  }

 private:
  std::unique_ptr<Definitions> definitions_;
  std::unique_ptr<EnterpriseServiceImpl> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "enterprise";
  // One master-data stream; a facility's replay filters it to the facility.
  m.owns = {{model::kEnterpriseContext, [](const std::string&) {
               return std::vector<std::string>{model::kEnterpriseStream};
             }}};
  m.payload_files = {v1::FacilityDefined::descriptor()->file()};
  m.create = [] { return std::make_unique<EnterpriseModule>(); };
  m.add_commands = cli::AddEnterpriseCommands;
  return m;
}

}  // namespace takt::enterprise
