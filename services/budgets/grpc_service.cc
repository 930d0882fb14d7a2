#include "services/budgets/grpc_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include "libs/host/rpc.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"

namespace takt::budgets {
namespace {

using host::Answer;
using host::Origin;
using auth::Permission;

// A request naming a facility, a region, both (each is checked) or neither
// (the enterprise).
grpc::Status AuthorizeFields(const grpc::ServerContext* ctx, model::ModelStore& models, Permission permission,
                             const std::string& facility, const std::string& region) {
  if (facility.empty() && region.empty()) return host::Authorize(ctx, models, permission, auth::Scope::Enterprise());
  if (!region.empty()) {
    if (auto a = host::Authorize(ctx, models, permission, auth::Scope::Region(region)); !a.ok()) return a;
  }
  return facility.empty() ? grpc::Status::OK : host::AuthorizeFacility(ctx, models, permission, facility);
}

class BudgetsServiceImpl final : public v1::BudgetsService::Service {
 public:
  BudgetsServiceImpl(Budgets* budgets, model::ModelStore* models, bool follows_model)
      : budgets_(budgets), models_(models), follows_model_(follows_model) {
    // StreamPostings takes raw messages so that a batch that does not
    // decode ends the stream with INVALID_ARGUMENT (host::ServeBatches).
    // (Method 1 in the .proto's order.)
    using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
    MarkMethodStreamed(
        1, new grpc::internal::BidiStreamingHandler<BudgetsServiceImpl, grpc::ByteBuffer, grpc::ByteBuffer>(
               [](BudgetsServiceImpl* self, grpc::ServerContext* ctx, Raw* stream) {
                 return self->RawStreamPostings(ctx, stream);
               },
               this));
  }

  grpc::Status ApplyBudget(grpc::ServerContext* ctx, const v1::ApplyBudgetRequest* request,
                           v1::ApplyBudgetResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kOperate, request->facility()); !a.ok()) return a;
    if (follows_model_) (void)models_->Refresh();
    return Answer(budgets_->ApplyBudget(*request, Origin(ctx)), response);
  }
  grpc::Status GetVariances(grpc::ServerContext* ctx, const v1::VarianceRequest* request,
                            v1::VarianceResponse* response) override {
    if (auto a = AuthorizeFields(ctx, *models_, Permission::kRead, request->facility(), request->region()); !a.ok()) {
      return a;
    }
    return Answer(budgets_->Variances(*request), response);
  }
  // An auditor's check (recomputed from the raw postings).
  grpc::Status ExplainVariances(grpc::ServerContext* ctx, const v1::VarianceRequest* request,
                                v1::VarianceExplanation* response) override {
    if (auto a = AuthorizeFields(ctx, *models_, Permission::kAudit, request->facility(), request->region()); !a.ok()) {
      return a;
    }
    return Answer(budgets_->ExplainVariances(*request), response);
  }
  grpc::Status GetSavings(grpc::ServerContext* ctx, const v1::SavingsRequest* request,
                          v1::SavingsResponse* response) override {
    if (auto a = AuthorizeFields(ctx, *models_, Permission::kRead, request->facility(), request->region()); !a.ok()) {
      return a;
    }
    if (follows_model_) (void)models_->Refresh();
    return Answer(budgets_->Savings(*request), response);
  }

  grpc::Status RawStreamPostings(grpc::ServerContext* ctx,
                                 grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = host::Actor(ctx);
    return host::ServeBatches<v1::PostingBatch, v1::PostingAck>(ctx, *models_, Permission::kOperate, raw, [&](const v1::PostingBatch& batch) {
      if (follows_model_ && !models_->KnowsFacility(batch.facility())) (void)models_->Refresh();
      return budgets_->Ingest(batch, actor, absl::Now());
    });
  }

 private:
  Budgets* budgets_;
  model::ModelStore* models_;
  const bool follows_model_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewBudgetsService(Budgets* budgets, model::ModelStore* models, bool follows_model) {
  return std::make_unique<BudgetsServiceImpl>(budgets, models, follows_model);
}

}  // namespace takt::budgets
