#include "libs/server/takt_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_interceptor.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/json_util.h"
#include "libs/audit/explain.h"
#include "libs/audit/history.h"
#include "libs/common/ids.h"
#include "libs/common/plan_stream.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/command.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/kpi/registry.h"
#include "libs/rollup/projection.h"
#include "libs/rollup/query.h"
#include "libs/rollup/rollup_store.h"
#include "services/enterprise/model_store.h"
#include "services/scheduling/ingest.h"
#include "services/scheduling/planning_store.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt::server {
namespace {

// Events in the log after a cursor (per partition, in the log's terms).
uint64_t Lag(const eventlog::Cursor& cursor, const eventlog::Cursor& end) {
  uint64_t lag = 0;
  for (const auto& [partition, end_offset] : end) {
    auto it = cursor.find(partition);
    const uint64_t next = it == cursor.end() ? 0 : it->second;
    if (end_offset > next) lag += end_offset - next;
  }
  return lag;
}

// One line per event worth an operator's attention, on stderr.
void LogLine(std::string_view line) {
  std::cerr << absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())
            << " takt: " << line << std::endl;
}

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

std::string Actor(grpc::ServerContext* ctx) {
  // Authentication comes later; until then the peer's address (without its
  // ephemeral port) is recorded.
  std::string peer = ctx->peer();
  size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) peer.resize(colon);
  return absl::StrCat("peer:", peer);
}

class EnterpriseServiceImpl final : public enterprise::v1::EnterpriseService::Service {
 public:
  explicit EnterpriseServiceImpl(enterprise::ModelStore* models) : models_(models) {}

  grpc::Status ApplyDefinitions(grpc::ServerContext* ctx,
                                const enterprise::v1::ApplyDefinitionsRequest* request,
                                enterprise::v1::ApplyDefinitionsResponse* response) override {
    std::vector<const google::protobuf::Message*> defs;
    for (int i = 0; i < request->definitions_size(); ++i) {
      const auto& d = request->definitions(i);
      const google::protobuf::Message* m = nullptr;
      switch (d.kind_case()) {
        case enterprise::v1::Definition::kRegion: m = &d.region(); break;
        case enterprise::v1::Definition::kFacility: m = &d.facility(); break;
        case enterprise::v1::Definition::kMove: m = &d.move(); break;
        case enterprise::v1::Definition::kArea: m = &d.area(); break;
        case enterprise::v1::Definition::kWorkCenter: m = &d.work_center(); break;
        case enterprise::v1::Definition::kWorkUnit: m = &d.work_unit(); break;
        case enterprise::v1::Definition::kProduct: m = &d.product(); break;
        default:
          return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                              absl::StrCat("definitions[", i, "] is empty"));
      }
      defs.push_back(m);
    }
    const bool resendable = !request->request_id().empty();
    const std::string request_id = resendable ? request->request_id() : NewUuid();
    std::vector<model::ModelEvent> decided;
    auto outcome = models_->Apply(defs, request_id, Actor(ctx),
                                  resendable ? eventlog::RequestFingerprint(*request) : "",
                                  request->validate_only(), &decided);
    if (!outcome.ok()) return ToGrpc(outcome.status());
    response->set_changed(outcome->changed);
    response->set_unchanged(outcome->unchanged);
    if (request->validate_only()) {
      // Each event is one of the definitions: the Definition field of its type.
      const auto* kinds = enterprise::v1::Definition::descriptor();
      for (const model::ModelEvent& e : decided) {
        enterprise::v1::Definition* d = response->add_would_write();
        for (int f = 0; f < kinds->field_count(); ++f) {
          if (kinds->field(f)->message_type()->full_name() != e.type) continue;
          d->GetReflection()->MutableMessage(d, kinds->field(f))->ParseFromString(e.payload);
        }
      }
    }
    return grpc::Status::OK;
  }

 private:
  enterprise::ModelStore* models_;
};

