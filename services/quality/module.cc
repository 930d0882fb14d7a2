#include "services/quality/module.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/host/host.h"
#include "libs/model/model_store.h"
#include "services/quality/cli.h"
#include "services/quality/families.h"
#include "services/quality/grpc_service.h"
#include "services/quality/quality.h"
#include "services/rollups/answer.h"
#include "services/rollups/family_projection.h"
#include "services/rollups/rollup_store.h"
#include "takt/quality/v1/events.pb.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"

namespace takt::quality {
namespace {

class QualityModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    // Capability reads the rollups' capability moments: those of the rollups
    // module when this process runs it, else a projection of the capability
    // family of its own (the same store and fold, under DATA_DIR/quality).
    rollup::RollupStore* rollups = env.Find<rollup::RollupStore>();
    if (rollups == nullptr) {
      TAKT_ASSIGN_OR_RETURN(own_store_,
                            rollup::RollupStore::Open(env.options().data_dir + "/quality"));
      model::ModelStore* models = env.models();
      for (const char* name : {kCapabilityFamily, kStepsFamily}) {
        const kpi::FamilyRegistration* family = kpi::FindFamily(name);
        if (family == nullptr) return absl::InternalError(absl::StrCat("family ", name, " is not registered"));
        projections_.push_back(std::make_unique<rollup::FamilyProjection>(
            env.log(), own_store_.get(), family,
            [models](const std::string& facility) { return models->Calendar(facility); }));
        TAKT_RETURN_IF_ERROR(projections_.back()->Start());
      }
      rollups = own_store_.get();
    }
    quality_ = std::make_unique<Quality>(env.log(), env.models(), rollups);
    service_ = NewQualityService(quality_.get(), env.models(), env.follows_model());
    log_ = env.log();
    models_ = env.models();
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    host::ServiceEntry entry{.service = service_.get(),
                             .name = std::string(v1::QualityService::service_full_name()),
                             .facility_methods = {"StreamSamples"}};
    // Reads for the dashboard and other HTTP clients.
    for (auto [suffix, method] : {std::pair{":capability", "GetCapability"},
                                  std::pair{":rolledThroughputYield", "GetRolledThroughputYield"},
                                  std::pair{"/characteristics", "ListCharacteristics"}}) {
      for (host::HttpRoute& r : host::ScopeRoutes(suffix, method)) entry.http.push_back(std::move(r));
    }
    entry.http.push_back({"GET", "/v1/facilities/{facility}/ncrs", "ListNcrs"});
    entry.http.push_back({"GET", "/v1/facilities/{facility}/characteristics/{characteristic}:chart", "GetChart"});
    return {std::move(entry)};
  }
  void Run(host::Env& env, host::Health& health) override {
    if (projections_.empty()) return;
    projector_ = std::thread([this] {
      std::string failing;
      while (!stopped_) {
        absl::Status step = absl::OkStatus();
        for (auto& p : projections_) {
          auto n = p->Step(absl::Milliseconds(50));
          if (!n.ok() && step.ok()) step = n.status();
          if (!n.ok()) (void)p->Start();
        }
        if (step.ok()) {
          if (!failing.empty()) log::Info("quality: the capability projection applies events again");
          failing.clear();
          continue;
        }
        if (std::string(step.message()) != failing) {
          failing = std::string(step.message());
          log::Error(absl::StrCat("quality: the capability projection cannot apply the log (",
                                  step.ToString(), "); retrying"));
        }
        absl::SleepFor(absl::Milliseconds(200));
        (void)models_->Refresh();
      }
    });
  }
  void Stop() override {
    stopped_ = true;
    if (projector_.joinable()) projector_.join();
  }
  absl::Status WaitCaughtUp(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      TAKT_ASSIGN_OR_RETURN(eventlog::Cursor end, log_->EndCursor(kQualityContext));
      uint64_t lag = 0;
      for (auto& p : projections_) lag += eventlog::Lag(p->cursor(), end);
      if (lag == 0) return absl::OkStatus();
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError("the capability projection did not catch up in time");
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ~QualityModule() override { Stop(); }

 private:
  std::unique_ptr<rollup::RollupStore> own_store_;
  std::vector<std::unique_ptr<rollup::FamilyProjection>> projections_;
  std::unique_ptr<Quality> quality_;
  std::unique_ptr<grpc::Service> service_;
  eventlog::EventLog* log_ = nullptr;
  model::ModelStore* models_ = nullptr;
  std::atomic<bool> stopped_{false};
  std::thread projector_;
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
