#include "services/rollups/grpc_service.h"

#include "libs/host/rpc.h"
#include "services/rollups/answer.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt::rollup {
namespace {

class RollupServiceImpl final : public rollups::v1::RollupService::Service {
 public:
  RollupServiceImpl(eventlog::EventLog* log, model::ModelStore* models, RollupStore* store,
                    std::vector<ReadPosition> reads)
      : log_(log), models_(models), store_(store), reads_(std::move(reads)) {}

  grpc::Status QueryKpis(grpc::ServerContext* ctx, const rollups::v1::QueryKpisRequest* request,
                         rollups::v1::QueryKpisResponse* response) override {
    if (auto a = host::Authorize(ctx, *models_, auth::Permission::kRead, host::AccessScopeOf(request->scope()));
        !a.ok()) {
      return a;
    }
    auto r = AnswerQuery(*store_, *models_, *log_, reads_, *request);
    if (!r.ok()) return host::ToGrpc(r.status());
    *response = *std::move(r);
    return grpc::Status::OK;
  }

 private:
  eventlog::EventLog* log_;
  model::ModelStore* models_;
  RollupStore* store_;
  const std::vector<ReadPosition> reads_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewRollupService(eventlog::EventLog* log, model::ModelStore* models,
                                                RollupStore* store, std::vector<ReadPosition> reads) {
  return std::make_unique<RollupServiceImpl>(log, models, store, std::move(reads));
}

}  // namespace takt::rollup
