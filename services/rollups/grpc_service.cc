#include "services/rollups/grpc_service.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/es/command.h"
#include "libs/es/event.h"
#include "libs/host/rpc.h"
#include "libs/model/enterprise_model.h"
#include "services/rollups/answer.h"
#include "services/rollups/query.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"

namespace takt::rollup {
namespace {

class RollupServiceImpl final : public rollups::v1::RollupService::Service {
 public:
  RollupServiceImpl(eventlog::EventLog* log, model::ModelStore* models, RollupStore* store,
                    std::vector<ReadPosition> reads, bool record_reads)
      : log_(log), models_(models), store_(store), reads_(std::move(reads)), record_reads_(record_reads) {}

  grpc::Status QueryKpis(grpc::ServerContext* ctx, const rollups::v1::QueryKpisRequest* request,
                         rollups::v1::QueryKpisResponse* response) override {
    if (auto a = host::Authorize(ctx, *models_, auth::Permission::kRead, host::AccessScopeOf(request->scope()));
        !a.ok()) {
      return a;
    }
    auto r = AnswerQuery(*store_, *models_, *log_, reads_, *request);
    if (!r.ok()) return host::ToGrpc(r.status());
    if (record_reads_) {
      if (absl::Status s = Record(ctx, *request); !s.ok()) return host::ToGrpc(s);
    }
    *response = *std::move(r);
    return grpc::Status::OK;
  }

 private:
  // A KpisRead in the stream of each facility the (answered, so valid)
  // request covers.
  absl::Status Record(grpc::ServerContext* ctx, const rollups::v1::QueryKpisRequest& request) {
    auto scope = ParseScope(request.scope());
    auto from = model::ParseDay(request.from());
    auto to = model::ParseDay(request.to());
    if (!scope.ok() || !from.ok() || !to.ok()) return absl::InternalError("an answered query did not parse again");
    absl::StatusOr<std::vector<ScopePart>> parts;
    models_->Read([&](const model::EnterpriseModel& m) { parts = ResolveScope(m, *scope, *from, *to); });
    if (!parts.ok()) return parts.status();
    std::set<std::string> facilities;
    for (const ScopePart& p : *parts) facilities.insert(p.facility);
    rollups::v1::KpisRead read;
    *read.mutable_request() = request;
    read.set_facilities_covered(static_cast<uint32_t>(facilities.size()));
    const std::string actor = host::Actor(ctx);
    for (const std::string& facility : facilities) {
      eventlog::AppendRequest append;
      append.context = kKpiReadsContext;
      append.facility = facility;
      append.events.push_back(es::CommandEnvelope(es::EventOf(read), actor, NewUuid(), absl::Now()));
      auto appended = log_->Append(std::move(append));
      if (!appended.ok()) {
        return absl::Status(appended.status().code(),
                            absl::StrCat("the read could not be recorded: ", appended.status().message()));
      }
    }
    return absl::OkStatus();
  }

  eventlog::EventLog* log_;
  model::ModelStore* models_;
  RollupStore* store_;
  const std::vector<ReadPosition> reads_;
  const bool record_reads_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewRollupService(eventlog::EventLog* log, model::ModelStore* models,
                                                RollupStore* store, std::vector<ReadPosition> reads,
                                                bool record_reads) {
  return std::make_unique<RollupServiceImpl>(log, models, store, std::move(reads), record_reads);
}

}  // namespace takt::rollup
