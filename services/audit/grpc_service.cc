#include "services/audit/grpc_service.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "libs/common/ids.h"
#include "libs/es/command.h"
#include "libs/host/rpc.h"
#include "services/audit/explain.h"
#include "services/audit/history.h"
#include "takt/audit/v1/audit.grpc.pb.h"

namespace takt::audit {
namespace {

using host::Actor;
using host::ToGrpc;

// The request as protobuf JSON, field names as in the .proto files.
std::string RequestJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

// Auditors: replay (and export), verification and KPI explain. Each call
// is recorded as a HistoryRead event in context "audit", stream = facility
// (unless the server records no audit reads).
class AuditServiceImpl final : public v1::AuditService::Service {
 public:
  AuditServiceImpl(eventlog::EventLog* log, bool embedded, model::ModelStore* models,
                   rollup::RollupStore* store, const rollup::ProductionFold* production,
                   std::vector<es::ContextDescriptor> contexts, bool record_reads)
      : log_(log),
        embedded_(embedded),
        models_(models),
        store_(store),
        production_(production),
        contexts_(std::move(contexts)),
        record_reads_(record_reads) {}

  grpc::Status Replay(grpc::ServerContext* ctx, const v1::ReplayRequest* request,
                      grpc::ServerWriter<v1::ReplayItem>* writer) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kAudit, request->facility()); !a.ok()) {
      return a;
    }
    if (grpc::Status known = Known(request->facility()); !known.ok()) return known;
    if (request->with_proofs()) {
      // Sign the current heads, so that an export is anchored to the end.
      (void)log_->CheckpointAll();
    }
    bool cancelled = false;
    auto n = audit::Replay(*log_, contexts_, *request, [&](const v1::ReplayItem& item) {
      if (!cancelled && !writer->Write(item)) cancelled = true;
    });
    if (!n.ok()) return ToGrpc(n.status());
    return ToGrpc(Record(ctx, request->facility(), request->with_proofs() ? "export" : "replay",
                         *request, *n));
  }

  grpc::Status Verify(grpc::ServerContext* ctx, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override {
    if (auto a = host::AuthorizeFacility(ctx, *models_, auth::Permission::kAudit, request->facility()); !a.ok()) {
      return a;
    }
    if (grpc::Status known = Known(request->facility()); !known.ok()) return known;
    std::vector<std::string> contexts(request->contexts().begin(), request->contexts().end());
    response->set_ok(true);
    auto streams = FacilityStreams(request->facility(), contexts_, contexts);
    if (!streams.ok()) return ToGrpc(streams.status());
    for (const eventlog::StreamId& stream : *streams) {
      eventlog::VerifyOptions o;
      o.context = stream.context;
      o.facility = stream.facility;
      auto report = log_->Verify(o);
      if (!report.ok()) return ToGrpc(report.status());
      response->set_streams_checked(response->streams_checked() + report->streams_checked);
      response->set_events_checked(response->events_checked() + report->events_checked);
      response->set_checkpoints_checked(response->checkpoints_checked() + report->checkpoints_checked);
      for (const auto& f : report->failures) {
        response->set_ok(false);
        auto* out = response->add_failures();
        out->set_context(stream.context);
        out->set_stream(stream.facility);
        out->set_sequence(f.sequence);
        out->set_kind(eventlog::FailureKindName(f.kind));
        out->set_detail(f.detail);
      }
    }
    return ToGrpc(Record(ctx, request->facility(), "verify", *request, response->events_checked()));
  }

  grpc::Status Explain(grpc::ServerContext* ctx, const v1::ExplainRequest* request,
                       v1::ExplainResponse* response) override {
    if (auto a = host::Authorize(ctx, *models_, auth::Permission::kAudit, host::AccessScopeOf(request->scope()));
        !a.ok()) {
      return a;
    }
    if (store_ == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "explain compares with the rollups: run it where the rollups service runs");
    }
    absl::StatusOr<v1::ExplainResponse> r;
    models_->Read([&](const model::EnterpriseModel& m) {
      r = audit::Explain(*log_, embedded_, m, *store_, production_, contexts_, *request);
    });
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    // Recorded for every facility whose history was read.
    for (const auto& [stream, seq] : r->positions()) {
      const std::string facility = stream.substr(stream.find('/') + 1);
      bool is_facility = false;  // not another stream of a facility (its plan)
      models_->Read([&](const model::EnterpriseModel& m) { is_facility = m.Facility(facility) != nullptr; });
      if (!is_facility) continue;
      if (absl::Status st = Record(ctx, facility, "explain", *request, r->events_read()); !st.ok()) {
        return ToGrpc(st);
      }
    }
    return grpc::Status::OK;
  }

 private:
  // Histories are kept for facilities the enterprise model has defined
  // (also after they were redefined or moved).
  grpc::Status Known(const std::string& facility) {
    if (absl::Status s = ValidateFacilityId(facility); !s.ok()) return ToGrpc(s);
    bool known = false;
    models_->Read([&](const model::EnterpriseModel& m) { known = m.Facility(facility) != nullptr; });
    if (!known) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("facility '", facility, "' is not defined"));
    }
    return grpc::Status::OK;
  }

  absl::Status Record(grpc::ServerContext* ctx, const std::string& facility,
                      const std::string& operation, const google::protobuf::Message& request,
                      uint64_t events) {
    if (facility.empty() || !record_reads_) return absl::OkStatus();
    v1::HistoryRead read;
    read.set_facility(facility);
    read.set_operation(operation);
    read.set_request_json(RequestJson(request));
    read.set_events_returned(events);
    eventlog::AppendRequest append;
    append.context = kAuditContext;
    append.facility = facility;
    append.events.push_back(
        es::CommandEnvelope(es::EventOf(read), Actor(ctx), NewUuid(), absl::Now()));
    auto r = log_->Append(std::move(append));
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat("the read could not be recorded: ", r.status().message()));
    }
    return absl::OkStatus();
  }

  eventlog::EventLog* log_;
  const bool embedded_;
  model::ModelStore* models_;
  rollup::RollupStore* store_;  // null where the rollups do not run
  const rollup::ProductionFold* production_;
  const std::vector<es::ContextDescriptor> contexts_;
  const bool record_reads_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewAuditService(eventlog::EventLog* log, bool embedded,
                                               model::ModelStore* models, rollup::RollupStore* store,
                                               const rollup::ProductionFold* production,
                                               std::vector<es::ContextDescriptor> contexts,
                                               bool record_reads) {
  return std::make_unique<AuditServiceImpl>(log, embedded, models, store, production,
                                            std::move(contexts), record_reads);
}

}  // namespace takt::audit
