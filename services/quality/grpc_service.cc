#include "services/quality/grpc_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include "absl/strings/str_cat.h"
#include "libs/host/rpc.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"

namespace takt::quality {
namespace {

using host::ToGrpc;

using host::Answer;
using host::Origin;
using auth::Permission;

class QualityServiceImpl final : public v1::QualityService::Service {
 public:
  QualityServiceImpl(Quality* quality, model::ModelStore* models, bool follows_model)
      : quality_(quality), models_(models), follows_model_(follows_model) {
    // StreamSamples takes raw messages: the sync API's Read() returns false
    // both at the end of a stream and for a message that does not decode, so
    // the handler decodes each batch itself and ends the stream with
    // INVALID_ARGUMENT instead of OK. (Method 1 in the .proto's order.)
    using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
    MarkMethodStreamed(
        1, new grpc::internal::BidiStreamingHandler<QualityServiceImpl, grpc::ByteBuffer, grpc::ByteBuffer>(
               [](QualityServiceImpl* self, grpc::ServerContext* ctx, Raw* stream) {
                 return self->RawStreamSamples(ctx, stream);
               },
               this));
  }

  grpc::Status ApplyPlans(grpc::ServerContext* ctx, const v1::ApplyPlansRequest* request,
                          v1::ApplyPlansResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kQuality, request->facility()); !a.ok()) return a;
    if (follows_model_) (void)models_->Refresh();
    return Answer(quality_->ApplyPlans(*request, Origin(ctx)), response);
  }
  grpc::Status ApproveLimits(grpc::ServerContext* ctx, const v1::ApproveLimitsRequest* request,
                             v1::LimitsApproved* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kQuality, request->facility()); !a.ok()) return a;
    return Answer(quality_->ApproveLimits(*request, Origin(ctx)), response);
  }
  grpc::Status GetChart(grpc::ServerContext* ctx, const v1::ChartRequest* request,
                        v1::ChartResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kRead, request->facility()); !a.ok()) return a;
    return Answer(quality_->Chart(*request), response);
  }
  grpc::Status GetCapability(grpc::ServerContext* ctx, const v1::CapabilityRequest* request,
                             v1::Capability* response) override {
    if (auto a = host::Authorize(ctx, *models_, Permission::kRead, host::AccessScopeOf(request->scope())); !a.ok()) return a;
    return Answer(quality_->GetCapability(*request), response);
  }
  grpc::Status GetRolledThroughputYield(grpc::ServerContext* ctx, const v1::RtyRequest* request,
                                        v1::RtyResponse* response) override {
    if (auto a = host::Authorize(ctx, *models_, Permission::kRead, host::AccessScopeOf(request->scope())); !a.ok()) return a;
    return Answer(quality_->GetRty(*request), response);
  }
  grpc::Status ExecuteNcr(grpc::ServerContext* ctx, const v1::NcrRequest* request,
                          v1::NcrResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kQuality, request->facility()); !a.ok()) return a;
    return Answer(quality_->ExecuteNcr(*request, Origin(ctx)), response);
  }
  grpc::Status ListNcrs(grpc::ServerContext* ctx, const v1::ListNcrsRequest* request,
                        v1::ListNcrsResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kRead, request->facility()); !a.ok()) return a;
    return Answer(quality_->ListNcrs(*request), response);
  }
  grpc::Status ListCharacteristics(grpc::ServerContext* ctx, const v1::ListCharacteristicsRequest* request,
                                   v1::ListCharacteristicsResponse* response) override {
    if (auto a = host::Authorize(ctx, *models_, Permission::kRead, host::AccessScopeOf(request->scope())); !a.ok()) return a;
    return Answer(quality_->ListCharacteristics(*request), response);
  }

  grpc::Status RawStreamSamples(grpc::ServerContext* ctx,
                                grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = host::Actor(ctx);
    // A batch refused as a whole (empty, oversized, unknown facility) ends
    // the stream with its status; so does one that could not be made
    // durable (the gateway reconnects and resends).
    return host::ServeBatches<v1::SampleBatch, v1::SampleAck>(
        ctx, *models_, Permission::kQuality, raw, [&](const v1::SampleBatch& batch) {
          if (follows_model_ && !models_->KnowsFacility(batch.facility())) (void)models_->Refresh();
          return quality_->Ingest(batch, absl::Now(), actor);
        });
  }

 private:
  Quality* quality_;
  model::ModelStore* models_;
  const bool follows_model_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewQualityService(Quality* quality, model::ModelStore* models,
                                                 bool follows_model) {
  return std::make_unique<QualityServiceImpl>(quality, models, follows_model);
}

}  // namespace takt::quality
