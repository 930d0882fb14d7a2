#include "services/audit/module.h"

#include "libs/host/host.h"

#include "services/audit/cli.h"
#include "services/audit/grpc_service.h"
#include "takt/audit/v1/audit.grpc.pb.h"

namespace takt::audit {
namespace {

class AuditModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    service_ = NewAuditService(env.log(), env.embedded(), env.models(),
                               env.Find<rollup::RollupStore>(),
                               rollup::FindProductionFold(env.registry()), env.contexts(),
                               env.options().record_reads.audit);
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    host::ServiceEntry entry{service_.get(), std::string(v1::AuditService::service_full_name())};
    // A figure's explanation, recomputed from the raw events (the
    // dashboard links each figure to it).
    entry.http = host::ScopeRoutes(":explain", "Explain");
    return {std::move(entry)};
  }

 private:
  std::unique_ptr<grpc::Service> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "audit";
  m.owns = {{kAuditContext}};
  m.reads_all = true;
  m.payload_files = {v1::HistoryRead::descriptor()->file()};
  m.create = [] { return std::make_unique<AuditModule>(); };
  m.add_commands = cli::AddAuditCommands;
  return m;
}

}  // namespace takt::audit
