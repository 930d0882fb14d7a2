#include "libs/host/host.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/eventlog/kafka_topics.h"
#include "libs/host/reflection_v1.h"
#include "libs/host/rpc.h"
#include "libs/http/admin.h"
#include "libs/http/gateway.h"
#include "libs/metrics/metrics.h"
#include "nlohmann/json.hpp"
#include "takt/operations/v1/operations.grpc.pb.h"
#include "libs/model/model_store.h"

namespace takt::host {
namespace {

// Refuses topics whose settings lose events (retention, compaction); logs
// the durability warnings, and that the settings went unchecked where the
// cluster cannot describe them (librdkafka's mock cluster).
absl::Status CheckKafkaTopics(const std::string& brokers,
                              const std::map<std::string, std::string>& client_config,
                              const std::vector<std::string>& contexts) {
  auto reports = eventlog::DescribeEventTopics(brokers, client_config, contexts, absl::Seconds(10));
  if (!reports.ok()) {
    log::Warn(absl::StrCat("Kafka topic settings not checked: ", reports.status().message()));
    return absl::OkStatus();
  }
  std::vector<std::string> fatal;
  for (const eventlog::TopicReport& r : *reports) {
    for (const eventlog::TopicProblem& p : r.problems) {
      if (p.fatal) {
        fatal.push_back(eventlog::ToString(p));
      } else {
        log::Warn(absl::StrCat("Kafka topic ", eventlog::ToString(p)));
      }
    }
  }
  if (!fatal.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Kafka topics that would lose events: ", absl::StrJoin(fatal, "; "),
        " (takt kafka topics check lists them; change them with kafka-configs.sh --alter)"));
  }
  return absl::OkStatus();
}

}  // namespace
namespace {

// What every answer gets on its way out:
//  - unary requests that do not decode reach no handler, and gRPC answers
//    INTERNAL with an empty message: say what it is, INVALID_ARGUMENT
//    naming the method (streams read their own messages: rpc.h
//    ServeBatches);
//  - the google.rpc details of an error that has none (WithErrorDetails),
//    whichever way the handler built its status.
class AnswerInterceptor final : public grpc::experimental::Interceptor {
 public:
  // One log line per method that met an undecodable request (a client
  // built against other protos), not one per request.
  static void LogOnce(const std::string& method) {
    static absl::Mutex mu(absl::kConstInit);
    static auto* logged = new absl::flat_hash_set<std::string>();
    absl::MutexLock lock(&mu);
    if (logged->insert(method).second) {
      log::Warn(absl::StrCat("refusing requests to ", method,
                             " that do not decode (a client built against other protos?)"));
    }
  }

  AnswerInterceptor(std::string method, bool reads_request)
      : method_(std::move(method)), reads_request_(reads_request), request_(RequestType(method_)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status s = m->GetSendStatus();
      if (reads_request_ && s.error_code() == grpc::StatusCode::INTERNAL &&
          (s.error_message().empty() || s.error_message() == "No payload")) {
        // gRPC's own deserialization failure (proto_utils.h GenericDeserialize).
        LogOnce(method_);
        m->ModifySendStatus(ToGrpc(WithReason(
            absl::InvalidArgumentError(
                absl::StrCat("the request to ", method_, " does not decode (malformed protobuf)")),
            "MALFORMED_REQUEST")));
      } else if (!s.ok()) {
        // A field violation names a field of this method's request, or none.
        m->ModifySendStatus(KeepFieldsOf(WithErrorDetails(s), request_));
      }
    }
    m->Proceed();
  }

 private:
  // "/pkg.Service/Method" -> the method's input type, or null.
  static const google::protobuf::Descriptor* RequestType(const std::string& method) {
    std::string full = method.size() > 1 ? method.substr(1) : "";
    std::replace(full.begin(), full.end(), '/', '.');
    const auto* m = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
    return m == nullptr ? nullptr : m->input_type();
  }

  const std::string method_;
  const bool reads_request_;
  const google::protobuf::Descriptor* const request_;
};

class AnswerInterceptors final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const auto type = info->type();
    return new AnswerInterceptor(info->method() != nullptr ? info->method() : "",
                                 type == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                                     type == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING);
  }
};