// Unary requests that do not decode reach no handler: gRPC answers INTERNAL
// with an empty message. Say what it is: INVALID_ARGUMENT naming the method.
class UndecodableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UndecodableRequestInterceptor(std::string method) : method_(std::move(method)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      // gRPC's own deserialization failure (proto_utils.h GenericDeserialize).
      const grpc::Status s = m->GetSendStatus();
      if (s.error_code() == grpc::StatusCode::INTERNAL &&
          (s.error_message().empty() || s.error_message() == "No payload")) {
        m->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request to ", method_, " does not decode (malformed protobuf)")));
      }
    }
    m->Proceed();
  }

 private:
  const std::string method_;
};

class UndecodableRequestInterceptors final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Streams read their own messages (see IngestServiceImpl).
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY &&
        info->type() != grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) {
      return nullptr;
    }
    return new UndecodableRequestInterceptor(info->method());
  }
};

// Facility ingest, registered with raw messages: the sync API's Read()
// returns false both at the end of a stream and for a message that does
// not decode, so the handler decodes each batch itself and can end the
// stream with INVALID_ARGUMENT instead of OK.
class IngestServiceImpl final : public grpc::Service {
 public:
  IngestServiceImpl(eventlog::EventLog* log, enterprise::ModelStore* models, bool follows_model,
                    scheduling::HorizonPolicy horizon)
      : log_(log), models_(models), follows_model_(follows_model), horizons_(horizon) {
    using Raw = grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;
    // gRPC keeps the name's pointer: a literal.
    static constexpr char kMethod[] = "/takt.scheduling.v1.FacilityIngestService/StreamObservations";
    AddMethod(new grpc::internal::RpcServiceMethod(
        kMethod,
        grpc::internal::RpcMethod::BIDI_STREAMING,
        new grpc::internal::BidiStreamingHandler<IngestServiceImpl, grpc::ByteBuffer,
                                                 grpc::ByteBuffer>(
            [](IngestServiceImpl* service, grpc::ServerContext* ctx, Raw* stream) {
              return service->StreamObservations(ctx, stream);
            },
            this)));
  }

