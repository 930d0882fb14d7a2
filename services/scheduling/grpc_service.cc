#include "services/scheduling/grpc_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/host/rpc.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt::scheduling {
namespace {

using host::Answer;
using host::ToGrpc;

// Facility ingest, registered with raw messages: the sync API's Read()
// returns false both at the end of a stream and for a message that does
// not decode, so the handler decodes each batch itself and can end the
// stream with INVALID_ARGUMENT instead of OK.
class IngestServiceImpl final : public grpc::Service {
 public:
  IngestServiceImpl(eventlog::EventLog* log, model::ModelStore* models, bool follows_model,
                    HorizonPolicy horizon)
      : log_(log), models_(models), follows_model_(follows_model), horizons_(horizon) {
    using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
    // gRPC keeps the name's pointer: a literal.
    static constexpr char kMethod[] = "/takt.scheduling.v1.FacilityIngestService/StreamObservations";
    AddMethod(new grpc::internal::RpcServiceMethod(
        kMethod, grpc::internal::RpcMethod::BIDI_STREAMING,
        new grpc::internal::BidiStreamingHandler<IngestServiceImpl, grpc::ByteBuffer,
                                                 grpc::ByteBuffer>(
            [](IngestServiceImpl* service, grpc::ServerContext* ctx, Raw* stream) {
              return service->StreamObservations(ctx, stream);
            },
            this)));
  }

  // Batches of one stream overlap (host::ServePipelinedBatches): the next
  // batch is screened and queued for the log while this one is made
  // durable, so a gateway's rate is no longer one batch per fsync.
  grpc::Status StreamObservations(
      grpc::ServerContext* ctx, grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = host::Actor(ctx);
    return host::ServePipelinedBatches<v1::ObservationBatch, v1::IngestAck, Pending>(
        ctx, *models_, auth::Permission::kOperate, raw, host::BatchWindow{},
        [&](v1::ObservationBatch&& batch) { return Start(std::move(batch), actor); },
        [&](Pending& p) { return Finish(p, actor); });
  }

 private:
  // A batch between its two halves.
  struct Pending {
    v1::ObservationBatch batch;
    std::optional<v1::IngestAck> answered;  // refused as a whole: nothing to wait for
    IngestInProgress started;
  };

  absl::StatusOr<Pending> Start(v1::ObservationBatch&& batch, const std::string& actor) {
    // An empty or oversized batch is refused once, as a whole, ending the
    // stream (acknowledged batches before it stay acknowledged).
    TAKT_RETURN_IF_ERROR(CheckBatchSize(batch));
    if (follows_model_ && MeetsUnknownNames(batch)) {
      // The enterprise service may have defined them a moment ago.
      (void)models_->Refresh();
    }
    Pending p;
    absl::StatusOr<IngestInProgress> started;
    models_->Read([&](const model::EnterpriseModel& m) {
      started = StartIngest(*log_, m, batch, absl::Now(), actor, &horizons_);
    });
    if (started.ok()) {
      p.started = std::move(*started);
    } else if (IsBadFacility(started.status())) {
      p.answered = RejectAll(batch, started.status());
    } else {
      return started.status();
    }
    p.batch = std::move(batch);
    return p;
  }

  // Not durable: the error ends the stream; the gateway reconnects and
  // resends.
  absl::StatusOr<v1::IngestAck> Finish(Pending& p, const std::string& actor) {
    if (p.answered.has_value()) return std::move(*p.answered);
    absl::StatusOr<v1::IngestAck> ack = FinishIngest(p.started, p.batch.facility(), &horizons_);
    if (ack.status().code() != absl::StatusCode::kAlreadyExists) return ack;
    // Some source sequence was already recorded with other content: only
    // those observations are refused.
    models_->Read([&](const model::EnterpriseModel& m) {
      ack = IngestOneByOne(*log_, m, p.batch, actor, p.started, &horizons_);
    });
    if (!ack.ok() && IsBadFacility(ack.status())) return RejectAll(p.batch, ack.status());
    return ack;
  }

  // The batch as a whole is bad (its facility): every observation is
  // rejected, the stream goes on.
  static bool IsBadFacility(const absl::Status& s) {
    return s.code() == absl::StatusCode::kNotFound || s.code() == absl::StatusCode::kInvalidArgument;
  }

  bool MeetsUnknownNames(const v1::ObservationBatch& batch) const {
    bool known = true;
    models_->Read([&](const model::EnterpriseModel& m) { known = KnowsAllNames(batch, m); });
    return !known;
  }


  eventlog::EventLog* log_;
  model::ModelStore* models_;
  const bool follows_model_;
  Horizons horizons_;
};

class SchedulingServiceImpl final : public v1::SchedulingService::Service {
 public:
  SchedulingServiceImpl(PlanningStore* plans, model::ModelStore* models) : plans_(plans), models_(models) {}

  grpc::Status Execute(grpc::ServerContext* ctx, const v1::ExecuteRequest* request,
                       v1::ExecuteResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kOperate, request->facility()); !a.ok()) return a;
    return Answer(plans_->Execute(*request, host::Actor(ctx), absl::Now()), response);
  }
  grpc::Status ProposeSchedule(grpc::ServerContext* ctx, const v1::ScheduleRequest* request,
                               v1::Schedule* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kOperate, request->facility()); !a.ok()) return a;
    return Answer(plans_->Propose(*request, absl::Now()), response);
  }
  grpc::Status CommitSchedule(grpc::ServerContext* ctx, const v1::CommitScheduleRequest* request,
                              v1::CommitScheduleResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kOperate, request->facility()); !a.ok()) return a;
    return Answer(plans_->Commit(*request, host::Actor(ctx), absl::Now()), response);
  }
  grpc::Status ListWorkOrders(grpc::ServerContext* ctx, const v1::ListWorkOrdersRequest* request,
                              v1::ListWorkOrdersResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kRead, request->facility()); !a.ok()) return a;
    return Answer(plans_->List(request->facility()), response);
  }

 private:
  PlanningStore* plans_;
  model::ModelStore* models_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewIngestService(eventlog::EventLog* log, model::ModelStore* models,
                                                bool follows_model, HorizonPolicy horizon) {
  return std::make_unique<IngestServiceImpl>(log, models, follows_model, horizon);
}

std::unique_ptr<grpc::Service> NewSchedulingService(PlanningStore* plans, model::ModelStore* models) {
  return std::make_unique<SchedulingServiceImpl>(plans, models);
}

}  // namespace takt::scheduling
