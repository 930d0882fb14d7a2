#include "services/quality/module.h"

#include "libs/host/host.h"
#include "services/quality/cli.h"
#include "services/quality/families.h"
#include "services/quality/grpc_service.h"
#include "services/quality/quality.h"
#include "services/rollups/rollup_store.h"
#include "takt/quality/v1/events.pb.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"

namespace takt::quality {
namespace {

class QualityModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    // Capability reads the rollups' moments when this process runs them.
    quality_ = std::make_unique<Quality>(env.log(), env.models(), env.Find<rollup::RollupStore>());
    service_ = NewQualityService(quality_.get(), env.models(), env.follows_model());
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    return {{service_.get(), std::string(v1::QualityService::service_full_name())}};
  }

 private:
  std::unique_ptr<Quality> quality_;
  std::unique_ptr<grpc::Service> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "quality";
  m.owns = {{kQualityContext, [](const std::string& facility) {
               return std::vector<std::string>{facility, QmsStream(facility)};
             }}};
  m.payload_files = {v1::SubgroupMeasured::descriptor()->file()};
  m.families = Families();
  m.create = [] { return std::make_unique<QualityModule>(); };
  m.add_commands = AddQualityCommands;
  return m;
}

}  // namespace takt::quality