// The log's write statistics (eventlog::LogStats) as metrics.
void AddLogMetrics(const eventlog::EventLog& log, metrics::Families& out) {
  const eventlog::LogStats& st = log.stats();
  out.Counter("takt_log_writes_total", "Durable writes of the event log (group commits).", {},
              static_cast<double>(st.writes.value()));
  out.Counter("takt_log_write_failures_total", "Durable writes that failed (nothing of them acknowledged).", {},
              static_cast<double>(st.failed_writes.value()));
  out.Counter("takt_log_events_total", "Events made durable.", {}, static_cast<double>(st.events.value()));
  out.Histogram("takt_log_group_events", "Events per durable write (group-commit size).", {},
                st.group_events.Read());
  out.Histogram("takt_log_write_duration_seconds",
                "Time of one durable write: the write and its fsync, or a Kafka transaction.", {},
                st.write_seconds.Read());
  if (auto health = log.StoreHealth()) metrics::AddStorageHealth(*health, "log", out);
  out.Counter("takt_kafka_client_errors_total",
              "Errors librdkafka reported on this process's Kafka clients, and failed reads (0 on the embedded log).",
              {}, static_cast<double>(eventlog::KafkaClientErrors().value()));
}

// Every RPC counted and timed, by method and status code:
// takt_rpc_requests_total{method,code}, takt_rpc_duration_seconds{method}.
class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RpcMetricsInterceptor(const char* method) : method_(method), started_(absl::Now()) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
    if (m->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      static auto& total = prometheus::BuildCounter()
                               .Name("takt_rpc_requests_total")
                               .Help("gRPC calls served (HTTP routes included), by method and status code.")
                               .Register(metrics::Registry());
      static auto& seconds = prometheus::BuildHistogram()
                                 .Name("takt_rpc_duration_seconds")
                                 .Help("Time from a call's start to its status (whole streams for streaming calls).")
                                 .Register(metrics::Registry());
      static const prometheus::Histogram::BucketBoundaries kBuckets = {
          0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
      const grpc::Status s = m->GetSendStatus();
      total.Add({{"method", method_}, {"code", kCodeNames[std::min<int>(s.error_code(), 16)]}}).Increment();
      seconds.Add({{"method", method_}}, kBuckets).Observe(absl::ToDoubleSeconds(absl::Now() - started_));
    }
    m->Proceed();
  }

 private:
  static constexpr const char* kCodeNames[] = {
      "OK",           "CANCELLED",         "UNKNOWN",            "INVALID_ARGUMENT",    "DEADLINE_EXCEEDED",
      "NOT_FOUND",    "ALREADY_EXISTS",    "PERMISSION_DENIED",  "RESOURCE_EXHAUSTED",  "FAILED_PRECONDITION",
      "ABORTED",      "OUT_OF_RANGE",      "UNIMPLEMENTED",      "INTERNAL",            "UNAVAILABLE",
      "DATA_LOSS",    "UNAUTHENTICATED"};
  const std::string method_;
  const absl::Time started_;
};

class RpcMetricsInterceptors final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    // The label is a method this binary knows: a client's made-up paths
    // (answered UNIMPLEMENTED) share one, so they cannot grow the series.
    std::string name = info->method() != nullptr ? std::string(info->method()) : std::string();
    std::string full = name.size() > 1 ? name.substr(1) : "";
    std::replace(full.begin(), full.end(), '/', '.');
    const bool known = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full) != nullptr;
    return new RpcMetricsInterceptor(known ? name.c_str() : "unknown");
  }
};