  grpc::Status StreamObservations(
      grpc::ServerContext* ctx, grpc::ServerReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>* raw) {
    const std::string actor = Actor(ctx);
    // A cap per peer: a gateway needs a stream or a few, not hundreds.
    {
      absl::MutexLock lock(&peers_mu_);
      int& open = streams_per_peer_[actor];
      if (open >= kMaxStreamsPerPeer) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            absl::StrCat(actor, " has ", open, " ingest streams open; at most ",
                                         kMaxStreamsPerPeer, " per peer (send more batches on one)"));
      }
      ++open;
    }
    struct Closed {
      IngestServiceImpl* self;
      std::string peer;
      ~Closed() {
        absl::MutexLock lock(&self->peers_mu_);
        if (--self->streams_per_peer_[peer] == 0) self->streams_per_peer_.erase(peer);
      }
    } closed{this, actor};
    grpc::ByteBuffer in;
    uint64_t received = 0;
    // Acknowledgements go out as raw messages too.
    auto write = [&](const scheduling::v1::IngestAck& ack) {
      grpc::ByteBuffer out;
      bool own = false;
      if (!grpc::SerializationTraits<scheduling::v1::IngestAck>::Serialize(ack, &out, &own).ok()) {
        return false;
      }
      return raw->Write(out);
    };
    while (raw->Read(&in)) {
      ++received;
      scheduling::v1::ObservationBatch batch;
      if (!grpc::SerializationTraits<scheduling::v1::ObservationBatch>::Deserialize(&in, &batch)
               .ok()) {
        return grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("message ", received, " of the stream does not decode as a ",
                         scheduling::v1::ObservationBatch::descriptor()->full_name(),
                         "; the batches before it were acknowledged, nothing of it was recorded"));
      }
      // An empty or oversized batch is refused once, as a whole, ending the
      // stream (acknowledged batches before it stay acknowledged).
      if (absl::Status size = scheduling::CheckBatchSize(batch); !size.ok()) return ToGrpc(size);
      if (follows_model_ && MeetsUnknownNames(batch)) {
        // The enterprise service may have defined them a moment ago.
        (void)models_->Refresh();
      }
      absl::StatusOr<scheduling::v1::IngestAck> ack;
      models_->Read([&](const model::EnterpriseModel& m) {
        ack = scheduling::IngestBatch(*log_, m, batch, absl::Now(), actor, &horizons_);
      });
      if (!ack.ok()) {
        if (ack.status().code() == absl::StatusCode::kNotFound ||
            ack.status().code() == absl::StatusCode::kInvalidArgument) {
          // The batch as a whole is bad (facility): reject every observation.
          scheduling::v1::IngestAck rejected;
          rejected.set_batch_id(batch.batch_id());
          for (int i = 0; i < batch.observations_size(); ++i) {
            auto* r = rejected.add_rejected();
            r->set_index(static_cast<uint32_t>(i));
            if (batch.observations(i).source_id().size() <= kMaxIdLength) {
              r->set_source_id(batch.observations(i).source_id());
            }
            r->set_source_sequence(batch.observations(i).source_sequence());
            r->set_code(static_cast<int>(ack.status().code()));
            r->set_reason(std::string(ack.status().message()));
          }
          scheduling::BoundRejections(rejected);
          if (!write(rejected)) break;
          continue;
        }
        // Not durable: end the stream; the gateway reconnects and resends.
        return ToGrpc(ack.status());
      }
      if (!write(*ack)) break;
    }
    return grpc::Status::OK;
  }

 private:
  bool MeetsUnknownNames(const scheduling::v1::ObservationBatch& batch) const {
    bool known = true;
    models_->Read([&](const model::EnterpriseModel& m) { known = scheduling::KnowsAllNames(batch, m); });
    return !known;
  }

  static constexpr int kMaxStreamsPerPeer = 32;

  eventlog::EventLog* log_;
  enterprise::ModelStore* models_;
  const bool follows_model_;
  scheduling::Horizons horizons_;
  absl::Mutex peers_mu_;
  absl::flat_hash_map<std::string, int> streams_per_peer_ ABSL_GUARDED_BY(peers_mu_);
};

class SchedulingServiceImpl final : public scheduling::v1::SchedulingService::Service {
 public:
  explicit SchedulingServiceImpl(scheduling::PlanningStore* plans) : plans_(plans) {}

  grpc::Status Execute(grpc::ServerContext* ctx, const scheduling::v1::ExecuteRequest* request,
                       scheduling::v1::ExecuteResponse* response) override {
    auto r = plans_->Execute(*request, Actor(ctx), absl::Now());
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    return grpc::Status::OK;
  }

  grpc::Status ProposeSchedule(grpc::ServerContext*, const scheduling::v1::ScheduleRequest* request,
                               scheduling::v1::Schedule* response) override {
    auto r = plans_->Propose(*request, absl::Now());
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    return grpc::Status::OK;
  }

  grpc::Status CommitSchedule(grpc::ServerContext* ctx,
                              const scheduling::v1::CommitScheduleRequest* request,
                              scheduling::v1::CommitScheduleResponse* response) override {
    auto r = plans_->Commit(*request, Actor(ctx), absl::Now());
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    return grpc::Status::OK;
  }

  grpc::Status ListWorkOrders(grpc::ServerContext*,
                              const scheduling::v1::ListWorkOrdersRequest* request,
                              scheduling::v1::ListWorkOrdersResponse* response) override {
    auto r = plans_->List(request->facility());
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    return grpc::Status::OK;
  }

 private:
  scheduling::PlanningStore* plans_;
};

// Auditors: replay (and export), verification and KPI explain. Each call
// is recorded as a HistoryRead event in context "audit", stream = facility.
class AuditServiceImpl final : public audit::v1::AuditService::Service {
 public:
  AuditServiceImpl(eventlog::EventLog* log, bool embedded, enterprise::ModelStore* models,
                   rollup::RollupStore* store)
      : log_(log), embedded_(embedded), models_(models), store_(store) {}

