#include "services/staffing/grpc_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include "libs/host/rpc.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt::staffing {
namespace {

using host::ToGrpc;

using host::Answer;
using host::Origin;

class StaffingServiceImpl final : public v1::StaffingService::Service {
 public:
  StaffingServiceImpl(Staffing* staffing, model::ModelStore* models, bool follows_model)
      : staffing_(staffing), models_(models), follows_model_(follows_model) {
    // StreamAttendance takes raw messages so that a batch that does not
    // decode ends the stream with INVALID_ARGUMENT (host::ServeBatches).
    // (Method 1 in the .proto's order.)
    using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
    MarkMethodStreamed(
        1, new grpc::internal::BidiStreamingHandler<StaffingServiceImpl, grpc::ByteBuffer, grpc::ByteBuffer>(
               [](StaffingServiceImpl* self, grpc::ServerContext* ctx, Raw* stream) {
                 return self->RawStreamAttendance(ctx, stream);
               },
               this));
  }

  grpc::Status ApplyStaff(grpc::ServerContext* ctx, const v1::ApplyStaffRequest* request,
                          v1::ApplyStaffResponse* response) override {
    if (follows_model_) (void)models_->Refresh();
    return Answer(staffing_->ApplyStaff(*request, Origin(ctx)), response);
  }
  grpc::Status AssignRoster(grpc::ServerContext* ctx, const v1::RosterRequest* request,
                            v1::RosterResponse* response) override {
    return Answer(staffing_->AssignRoster(*request, Origin(ctx)), response);
  }
  grpc::Status GetCoverage(grpc::ServerContext*, const v1::CoverageRequest* request,
                           v1::CoverageResponse* response) override {
    return Answer(staffing_->GetCoverage(*request), response);
  }
  grpc::Status ListExpiringCertificates(grpc::ServerContext*, const v1::ExpiringRequest* request,
                                        v1::ExpiringResponse* response) override {
    return Answer(staffing_->ListExpiring(*request, absl::Now()), response);
  }
  grpc::Status GetPerson(grpc::ServerContext*, const v1::PersonRequest* request,
                         v1::PersonView* response) override {
    return Answer(staffing_->GetPerson(*request), response);
  }
  grpc::Status ExportPeople(grpc::ServerContext*, const v1::ExportRequest* request,
                            v1::ExportResponse* response) override {
    return Answer(staffing_->Export(*request), response);
  }
  grpc::Status ErasePerson(grpc::ServerContext* ctx, const v1::EraseRequest* request,
                           v1::EraseResponse* response) override {
    return Answer(staffing_->Erase(*request, Origin(ctx)), response);
  }

  grpc::Status RawStreamAttendance(grpc::ServerContext* ctx,
                                   grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = host::Actor(ctx);
    return host::ServeBatches<v1::AttendanceBatch, v1::AttendanceAck>(
        ctx, raw, [&](const v1::AttendanceBatch& batch) {
          if (follows_model_ && !models_->KnowsFacility(batch.facility())) (void)models_->Refresh();
          return staffing_->Ingest(batch, absl::Now(), actor);
        });
  }

 private:
  Staffing* staffing_;
  model::ModelStore* models_;
  const bool follows_model_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewStaffingService(Staffing* staffing, model::ModelStore* models,
                                                  bool follows_model) {
  return std::make_unique<StaffingServiceImpl>(staffing, models, follows_model);
}

}  // namespace takt::staffing