// takt.operations.v1.OperationsService: backups, for administrators.
class OperationsService final : public takt::operations::v1::OperationsService::Service {
 public:
  OperationsService(TaktServer* server, model::ModelStore* models, std::string backup_root)
      : server_(server), models_(models), backup_root_(std::move(backup_root)) {}
  grpc::Status Backup(grpc::ServerContext* ctx, const takt::operations::v1::BackupRequest* request,
                      takt::operations::v1::BackupResponse* response) override {
    if (auto a = Authorize(ctx, *models_, auth::Permission::kAdminister, auth::Scope::Enterprise()); !a.ok()) {
      return a;
    }
    // Only under the directory the operator named (--backup-root): the copy
    // holds the signing and personal-data keys.
    if (backup_root_.empty()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "this server takes no backups over the network: start it with --backup-root DIR");
    }
    std::error_code ec;
    const std::string root = std::filesystem::weakly_canonical(backup_root_, ec).string() + "/";
    const std::string dir = std::filesystem::weakly_canonical(request->dir(), ec).string();
    if (!std::filesystem::path(request->dir()).is_absolute() || !absl::StartsWith(dir, root) ||
        dir.find('/', root.size()) != std::string::npos) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          absl::StrCat("a backup goes to a new directory directly under --backup-root ", backup_root_,
                                       ", not ", request->dir().substr(0, 200)));
    }
    auto r = server_->Backup(request->dir());
    if (!r.ok()) return ToGrpc(r.status());
    response->set_dir(r->dir);
    for (const std::string& p : r->parts) response->add_parts(p);
    response->set_bytes(r->bytes);
    response->set_created(absl::FormatTime(absl::RFC3339_sec, r->created, absl::UTCTimeZone()));
    response->set_log_included(r->log_included);
    log::Info(absl::StrCat("backup to ", r->dir, " by ", Actor(ctx), ": ", absl::StrJoin(r->parts, ", "), ", ",
                           r->bytes, " bytes"));
    return grpc::Status::OK;
  }

 private:
  TaktServer* server_;
  model::ModelStore* models_;
  const std::string backup_root_;
};

uint64_t BytesUnder(const std::filesystem::path& dir) {
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += it->file_size(ec);
  }
  return bytes;
}

class Server final : public TaktServer, public Health {
 public:
  ~Server() override { Shutdown(); }