  grpc::Status Replay(grpc::ServerContext* ctx, const audit::v1::ReplayRequest* request,
                      grpc::ServerWriter<audit::v1::ReplayItem>* writer) override {
    if (grpc::Status known = Known(request->facility()); !known.ok()) return known;
    if (request->with_proofs()) {
      // Sign the current heads, so that an export is anchored to the end.
      (void)log_->CheckpointAll();
    }
    bool cancelled = false;
    auto n = audit::Replay(*log_, *request, [&](const audit::v1::ReplayItem& item) {
      if (!cancelled && !writer->Write(item)) cancelled = true;
    });
    if (!n.ok()) return ToGrpc(n.status());
    return ToGrpc(Record(ctx, request->facility(), request->with_proofs() ? "export" : "replay",
                         *request, *n));
  }

  grpc::Status Verify(grpc::ServerContext* ctx, const audit::v1::VerifyRequest* request,
                      audit::v1::VerifyResponse* response) override {
    if (grpc::Status known = Known(request->facility()); !known.ok()) return known;
    std::vector<std::string> contexts(request->contexts().begin(), request->contexts().end());
    response->set_ok(true);
    for (const eventlog::StreamId& stream : audit::FacilityStreams(request->facility(), contexts)) {
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

  grpc::Status Explain(grpc::ServerContext* ctx, const audit::v1::ExplainRequest* request,
                       audit::v1::ExplainResponse* response) override {
    if (store_ == nullptr) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "explain compares with the rollups: run it where the rollups service runs");
    }
    absl::StatusOr<audit::v1::ExplainResponse> r;
    models_->Read([&](const model::EnterpriseModel& m) {
      r = audit::Explain(*log_, embedded_, m, *store_, *request);
    });
    if (!r.ok()) return ToGrpc(r.status());
    *response = *r;
    // Recorded for every facility whose history was read.
    for (const auto& [stream, seq] : r->positions()) {
      const std::string facility = stream.substr(stream.find('/') + 1);
      if (FacilityOfPlanStream(facility)) continue;
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
    if (facility.empty()) return absl::OkStatus();
    audit::v1::HistoryRead read;
    read.set_facility(facility);
    read.set_operation(operation);
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(request, read.mutable_request_json(), o);
    read.set_events_returned(events);
    eventlog::AppendRequest append;
    append.context = "audit";
    append.facility = facility;
    eventlog::Envelope e;
    e.set_event_type(std::string(audit::v1::HistoryRead::descriptor()->full_name()));
    e.set_schema_version(1);
    e.set_actor(Actor(ctx));
    e.set_request_id(NewUuid());
    *e.mutable_occurred_time() = ToProto(absl::Now());
    e.set_payload(read.SerializeAsString());
    append.events.push_back(std::move(e));
    auto r = log_->Append(std::move(append));
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat("the read could not be recorded: ", r.status().message()));
    }
    return absl::OkStatus();
  }

  eventlog::EventLog* log_;
  const bool embedded_;
  enterprise::ModelStore* models_;
  rollup::RollupStore* store_;  // null where the rollups do not run
};

class RollupServiceImpl final : public rollups::v1::RollupService::Service {
 public:
  RollupServiceImpl(eventlog::EventLog* log, enterprise::ModelStore* models,
                    rollup::RollupStore* store)
      : log_(log), models_(models), store_(store) {}

