#include "services/staffing/grpc_service.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>

#include "absl/time/clock.h"
#include "libs/host/rpc.h"
#include "libs/model/model_store.h"
#include "takt/staffing/v1/staffing_service.grpc.pb.h"

namespace takt::staffing {
namespace {

using host::ToGrpc;

using host::Answer;
using host::Origin;
using auth::Permission;

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
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kPersonalData, request->facility()); !a.ok()) return a;
    if (follows_model_) (void)models_->Refresh();
    return Answer(staffing_->ApplyStaff(*request, Origin(ctx)), response);
  }
  grpc::Status AssignRoster(grpc::ServerContext* ctx, const v1::RosterRequest* request,
                            v1::RosterResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kOperate, request->facility()); !a.ok()) return a;
    return Answer(staffing_->AssignRoster(*request, Origin(ctx)), response);
  }
  grpc::Status GetCoverage(grpc::ServerContext* ctx, const v1::CoverageRequest* request,
                           v1::CoverageResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kRead, request->facility()); !a.ok()) return a;
    return Answer(staffing_->GetCoverage(*request), response);
  }
  // Certificates name people by their pseudonymous ids: a read, not
  // personal data.
  grpc::Status ListExpiringCertificates(grpc::ServerContext* ctx, const v1::ExpiringRequest* request,
                                        v1::ExpiringResponse* response) override {
    if (auto a = AuthorizeExpiring(ctx, *request); !a.ok()) return a;
    return Answer(staffing_->ListExpiring(*request, absl::Now()), response);
  }
  grpc::Status GetPerson(grpc::ServerContext* ctx, const v1::PersonRequest* request,
                         v1::PersonView* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kPersonalData, request->facility()); !a.ok()) {
      return a;
    }
    return Answer(staffing_->GetPerson(*request, Origin(ctx)), response);
  }
  grpc::Status ExportPeople(grpc::ServerContext* ctx, const v1::ExportRequest* request,
                            v1::ExportResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kPersonalData, request->facility()); !a.ok()) {
      return a;
    }
    return Answer(staffing_->Export(*request, Origin(ctx)), response);
  }
  grpc::Status ErasePerson(grpc::ServerContext* ctx, const v1::EraseRequest* request,
                           v1::EraseResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kPersonalData, request->facility()); !a.ok()) {
      return a;
    }
    return Answer(staffing_->Erase(*request, Origin(ctx)), response);
  }

  grpc::Status RawStreamAttendance(grpc::ServerContext* ctx,
                                   grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = host::Actor(ctx);
    return host::ServeBatches<v1::AttendanceBatch, v1::AttendanceAck>(
        ctx, *models_, Permission::kPersonalData, raw, [&](const v1::AttendanceBatch& batch) {
          if (follows_model_ && !models_->KnowsFacility(batch.facility())) (void)models_->Refresh();
          return staffing_->Ingest(batch, absl::Now(), actor);
        });
  }

 private:
  // An expiry list's scope is "enterprise", a region or a facility id, and
  // the list takes the facilities that were in the region on `as_of`: the
  // scope itself must be allowed, and so must each facility the list
  // would take (a facility since moved out of the caller's region, an id
  // that is both a region and a facility).
  grpc::Status AuthorizeExpiring(grpc::ServerContext* ctx, const v1::ExpiringRequest& request) {
    const std::string scope = ExpiringScopeId(request.scope());
    if (scope == "enterprise") {
      return host::Authorize(ctx, *models_, Permission::kRead, auth::Scope::Enterprise());
    }
    bool region = false;
    std::vector<std::string> facilities = {scope};
    models_->Read([&](const model::EnterpriseModel& m) {
      region = m.HasRegion(scope);
      if (!region) return;
      auto day = model::ParseDay(request.as_of());
      const absl::CivilDay as_of =
          request.as_of().empty() || !day.ok() ? absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()) : *day;
      for (const std::string& f : m.Facilities()) {
        if (m.RegionOf(f, as_of) == scope) facilities.push_back(f);
      }
    });
    if (region) {
      if (auto a = host::Authorize(ctx, *models_, Permission::kRead, auth::Scope::Region(scope)); !a.ok()) return a;
    }
    for (const std::string& f : facilities) {
      bool defined = true;
      if (f == scope && region) models_->Read([&](const model::EnterpriseModel& m) { defined = m.Facility(f) != nullptr; });
      if (!defined) continue;
      if (auto a = host::AuthorizeFacility(ctx, *models_, Permission::kRead, f); !a.ok()) return a;
    }
    return grpc::Status::OK;
  }

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
