#include "services/budgets/module.h"

#include "libs/common/plan_stream.h"
#include "services/budgets/budgets.h"
#include "services/budgets/cli.h"
#include "services/budgets/grpc_service.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"
#include "takt/budgets/v1/events.pb.h"

namespace takt::budgets {
namespace {

class BudgetsModule final : public host::Module {
 public:
  absl::Status Start(host::Env& env) override {
    budgets_ = std::make_unique<Budgets>(env.log(), env.models());
    service_ = NewBudgetsService(budgets_.get(), env.models(), env.follows_model());
    return absl::OkStatus();
  }
  std::vector<host::ServiceEntry> Services() override {
    host::ServiceEntry entry{.service = service_.get(),
                             .name = std::string(v1::BudgetsService::service_full_name()),
                             .facility_methods = {"StreamPostings"}};
    // The requests name a facility or a region (neither: the enterprise).
    for (auto [suffix, method] : {std::pair{":variances", "GetVariances"}, std::pair{":savings", "GetSavings"}}) {
      entry.http.push_back({"GET", std::string("/v1/enterprise") + suffix, method});
      entry.http.push_back({"GET", std::string("/v1/regions/{region}") + suffix, method});
      entry.http.push_back({"GET", std::string("/v1/facilities/{facility}") + suffix, method});
    }
    // A plant's variances recomputed from the raw events (auditors).
    entry.http.push_back({"GET", "/v1/facilities/{facility}:explainVariances", "ExplainVariances"});
    return {std::move(entry)};
  }

 private:
  std::unique_ptr<Budgets> budgets_;
  std::unique_ptr<grpc::Service> service_;
};

}  // namespace

host::ModuleInfo Module() {
  host::ModuleInfo m;
  m.name = "budgets";
  m.owns = {{kBudgetsContext, [](const std::string& facility) {
               return std::vector<std::string>{facility, BudgetStream(facility)};
             }}};
  // The flexible budget reads scheduling's production counts, and labour
  // accounts may take their hours from staffing's attendance (budgets.h).
  m.reads = {kSchedulingContext, kStaffingContext};
  m.payload_files = {v1::PostingRecorded::descriptor()->file()};
  m.create = [] { return std::make_unique<BudgetsModule>(); };
  m.add_commands = AddBudgetsCommands;
  return m;
}

}  // namespace takt::budgets