  absl::Status Init(const ServerOptions& options, const std::vector<ModuleInfo>& registry) {
    options_ = options;
    TAKT_RETURN_IF_ERROR(auth::CheckTransport(options.security));  // before anything is opened
    TAKT_ASSIGN_OR_RETURN(const std::vector<std::string> names,
                          ResolveServices(options.services, !options.kafka_brokers.empty(), registry));
    std::vector<const ModuleInfo*> running;
    std::vector<es::ContextDescriptor> contexts;
    for (const ModuleInfo& m : registry) {
      // Every module's element families, wherever the rollups run.
      for (const kpi::FamilyRegistration& f : m.families) {
        if (kpi::FindFamily(f.family.name) != nullptr) continue;  // an earlier server here
        absl::Status registered = kpi::RegisterFamily(f);
        if (!registered.ok()) {
          return absl::Status(registered.code(), absl::StrCat(m.name, ": ", registered.message()));
        }
      }
      for (const es::ContextDescriptor& c : m.owns) contexts.push_back(c);
      if (std::find(names.begin(), names.end(), m.name) != names.end()) running.push_back(&m);
    }
    // What this process writes, and what it reads without writing: every
    // process reads the enterprise model.
    std::set<std::string> owns, reads = {model::kEnterpriseContext};
    for (const ModuleInfo* m : running) {
      if (!m->writes || m->writes(options)) {
        for (const es::ContextDescriptor& c : m->owns) owns.insert(c.name);
      }
      for (const std::string& c : m->reads) reads.insert(c);
      if (m->reads_all) {
        for (const es::ContextDescriptor& c : contexts) reads.insert(c.name);
      }
    }
    for (const std::string& c : owns) reads.erase(c);
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
      ko.contexts.assign(owns.begin(), owns.end());
      ko.read_contexts.assign(reads.begin(), reads.end());
      ko.signing_key_path = options.data_dir + "/keys/checkpoint.key";
      ko.client_config = options.kafka_config;
      // Before the log opens: opening takes the transactional id (fencing a
      // running writer with the same owner) and reads the partitions.
      std::vector<std::string> used = ko.contexts;
      used.insert(used.end(), ko.read_contexts.begin(), ko.read_contexts.end());
      TAKT_RETURN_IF_ERROR(CheckKafkaTopics(ko.brokers, ko.client_config, used));
      TAKT_ASSIGN_OR_RETURN(log_, eventlog::OpenKafkaLog(ko));
    }
    models_ = std::make_unique<model::ModelStore>(log_.get());
    TAKT_RETURN_IF_ERROR(models_->Refresh());
    registry_ = registry;
    env_ = std::make_unique<Env>(log_.get(), models_.get(), &options_, &registry_, contexts,
                                 options.kafka_brokers.empty());
    // Where this process does not write the enterprise stream, it follows it.
    env_->set_follows_model(owns.count(model::kEnterpriseContext) == 0);
    for (const ModuleInfo* m : running) {
      std::unique_ptr<Module> module = m->create();
      absl::Status started = module->Start(*env_);
      if (!started.ok()) {
        return absl::Status(started.code(), absl::StrCat(m->name, ": ", started.message()));
      }
      modules_.push_back(std::move(module));
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
    SetStreamIdleTimeout(options.stream_idle_timeout);
    {
      std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
      creators.push_back(std::make_unique<AnswerInterceptors>());
      // Last: it counts the status as the interceptors before it left it.
      creators.push_back(std::make_unique<RpcMetricsInterceptors>());
      builder.experimental().SetInterceptorCreators(std::move(creators));
    }
    std::shared_ptr<auth::AuthProcessor> processor;
    TAKT_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                          auth::MakeServerCredentials(options.security, &processor));
    builder.AddListeningPort(options.listen, credentials, &port_);
    std::vector<ServiceEntry> services;
    std::set<std::string> facility_methods;
    std::vector<http::Route> routes;
    for (size_t i = 0; i < modules_.size(); ++i) {
      auto& module = modules_[i];
      // A module that appends is ready only while the log takes writes.
      const bool writes = !running[i]->owns.empty() && (!running[i]->writes || running[i]->writes(options));
      for (ServiceEntry& s : module->Services()) {
        if (writes) writer_services_.insert(s.name);
        builder.RegisterService(s.service);
        for (const std::string& m : s.facility_methods) facility_methods.insert(absl::StrCat("/", s.name, "/", m));
        service_names_.push_back(s.name);
        for (const HttpRoute& r : s.http) {
          routes.push_back({r.verb, r.path, absl::StrCat("/", s.name, "/", r.method)});
          if (!options.http_listen.empty()) http_routes_.push_back({r.verb, r.path, routes.back().method});
        }
        services.push_back(std::move(s));
      }
    }
    // The host's own service: backups.
    operations_ = std::make_unique<OperationsService>(this, models_.get(), options.backup_root);
    builder.RegisterService(operations_.get());
    service_names_.push_back(std::string(takt::operations::v1::OperationsService::service_full_name()));
    services.push_back({operations_.get(), service_names_.back()});
    // Reflection v1 beside gRPC's v1alpha (the plugin above): grpcurl and
    // buf curl ask v1 first.
    reflection_v1_ = std::make_unique<ReflectionV1Service>(service_names_);
    builder.RegisterService(reflection_v1_.get());
    if (processor != nullptr) processor->AllowFacilitySystems(std::move(facility_methods));
    if (options.security.insecure) {
      log::Warn("plaintext without authentication (--insecure): any client can read and write everything and "
                "actors are network addresses; use TLS (--tls-cert, --tls-key, --tls-client-ca, "
                "--jwt-public-key) beyond a demo or a test on one machine");
    }
    builder.SetMaxReceiveMessageSize(16 << 20);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.listen,
          ": the address is in use (another takt serve?) or not valid here"));
    }
    if (!options.http_listen.empty()) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(64 << 20);
      http::GatewayOptions http_options;
      http_options.listen = options.http_listen;
      http_options.security = options.security;
      if (!options.http_static.empty()) {
        http_options.static_dirs = {{"/", options.http_static},
                                    {"/lib/chart.js", "/usr/share/javascript/chart.js"}};
      }
      TAKT_ASSIGN_OR_RETURN(gateway_, http::Gateway::Start(http_options, std::move(routes),
                                                           server_->InProcessChannel(args)));
      log::Info(absl::StrCat("HTTP on port ", gateway_->port(), options.security.insecure ? " (plaintext)" : " (TLS)"));
    }
    for (const ServiceEntry& s : services) SetServing(s.name, s.serving_at_start);
    log_metrics_ = metrics::AddSource([this](metrics::Families& out) {
      AddLogMetrics(*log_, out);
      absl::MutexLock lock(&serving_mu_);
      for (const auto& [service, serving] : serving_) {
        out.Gauge("takt_service_serving", "1 while the gRPC service is SERVING (what /readyz and gRPC health say).",
                  {{"service", service}}, serving ? 1.0 : 0.0);
      }
    });
    if (!options.admin_listen.empty()) {
      http::AdminOptions admin;
      admin.listen = options.admin_listen;
      admin.metrics = [] { return metrics::Scrape(); };
      admin.readiness = [this] {
        absl::MutexLock lock(&serving_mu_);
        return std::vector<std::pair<std::string, bool>>(serving_.begin(), serving_.end());
      };
      TAKT_ASSIGN_OR_RETURN(admin_, http::AdminServer::Start(std::move(admin)));
      log::Info(absl::StrCat("metrics and probes on port ", admin_->port(), " (/metrics, /livez, /readyz)"));
    }
    for (auto& module : modules_) module->Run(*env_, *this);
    if (env_->follows_model()) follower_ = std::thread([this] { FollowLoop(); });
    if (!writer_services_.empty()) writable_watch_ = std::thread([this] { WritableLoop(); });
    log::Info(absl::StrCat("started on port ", port_, ": ", absl::StrJoin(names, ", "), "; ",
                           options.kafka_brokers.empty()
                               ? absl::StrCat("embedded log in ", options.data_dir)
                               : absl::StrCat("Kafka at ", options.kafka_brokers, ", owner ",
                                              options.owner_id, ", writes ",
                                              absl::StrJoin(owns, ","), ", reads ",
                                              absl::StrJoin(reads, ","))));
    return absl::OkStatus();
  }

  int port() const override { return port_; }
  std::vector<std::string> services() const override { return service_names_; }
  int http_port() const override { return gateway_ ? gateway_->port() : 0; }
  int admin_port() const override { return admin_ ? admin_->port() : 0; }
  std::vector<HttpRoute> http_routes() const override { return http_routes_; }
  void Wait() override { server_->Wait(); }

  void Shutdown() override {
    if (stopped_.exchange(true)) return;
    log_metrics_ = metrics::Registration();  // reads log_ and serving_
    // Not ready at once (probes route new work elsewhere), then no new
    // calls; those in flight get the grace period, then are cancelled.
    {
      absl::MutexLock lock(&serving_mu_);
      for (auto& [name, serving] : serving_) serving = false;
    }
    if (gateway_) gateway_->Stop();
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() +
                        std::chrono::microseconds(absl::ToInt64Microseconds(options_.shutdown_grace)));
    }
    for (auto& module : modules_) module->Stop();
    if (follower_.joinable()) follower_.join();
    if (writable_watch_.joinable()) writable_watch_.join();
    if (admin_) admin_->Stop();
    if (server_) log::Info(absl::StrCat("stopped (port ", port_, ")"));
  }

  absl::Status WaitForProjection(absl::Duration timeout) override {
    const absl::Time deadline = absl::Now() + timeout;
    for (auto& module : modules_) {
      TAKT_RETURN_IF_ERROR(module->WaitCaughtUp(deadline - absl::Now()));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<BackupResult> Backup(const std::string& dir) override {
    namespace fs = std::filesystem;
    const fs::path out(dir);
    std::error_code ec;
    absl::MutexLock lock(&backup_mu_);  // one at a time: the checks below hold until the copy is made
    if (dir.empty() || !out.is_absolute()) {
      return absl::InvalidArgumentError(absl::StrCat("backup directory '", dir, "' must be an absolute path"));
    }
    if (fs::exists(out, ec)) {
      return absl::AlreadyExistsError(absl::StrCat("backup directory ", dir, " exists: a backup goes to a new one"));
    }
    if (!fs::is_directory(out.parent_path(), ec)) {
      return absl::InvalidArgumentError(absl::StrCat("the parent of ", dir, " is not a directory"));
    }
    const std::string data = fs::weakly_canonical(options_.data_dir, ec).string() + "/";
    if (absl::StartsWith(fs::weakly_canonical(out, ec).string() + "/", data)) {
      return absl::InvalidArgumentError(absl::StrCat(dir, " is inside the data directory ", options_.data_dir));
    }
    BackupResult r;
    r.dir = dir;
    r.created = absl::Now();
    auto fail = [&](absl::Status s) {
      fs::remove_all(out, ec);
      return absl::Status(s.code(), absl::StrCat("backup to ", dir, ": ", s.message(), "; nothing was kept"));
    };
    if (!fs::create_directory(out, ec)) {
      return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec ? ec.message() : "it exists"));
    }
    // Keys inside: only the server's user may read the copy.
    fs::permissions(out, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (options_.kafka_brokers.empty()) {
      if (absl::Status s = log_->Backup(dir + "/log"); !s.ok()) return fail(s);
      r.log_included = true;
    }
    fs::copy(options_.data_dir + "/keys", dir + "/keys", fs::copy_options::recursive, ec);
    if (ec) return fail(absl::UnavailableError(absl::StrCat("copying the signing keys: ", ec.message())));
    for (auto& module : modules_) {
      if (absl::Status s = module->Backup(dir); !s.ok()) return fail(s);
    }
    for (const auto& entry : fs::directory_iterator(out, ec)) r.parts.push_back(entry.path().filename().string());
    std::sort(r.parts.begin(), r.parts.end());
    nlohmann::json manifest = {{"format", "takt-backup-1"},
                               {"created", absl::FormatTime(absl::RFC3339_sec, r.created, absl::UTCTimeZone())},
                               {"parts", r.parts},
                               {"log_included", r.log_included},
                               {"data_dir", options_.data_dir},
                               {"kafka_brokers", options_.kafka_brokers}};
    {
      std::ofstream f(dir + "/MANIFEST.json");
      f << manifest.dump(2) << "\n";
      if (!f.good()) return fail(absl::UnavailableError("writing MANIFEST.json"));
    }
    r.bytes = BytesUnder(out);
    return r;
  }

  // What a module says of its service; the service is SERVING when that
  // holds and, for a service that appends, the log takes writes.
  void SetServing(std::string_view service, bool serving) override {
    {
      absl::MutexLock lock(&serving_mu_);
      wanted_[std::string(service)] = serving;
    }
    Publish(std::string(service));
  }


 private:
  // The readiness of `service` from what its module wants and the log's
  // write health, to gRPC health, /readyz and takt_service_serving.
  void Publish(const std::string& service) {
    // One at a time, so that gRPC health ends with what serving_ says.
    absl::MutexLock publishing(&publish_mu_);
    bool serving;
    {
      absl::MutexLock lock(&serving_mu_);
      serving = !stopped_ && wanted_[service] && (writable_problem_.empty() || !writer_services_.contains(service));
      serving_[service] = serving;
    }
    if (server_ && server_->GetHealthCheckService() != nullptr) {
      server_->GetHealthCheckService()->SetServingStatus(service, serving);
    }
  }

  // Asks the log every 2 s whether it takes writes (a storage error,
  // stopped writes, no Kafka broker answering, fenced): the services that
  // append are NOT_SERVING while it does not (after 3 answers in a row, so
  // a blip does not flap them), so probes route writes elsewhere and
  // operators see why in the server's log; SERVING again at the first
  // good answer.
  void WritableLoop() {
    int failures = 0;
    while (!stopped_) {
      const absl::Status s = log_->CheckWritable(absl::Seconds(2));
      failures = s.ok() ? 0 : failures + 1;
      bool changed = false;
      std::string problem;
      if (s.ok() || failures >= 3) {
        problem = s.ok() ? "" : std::string(s.message());
        absl::MutexLock lock(&serving_mu_);
        changed = problem.empty() != writable_problem_.empty();  // a state change, not another wording
        writable_problem_ = problem;
      }
      if (changed) {
        if (problem.empty()) {
          log::Info("the event log takes writes again: the services that append are ready");
        } else {
          log::Warn(absl::StrCat("the event log does not take writes (", problem,
                                 "): the services that append are NOT_SERVING until it does"));
        }
        for (const std::string& service : writer_services_) Publish(service);
      }
      for (int i = 0; i < 20 && !stopped_; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  }

  // Keeps the model of a process that does not write it close to the log
  // (ingest also refreshes on demand when it meets an unknown name).
  void FollowLoop() {
    std::string failing;
    while (!stopped_) {
      absl::Status s = models_->Refresh();
      const std::string error = s.ok() ? "" : std::string(s.message());
      if (error != failing) {
        if (error.empty()) {
          log::Info("enterprise model: following the log again");
        } else {
          log::Warn(absl::StrCat("enterprise model: cannot follow the log (", error, "); retrying"));
        }
        failing = error;
      }
      for (int i = 0; i < 5 && !stopped_; ++i) absl::SleepFor(absl::Milliseconds(100));
    }
  }

  static constexpr int kMaxServerThreads = 256;

  ServerOptions options_;
  std::vector<ModuleInfo> registry_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<model::ModelStore> models_;
  std::unique_ptr<Env> env_;
  std::vector<std::unique_ptr<Module>> modules_;
  std::unique_ptr<OperationsService> operations_;  // outlives server_
  std::unique_ptr<ReflectionV1Service> reflection_v1_;  // outlives server_
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::vector<std::string> service_names_;
  std::unique_ptr<http::Gateway> gateway_;
  std::vector<HttpRoute> http_routes_;
  metrics::Registration log_metrics_;  // reads log_: declared after it, destroyed before it
  std::unique_ptr<http::AdminServer> admin_;
  absl::Mutex backup_mu_;
  absl::Mutex serving_mu_;
  std::map<std::string, bool> serving_ ABSL_GUARDED_BY(serving_mu_);  // readiness, as gRPC health says
  std::map<std::string, bool> wanted_ ABSL_GUARDED_BY(serving_mu_);   // what the modules say
  std::string writable_problem_ ABSL_GUARDED_BY(serving_mu_);          // empty: the log takes writes
  absl::Mutex publish_mu_;  // Publish: taken before serving_mu_
  std::set<std::string> writer_services_;  // services of modules that append; set before the server starts
  std::thread writable_watch_;
  std::thread follower_;
  std::atomic<bool> stopped_{false};
};

}  // namespace

absl::StatusOr<ReadRecording> ParseReadRecording(const std::string& list) {
  ReadRecording r{false, false, false};
  if (list == "none") return r;
  if (absl::StripAsciiWhitespace(list).empty()) {
    return absl::InvalidArgumentError("--record-reads is empty: name what to record, or none");
  }
  for (absl::string_view raw : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    const absl::string_view item = absl::StripAsciiWhitespace(raw);
    if (item == "audit") {
      r.audit = true;
    } else if (item == "personal-data") {
      r.personal_data = true;
    } else if (item == "kpis") {
      r.kpis = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--record-reads: '", item,
                                                     "' is not one of audit, personal-data, kpis (or none)"));
    }
  }
  return r;
}

absl::StatusOr<std::vector<std::string>> ResolveServices(const std::vector<std::string>& services,
                                                         bool kafka,
                                                         const std::vector<ModuleInfo>& modules) {
  std::vector<std::string> all;
  for (const ModuleInfo& m : modules) all.push_back(m.name);
  std::vector<std::string> out;
  for (const std::string& s : services) {
    if (std::find(all.begin(), all.end(), s) == all.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown service '", s, "' (services are ",
                                                     absl::StrJoin(all, ", "), ")"));
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  if (out.empty()) out = all;
  if (out.size() < all.size() && !kafka) {
    return absl::InvalidArgumentError(
        "running a subset of the services needs --kafka-brokers: the embedded log belongs to "
        "one process, which runs all services");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<TaktServer>> TaktServer::Start(
    const ServerOptions& options, const std::vector<ModuleInfo>& modules) {
  auto server = std::make_unique<Server>();
  TAKT_RETURN_IF_ERROR(server->Init(options, modules));
  return std::unique_ptr<TaktServer>(std::move(server));
}

}  // namespace takt::host