  grpc::Status QueryKpis(grpc::ServerContext*, const rollups::v1::QueryKpisRequest* request,
                         rollups::v1::QueryKpisResponse* response) override {
    rollup::QueryRequest q;
    auto scope = rollup::ParseScope(request->scope().empty() ? "enterprise" : request->scope());
    if (!scope.ok()) return ToGrpc(scope.status());
    q.scope = *scope;
    for (const auto& k : request->kpis()) q.kpis.push_back(k);
    if (q.kpis.empty()) q.kpis = {"oee", "availability", "effectiveness", "quality_ratio"};
    auto from = model::ParseDay(request->from());
    auto to = model::ParseDay(request->to());
    if (!from.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("from: ", from.status().message()));
    if (!to.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("to: ", to.status().message()));
    q.from = *from;
    q.to = *to;
    auto by = rollup::ParseBreakdown(request->by());
    if (!by.ok()) return ToGrpc(by.status());
    q.by = *by;
    // The cursor first: the answer reflects at least these positions.
    auto cursor = store_->LoadCursor(scheduling::kSchedulingContext);
    if (!cursor.ok()) return ToGrpc(cursor.status());
    absl::StatusOr<rollup::QueryResult> result;
    absl::StatusOr<std::vector<rollup::ReasonRow>> pareto = std::vector<rollup::ReasonRow>{};
    models_->Read([&](const model::EnterpriseModel& m) {
      result = rollup::RunQuery(*store_, m, q);
      if (request->downtime_pareto()) pareto = rollup::DowntimePareto(*store_, m, q.scope, q.from, q.to);
    });
    if (!result.ok()) return ToGrpc(result.status());
    if (!pareto.ok()) return ToGrpc(pareto.status());
    int64_t total_micros = 0;
    for (const auto& r : *pareto) total_micros += r.micros;
    for (const auto& r : *pareto) {
      auto* d = response->add_downtime_pareto();
      d->set_reason(r.reason);
      d->set_hours(static_cast<double>(r.micros) / 3.6e9);
      d->set_stoppages(r.stoppages);
      d->set_share(total_micros > 0 ? 100.0 * static_cast<double>(r.micros) / static_cast<double>(total_micros) : 0);
    }
    auto fill = [&](const rollup::QueryRow& row, rollups::v1::Row* out) {
      out->set_label(row.label);
      for (const auto& k : row.kpis) {
        auto* v = out->add_kpis();
        v->set_kpi(k.id);
        v->set_has_value(k.value.has_value());
        v->set_value(k.value.value_or(0));
        v->set_unit(kpi::FindKpi(k.id)->unit);
      }
      for (int e = 0; e < kpi::kElementCount; ++e) {
        auto* el = out->add_elements();
        el->set_name(std::string(kpi::ElementName(static_cast<kpi::Element>(e))));
        el->set_value(row.sums.v[e]);
      }
    };
    fill(result->total, response->mutable_total());
    for (const auto& row : result->rows) fill(row, response->add_rows());
    // Every partition of the log, with where the projection stands in it
    // (0: nothing read there yet), so that answers list the same
    // partitions whatever the projection has met so far.
    auto end = log_->EndCursor(scheduling::kSchedulingContext);
    eventlog::Cursor positions = *cursor;
    if (end.ok()) {
      for (const auto& [partition, offset] : *end) positions.emplace(partition, 0);
      response->set_lag_events(Lag(*cursor, *end));
    }
    for (const auto& [partition, next] : positions) {
      auto* p = response->add_positions();
      p->set_partition(partition);
      p->set_next_offset(next);
    }
    return grpc::Status::OK;
  }

 private:
  eventlog::EventLog* log_;
  enterprise::ModelStore* models_;
  rollup::RollupStore* store_;
};

class Server final : public TaktServer {
 public:
  ~Server() override { Shutdown(); }

