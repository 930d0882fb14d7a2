#include "services/scheduling/module.h"

#include "libs/common/plan_stream.h"
#include "libs/host/host.h"
#include "services/scheduling/cli.h"
#include "services/scheduling/grpc_service.h"
#include "services/scheduling/recompute.h"
#include "takt/scheduling/v1/events.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt::scheduling {
namespace {

class SchedulingModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    HorizonPolicy horizon;
    horizon.earliest = env.options().earliest_observation;
    horizon.max_lateness = env.options().max_lateness;
    ingest_ = NewIngestService(env.log(), env.models(), env.follows_model(), horizon);
    plans_ = std::make_unique<PlanningStore>(env.log(), env.models());
    scheduling_ = NewSchedulingService(plans_.get());
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    return {{ingest_.get(), std::string(v1::FacilityIngestService::service_full_name())},
            {scheduling_.get(), std::string(v1::SchedulingService::service_full_name())}};
  }

 private:
  std::unique_ptr<grpc::Service> ingest_;
  std::unique_ptr<PlanningStore> plans_;
  std::unique_ptr<grpc::Service> scheduling_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "scheduling";
  m.owns = {{kSchedulingContext, [](const std::string& facility) {
               return std::vector<std::string>{facility, PlanStream(facility)};
             }}};
  // The production elements (ISO 22400) of the rollups: its projection and
  // explain's recomputation (recompute.h).
  m.extensions.push_back(ProductionFold());
  m.payload_files = {v1::UnitStateChanged::descriptor()->file(),
                     v1::WorkOrderCreated::descriptor()->file()};
  m.create = [] { return std::make_unique<SchedulingModule>(); };
  m.add_commands = cli::AddSchedulingCommands;
  return m;
}

}  // namespace takt::scheduling