  absl::Status Init(const ServerOptions& options) {
    TAKT_ASSIGN_OR_RETURN(const std::vector<std::string> services,
                          ResolveServices(options.services, !options.kafka_brokers.empty()));
    auto runs = [&](const char* name) {
      return std::find(services.begin(), services.end(), name) != services.end();
    };
    const bool run_enterprise = runs("enterprise");
    const bool run_scheduling = runs("scheduling");
    const bool run_rollups = runs("rollups");
    const bool run_audit = runs("audit");
    // Where this process does not write the enterprise stream, it follows it.
    follow_model_ = !run_enterprise;
    if (options.kafka_brokers.empty()) {
      eventlog::EmbeddedLogOptions lo;
      lo.data_dir = options.data_dir;
      TAKT_ASSIGN_OR_RETURN(log_, eventlog::OpenEmbeddedLog(lo));
    } else {
      std::error_code ec;
      std::filesystem::create_directories(options.data_dir + "/keys", ec);
      eventlog::KafkaLogOptions ko;
      ko.brokers = options.kafka_brokers;
      ko.owner_id = options.owner_id;
      if (run_enterprise) ko.contexts.push_back(enterprise::kEnterpriseContext);
      else ko.read_contexts.push_back(enterprise::kEnterpriseContext);
      if (run_scheduling) ko.contexts.push_back(scheduling::kSchedulingContext);
      else if (run_rollups || run_audit) ko.read_contexts.push_back(scheduling::kSchedulingContext);
      if (run_audit) ko.contexts.push_back("audit");
      ko.signing_key_path = options.data_dir + "/keys/checkpoint.key";
      ko.client_config = options.kafka_config;
      TAKT_ASSIGN_OR_RETURN(log_, eventlog::OpenKafkaLog(ko));
    }
    models_ = std::make_unique<enterprise::ModelStore>(log_.get());
    TAKT_RETURN_IF_ERROR(models_->Refresh());
    if (run_rollups) {
      const std::string rollups_dir = options.data_dir + "/rollups";
      TAKT_ASSIGN_OR_RETURN(store_, rollup::RollupStore::Open(rollups_dir));
      // A projection ahead of its log (the log restored from an older
      // backup) would silently skip what is appended next: rebuild it.
      TAKT_ASSIGN_OR_RETURN(eventlog::Cursor stored,
                            store_->LoadCursor(scheduling::kSchedulingContext));
      TAKT_ASSIGN_OR_RETURN(eventlog::Cursor end, log_->EndCursor(scheduling::kSchedulingContext));
      if (auto why = rollup::CursorBeyondEnd(stored, end)) {
        LogLine(absl::StrCat("rollups: the projection is ahead of the log (", *why,
                             "); the log was restored from an older backup or replaced: "
                             "rebuilding the rollups from the log"));
        store_.reset();
        std::error_code ec;
        std::filesystem::remove_all(rollups_dir, ec);
        if (ec) {
          return absl::FailedPreconditionError(absl::StrCat(
              "the rollups at ", rollups_dir, " are ahead of the log and cannot be removed: ",
              ec.message()));
        }
        TAKT_ASSIGN_OR_RETURN(store_, rollup::RollupStore::Open(rollups_dir));
      }
      rollup::ProjectionOptions po;
      po.calendar_changes = [this] {
        std::vector<std::pair<std::string, absl::Time>> out;
        models_->Read([&](const model::EnterpriseModel& m) {
          for (const std::string& f : m.Facilities()) {
            const kpi::FacilityCalendar* cal = m.Calendar(f);
            if (cal != nullptr && cal->LatestChange() != absl::InfinitePast()) {
              out.emplace_back(f, cal->LatestChange());
            }
          }
        });
        return out;
      };
      projection_ = std::make_unique<rollup::Projection>(
          log_.get(), store_.get(),
          [this](const std::string& facility) { return models_->Calendar(facility); }, po);
      TAKT_RETURN_IF_ERROR(projection_->Start());
    }

    grpc::EnableDefaultHealthCheckService(true);
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder builder;
    // gRPC sets SO_REUSEPORT by default: a second server (with another data
    // directory) would then share the port and split the clients between
    // two logs. One port, one server.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // Bounded resources: at most kMaxServerThreads RPC threads (beyond, new
    // calls get RESOURCE_EXHAUSTED instead of a thread each); keepalive
    // pings find dead peers; idle connections close after 15 minutes.
    grpc::ResourceQuota quota("takt-serve");
    quota.SetMaxThreads(kMaxServerThreads);
    builder.SetResourceQuota(quota);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 15 * 60'000);
    {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
      creators.push_back(std::make_unique<UndecodableRequestInterceptors>());
      builder.experimental().SetInterceptorCreators(std::move(creators));
    }
    builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port_);
    if (run_enterprise) {
      enterprise_ = std::make_unique<EnterpriseServiceImpl>(models_.get());
      builder.RegisterService(enterprise_.get());
      registered_.push_back(enterprise::v1::EnterpriseService::service_full_name());
    }
    if (run_scheduling) {
      scheduling::HorizonPolicy horizon;
      horizon.earliest = options.earliest_observation;
      horizon.max_lateness = options.max_lateness;
      ingest_ = std::make_unique<IngestServiceImpl>(log_.get(), models_.get(), follow_model_, horizon);
      builder.RegisterService(ingest_.get());
      registered_.push_back(scheduling::v1::FacilityIngestService::service_full_name());
      plans_ = std::make_unique<scheduling::PlanningStore>(log_.get(), models_.get());
      scheduling_ = std::make_unique<SchedulingServiceImpl>(plans_.get());
      builder.RegisterService(scheduling_.get());
      registered_.push_back(scheduling::v1::SchedulingService::service_full_name());
    }
    if (run_rollups) {
      rollups_ = std::make_unique<RollupServiceImpl>(log_.get(), models_.get(), store_.get());
      builder.RegisterService(rollups_.get());
      registered_.push_back(rollups::v1::RollupService::service_full_name());
    }
    if (run_audit) {
      audit_ = std::make_unique<AuditServiceImpl>(log_.get(), options.kafka_brokers.empty(),
                                                  models_.get(), store_.get());
      builder.RegisterService(audit_.get());
      registered_.push_back(audit::v1::AuditService::service_full_name());
    }
    builder.SetMaxReceiveMessageSize(16 << 20);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.listen,
          ": the address is in use (another takt serve?) or not valid here"));
    }
    // The rollups service turns SERVING once its projection is ready.
    for (const char* name : registered_) {
      server_->GetHealthCheckService()->SetServingStatus(
          name, std::string_view(name) != kRollupService);
    }
    if (projection_) projector_ = std::thread([this] { ProjectLoop(); });
    if (follow_model_) follower_ = std::thread([this] { FollowLoop(); });
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  void Wait() override { server_->Wait(); }

  void Shutdown() override {
    if (stopped_.exchange(true)) return;
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (projector_.joinable()) projector_.join();
    if (follower_.joinable()) follower_.join();
  }

  absl::Status WaitForProjection(absl::Duration timeout) override {
    if (!projection_) return absl::FailedPreconditionError("this process runs no rollups");
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      auto end = log_->EndCursor(scheduling::kSchedulingContext);
      auto cursor = store_->LoadCursor(scheduling::kSchedulingContext);
      if (!end.ok() || !cursor.ok()) return absl::InternalError("cannot read positions");
      if (Lag(*cursor, *end) == 0) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(10));
    }
    return absl::DeadlineExceededError("projection did not catch up");
  }

 private:
  // Keeps the model of a process that does not write it close to the log
  // (ingest also refreshes on demand when it meets an unknown name).
  void FollowLoop() {
    while (!stopped_) {
      (void)models_->Refresh();
      for (int i = 0; i < 5 && !stopped_; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // Applies the log to the rollups. An event it cannot apply is said once
  // (log line; gRPC health of the rollups service NOT_SERVING; answers keep
  // coming, with the lag they have), then retried: typically an event for
  // a facility the model does not know yet, which a refresh resolves.
  //
  // The rollups service's gRPC health is its readiness: SERVING while the
  // projection applies the log, the log answers, and the projection is at
  // most kReadyLagEvents behind (after a restart it is NOT_SERVING until it
  // has caught up that far).
  void ProjectLoop() {
    std::string failing;  // the error being reported, empty when healthy
    bool serving = false;  // as registered: not ready until checked
    absl::Time checked = absl::InfinitePast();
    uint64_t lag = 0;
    std::string log_error;
    while (!stopped_) {
      auto n = projection_->Step(absl::Milliseconds(100));
      if (n.ok()) {
        if (!failing.empty()) {
          LogLine("rollups: the projection applies events again");
          failing.clear();
        }
      } else {
        std::string error(n.status().message());
        absl::SleepFor(absl::Milliseconds(200));
        (void)models_->Refresh();
        absl::Status restarted = projection_->Start();
        if (!restarted.ok()) error = absl::StrCat(error, "; restart: ", restarted.message());
        if (error != failing) {
          LogLine(absl::StrCat("rollups: the projection cannot apply the log (",
                               absl::StatusCodeToString(n.status().code()), ": ", error,
                               "); answers show the lag; retrying"));
          failing = error;
        }
      }
      if (absl::Now() - checked >= absl::Seconds(1)) {
        checked = absl::Now();
        auto end = log_->EndCursor(scheduling::kSchedulingContext);
        log_error = end.ok() ? "" : std::string(end.status().message());
        if (end.ok()) lag = Lag(projection_->cursor(), *end);
      }
      const bool ready = failing.empty() && log_error.empty() && lag <= kReadyLagEvents;
      if (ready != serving) {
        serving = ready;
        SetHealth(kRollupService, ready);
        LogLine(ready ? std::string("rollups: SERVING")
                      : absl::StrCat("rollups: NOT_SERVING (",
                                     !failing.empty()     ? "the projection is stopped"
                                     : !log_error.empty() ? "the log does not answer: " + log_error
                                                          : absl::StrCat(lag, " events behind"),
                                     ")"));
      }
    }
  }

  void SetHealth(const char* service, bool serving) {
    if (server_ && server_->GetHealthCheckService() != nullptr) {
      server_->GetHealthCheckService()->SetServingStatus(service, serving);
    }
  }

  static constexpr char kRollupService[] = "takt.rollups.v1.RollupService";
  static constexpr int kMaxServerThreads = 256;
  static constexpr uint64_t kReadyLagEvents = 250'000;

  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<enterprise::ModelStore> models_;
  std::unique_ptr<rollup::RollupStore> store_;
  std::unique_ptr<rollup::Projection> projection_;
  std::unique_ptr<EnterpriseServiceImpl> enterprise_;
  std::unique_ptr<IngestServiceImpl> ingest_;
  std::unique_ptr<scheduling::PlanningStore> plans_;
  std::unique_ptr<SchedulingServiceImpl> scheduling_;
  std::unique_ptr<RollupServiceImpl> rollups_;
  std::unique_ptr<AuditServiceImpl> audit_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<const char*> registered_;  // gRPC service names, for health
  int port_ = 0;
  std::thread projector_;
  std::thread follower_;
  bool follow_model_ = false;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<std::vector<std::string>> ResolveServices(const std::vector<std::string>& services,
                                                         bool kafka) {
  static const char* const kAll[] = {"enterprise", "scheduling", "rollups", "audit"};
  std::vector<std::string> out;
  for (const std::string& s : services) {
    if (std::find(std::begin(kAll), std::end(kAll), s) == std::end(kAll)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown service '", s, "' (services are enterprise, scheduling, rollups, audit)"));
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  if (out.empty()) out.assign(std::begin(kAll), std::end(kAll));
  if (out.size() < std::size(kAll) && !kafka) {
    return absl::InvalidArgumentError(
        "running a subset of the services needs --kafka-brokers: the embedded log belongs to "
        "one process, which runs all services");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<TaktServer>> TaktServer::Start(const ServerOptions& options) {
  auto server = std::make_unique<Server>();
  TAKT_RETURN_IF_ERROR(server->Init(options));
  return std::unique_ptr<TaktServer>(std::move(server));
}

}  // namespace takt::server
