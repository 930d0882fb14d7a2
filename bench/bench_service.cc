#include "bench/bench_service.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/kafka_log.h"
#include "libs/eventlog/kafka_mock.h"
#include "services/scheduling/rollup_projection.h"
#include "services/rollups/query.h"
#include "services/registry.h"
#include "services/scheduling/sim/simulator.h"
#include "libs/model/model_store.h"
#include "services/enterprise/definitions.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"
#include "libs/auth/test_certs.h"

namespace takt::cli {
namespace {

sim::Simulation SimulateFor(int facilities, int days) {
  sim::SimOptions so;
  so.facilities = facilities;
  so.days = days;
  so.start = absl::CivilDay(2026, 1, 5);
  return sim::Simulate(so);
}

double CpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Streamed {
  uint64_t acked = 0;
  double seconds = 0;
};

// The gateways: the simulation's batches over `streams` connections
// (facilities spread over them), each with a writer and a reader of acks.
absl::StatusOr<Streamed> StreamSimulation(const std::shared_ptr<grpc::Channel>& channel,
                                          const sim::Simulation& s, int streams) {
  std::vector<std::vector<const scheduling::v1::ObservationBatch*>> per_stream(streams);
  std::map<std::string, int> stream_of;
  for (const auto& b : s.batches) {
    auto [it, inserted] = stream_of.emplace(b.facility(), static_cast<int>(stream_of.size()) % streams);
    per_stream[it->second].push_back(&b);
  }
  std::atomic<uint64_t> acked{0};
  absl::Mutex failed_mu;
  std::string failed;  // the first stream's error
  const absl::Time t0 = absl::Now();
  std::vector<std::thread> clients;
  for (int c = 0; c < streams; ++c) {
    clients.emplace_back([&, c] {
      auto stub = scheduling::v1::FacilityIngestService::NewStub(channel);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(30));  // never hangs a benchmark
      auto stream = stub->StreamObservations(&ctx);
      std::thread writer([&] {
        for (const auto* b : per_stream[c]) {
          if (!stream->Write(*b)) break;
        }
        stream->WritesDone();
      });
      scheduling::v1::IngestAck ack;
      while (stream->Read(&ack)) acked += ack.accepted() + ack.duplicates();
      writer.join();
      if (grpc::Status st = stream->Finish(); !st.ok()) {
        absl::MutexLock lock(&failed_mu);
        if (failed.empty()) failed = st.error_message();
      }
    });
  }
  for (auto& t : clients) t.join();
  if (!failed.empty()) return absl::InternalError(absl::StrCat("an ingest stream failed: ", failed));
  return Streamed{acked.load(), absl::ToDoubleSeconds(absl::Now() - t0)};
}

// Runs `takt bench ingest-clients` against `port`: the clients' figures and
// their CPU seconds. `window` gets this process's CPU seconds (the server's)
// from the clients' "start" to their figures, and `started` the moment of
// "start".
struct ServerWindow {
  absl::Time started;
  double cpu_seconds = 0;
};
absl::StatusOr<std::pair<Streamed, double>> StreamFromChild(const BenchIngestOptions& o, int port,
                                                             ServerWindow* window) {
  // Everything the child needs is built before fork(): after it, only
  // async-signal-safe calls until exec.
  std::vector<std::string> args = {"takt",          "bench",
                                   "ingest-clients", "--target",
                                   absl::StrCat("127.0.0.1:", port), "--facilities",
                                   std::to_string(o.facilities), "--days",
                                   std::to_string(o.days), "--streams",
                                   std::to_string(o.streams)};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return absl::InternalError("pipe");
  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return absl::InternalError("fork");
  }
  if (pid == 0) {
    dup2(out[1], 1);  // dup2 clears close-on-exec on the copies
    dup2(out[1], 2);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char buffer[4096];
  double cpu_at_start = -1;
  for (;;) {
    const ssize_t n = read(out[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (cpu_at_start < 0 && text.find("start\n") != std::string::npos) {
      window->started = absl::Now();
      cpu_at_start = CpuSeconds();
    }
    if (cpu_at_start >= 0 && window->cpu_seconds == 0 && text.find("}\n") != std::string::npos) {
      window->cpu_seconds = CpuSeconds() - cpu_at_start;  // the figures are in: the clients are done
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError("waitpid");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("takt bench ingest-clients failed: ", text.substr(0, 1000)));
  }
  const size_t line = text.rfind("\n{");
  nlohmann::json j =
      nlohmann::json::parse(line == std::string::npos ? "" : text.substr(line + 1), nullptr, false);
  if (!j.is_object()) return absl::InternalError(absl::StrCat("takt bench ingest-clients said: ", text.substr(0, 1000)));
  return std::make_pair(Streamed{j.value("acked", uint64_t{0}), j.value("seconds", 0.0)}, j.value("cpu_seconds", 0.0));
}

}  // namespace

absl::Status RunIngestClients(const BenchClientsOptions& o, std::ostream& out) {
  const sim::Simulation s = SimulateFor(o.facilities, o.days);
  auto channel = grpc::CreateChannel(o.target, grpc::InsecureChannelCredentials());
  out << "start" << std::endl;
  const double cpu0 = CpuSeconds();
  TAKT_ASSIGN_OR_RETURN(Streamed streamed, StreamSimulation(channel, s, o.streams));
  out << nlohmann::json{{"acked", streamed.acked}, {"seconds", streamed.seconds}, {"cpu_seconds", CpuSeconds() - cpu0}}
             .dump()
      << std::endl;
  return absl::OkStatus();
}
absl::StatusOr<std::vector<BenchResult>> RunIngestBenchmark(const BenchIngestOptions& o) {
  const std::string dir = BenchTempDir("ingest");
  if (o.clients_process && o.tls) return absl::InvalidArgumentError("--clients-process runs without --tls");
  sim::Simulation s = SimulateFor(o.facilities, o.days);  // generated before the clock starts
  std::vector<BenchResult> results;
  std::unique_ptr<eventlog::KafkaMockCluster> kafka;
  if (o.kafka_mock && o.facilities * o.days > 12) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--kafka-mock keeps about 5 MiB per partition and drops older records beyond it: run at most 12 "
        "plant-days (e.g. --facilities 6 --days 2), not ", o.facilities, " x ", o.days));
  }
  if (o.kafka_mock) {
    TAKT_ASSIGN_OR_RETURN(kafka, eventlog::KafkaMockCluster::Start(1));
    TAKT_RETURN_IF_ERROR(kafka->CreateTopics(services::ContextNames(), 4));
  }
  {
    host::ServerOptions opts;
    opts.data_dir = dir;
    opts.listen = "127.0.0.1:0";
    if (kafka) {
      opts.kafka_brokers = kafka->bootstrap_servers();
      opts.owner_id = "bench";
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (o.tls) {
      const auth::testing::Pem ca = auth::testing::MakeCa("takt bench CA");
      const auth::testing::Pem server_pem = auth::testing::MakeCertificate(ca, "service:takt");
      const auth::testing::Pem client = auth::testing::MakeCertificate(ca, "service:bench");
      std::filesystem::create_directories(dir + "/tls");
      auth::testing::WriteFile(dir + "/tls/ca.pem", ca.cert);
      auth::testing::WriteFile(dir + "/tls/server.pem", server_pem.cert);
      auth::testing::WriteFile(dir + "/tls/server.key", server_pem.key);
      opts.security.cert_file = dir + "/tls/server.pem";
      opts.security.key_file = dir + "/tls/server.key";
      opts.security.client_ca_file = dir + "/tls/ca.pem";
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ca.cert;
      ssl.pem_cert_chain = client.cert;
      ssl.pem_private_key = client.key;
      credentials = grpc::SslCredentials(ssl);
    } else {
      opts.security.insecure = true;  // a loopback benchmark
    }
    TAKT_ASSIGN_OR_RETURN(auto server, services::StartServer(opts));
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()), credentials);
    {
      auto stub = enterprise::v1::EnterpriseService::NewStub(channel);
      grpc::ClientContext ctx;
      enterprise::v1::ApplyDefinitionsResponse resp;
      grpc::Status st = stub->ApplyDefinitions(&ctx, s.enterprise, &resp);
      if (!st.ok()) return absl::InternalError(st.error_message());
    }
    absl::Time t0 = absl::Now();
    Streamed streamed;
    double server_cpu = 0, clients_cpu = 0;
    if (o.clients_process) {
      ServerWindow window;
      TAKT_ASSIGN_OR_RETURN(auto child, StreamFromChild(o, server->port(), &window));
      t0 = window.started;
      streamed = child.first;
      clients_cpu = child.second;
      server_cpu = window.cpu_seconds;
    } else {
      TAKT_ASSIGN_OR_RETURN(streamed, StreamSimulation(channel, s, o.streams));
    }
    const uint64_t acked = streamed.acked;
    const double ingest_s = streamed.seconds;
    // Lag at the moment the last acknowledgement arrived.
    uint64_t lag = 0;
    {
      auto stub = rollups::v1::RollupService::NewStub(channel);
      rollups::v1::QueryKpisRequest req;
      req.set_from("2026-01-05");
      req.set_to("2026-01-05");
      grpc::ClientContext ctx;
      rollups::v1::QueryKpisResponse resp;
      if (stub->QueryKpis(&ctx, req, &resp).ok()) lag = resp.lag_events();
    }
    TAKT_RETURN_IF_ERROR(server->WaitForProjection(absl::Minutes(10)));
    const double end_to_end_s = absl::ToDoubleSeconds(absl::Now() - t0);
    const std::string suffix = std::string(o.tls ? "_tls" : "") + (kafka ? "_kafka_mock" : "") +
                               (o.clients_process ? "_clients_apart" : "");
    BenchResult ingest{"ingest_durable_acks" + suffix, acked / ingest_s, 0, 0, 0, acked, ingest_s};
    BenchResult e2e{"ingest_end_to_end_projected" + suffix, acked / end_to_end_s, 0, 0, 0, acked,
                    end_to_end_s};
    e2e.appends_per_second = static_cast<double>(lag);  // reported as lag below
    results.push_back(ingest);
    results.push_back(e2e);
    if (o.clients_process) {
      // Observations per CPU-second of each side during the ingest (the
      // server's from the clients' start to their last ack).
      results.push_back(BenchResult{"ingest_server_cpu" + suffix, acked / std::max(server_cpu, 1e-9), 0, 0, 0,
                                    acked, server_cpu});
      results.push_back(BenchResult{"ingest_clients_cpu" + suffix, acked / std::max(clients_cpu, 1e-9), 0, 0, 0,
                                    acked, clients_cpu});
    }
    server->Shutdown();
  }
  // Rebuild: a fresh store from the whole log.
  {
    std::unique_ptr<eventlog::EventLog> log;
    if (kafka) {
      eventlog::KafkaLogOptions ko;
      ko.brokers = kafka->bootstrap_servers();
      ko.read_contexts = {"enterprise", "scheduling"};
      ko.signing_key_path = dir + "/keys/rebuild.key";
      TAKT_ASSIGN_OR_RETURN(log, eventlog::OpenKafkaLog(ko));
    } else {
      eventlog::EmbeddedLogOptions lo;
      lo.data_dir = dir;
      TAKT_ASSIGN_OR_RETURN(log, eventlog::OpenEmbeddedLog(lo));
    }
    model::ModelStore models(log.get());
    TAKT_RETURN_IF_ERROR(models.Refresh());
    TAKT_ASSIGN_OR_RETURN(auto store, rollup::RollupStore::Open(dir + "/rebuild"));
    scheduling::Projection p(log.get(), store.get(), [&](const std::string& f) { return models.Calendar(f); });
    TAKT_RETURN_IF_ERROR(p.Start());
    absl::Time t0 = absl::Now();
    absl::Time last = t0;
    uint64_t n = 0;
    // Kafka's consumer fetches in the background: wait for its first
    // records (the time counts), then as long as records keep coming.
    const absl::Duration idle = kafka ? absl::Milliseconds(300) : absl::ZeroDuration();
    for (;;) {
      // Timed to the last applied batch, not to the final idle poll.
      TAKT_ASSIGN_OR_RETURN(size_t step, p.Step(idle));
      if (step == 0 && (n > 0 || !kafka || absl::Now() - t0 > absl::Seconds(30))) break;
      n += step;
      if (step > 0) last = absl::Now();
    }
    const double secs = absl::ToDoubleSeconds(last - t0);
    if (n == 0 || secs <= 0) return absl::InternalError("the rebuild read no events from the log");
    results.push_back(BenchResult{std::string("projection_rebuild") + (kafka ? "_kafka_mock" : ""), n / secs, 0,
                                  0, 0, n, secs});
  }
  std::filesystem::remove_all(dir);
  return results;
}

absl::StatusOr<std::vector<BenchResult>> RunQueryBenchmark(const BenchQueryOptions& o) {
  namespace ev1 = ::takt::enterprise::v1;
  if (!o.keep_data.empty() && std::filesystem::exists(o.keep_data) && !std::filesystem::is_empty(o.keep_data)) {
    return absl::FailedPreconditionError(absl::StrCat("--keep-data ", o.keep_data, " is not empty"));
  }
  const std::string dir = o.keep_data.empty() ? BenchTempDir("query") : o.keep_data;
  std::vector<BenchResult> results;
  const absl::CivilDay first(2026, 1, 5);
  const char* zones[] = {"America/Chicago", "Europe/Berlin", "Asia/Shanghai", "America/Sao_Paulo",
                         "Asia/Kolkata"};
  {
    // The enterprise, through the model store (events in the log).
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
    model::ModelStore models(log.get());
    std::vector<std::unique_ptr<google::protobuf::Message>> defs;
    for (int r = 0; r < 5; ++r) {
      auto d = std::make_unique<ev1::RegionDefined>();
      d->set_region(absl::StrCat("region-", r));
      defs.push_back(std::move(d));
    }
    for (int f = 0; f < o.facilities; ++f) {
      const std::string id = absl::StrCat("plant-", f);
      auto fd = std::make_unique<ev1::FacilityDefined>();
      fd->set_facility(id);
      fd->mutable_calendar()->set_time_zone(zones[f % 5]);
      fd->mutable_calendar()->set_day_start("06:00");
      defs.push_back(std::move(fd));
      auto mv = std::make_unique<ev1::FacilityMoved>();
      mv->set_facility(id);
      mv->set_region(absl::StrCat("region-", f % 5));
      mv->set_effective_from("2000-01-01");
      defs.push_back(std::move(mv));
      auto a = std::make_unique<ev1::AreaDefined>();
      a->set_facility(id);
      a->set_area("a");
      defs.push_back(std::move(a));
      auto w = std::make_unique<ev1::WorkCenterDefined>();
      w->set_facility(id);
      w->set_area("a");
      w->set_work_center("wc");
      defs.push_back(std::move(w));
      for (int u = 0; u < o.units; ++u) {
        auto wu = std::make_unique<ev1::WorkUnitDefined>();
        wu->set_facility(id);
        wu->set_work_center("wc");
        wu->set_work_unit(absl::StrCat("u", u));
        defs.push_back(std::move(wu));
      }
    }
    ev1::ApplyDefinitionsRequest apply;
    apply.set_request_id("bench-query-setup");
    const auto* kinds = ev1::Definition::descriptor();
    for (auto& d : defs) {
      ev1::Definition* out = apply.add_definitions();
      for (int k = 0; k < kinds->field_count(); ++k) {
        if (kinds->field(k)->message_type() == d->GetDescriptor()) {
          out->GetReflection()->MutableMessage(out, kinds->field(k))->CopyFrom(*d);
        }
      }
    }
    TAKT_RETURN_IF_ERROR(
        enterprise::Definitions(log.get(), &models).Apply(apply, {"bench", absl::Now()}).status());
    // Hourly element rows for every unit, written straight into the store
    // (the format the projection writes; loading 90 days through ingest
    // would take minutes and measure ingest, not queries).
    TAKT_ASSIGN_OR_RETURN(auto store, rollup::RollupStore::Open(dir + "/rollups"));
    std::mt19937_64 rng(5);
    const absl::Time t_begin = absl::FromCivil(absl::CivilSecond(first), absl::UTCTimeZone()) - absl::Hours(24);
    const int hours = 24 * (o.days + 2);
    for (int f = 0; f < o.facilities; ++f) {
      const kpi::FacilityCalendar* cal = models.Calendar(absl::StrCat("plant-", f));
      std::vector<rollup::UnitHourDelta> batch;
      for (int u = 0; u < o.units; ++u) {
        for (int h = 0; h < hours; ++h) {
          kpi::ElementSums s;
          const int64_t apt = 2'400'000'000LL + static_cast<int64_t>(rng() % 1'000'000'000);
          s[kpi::Element::kPbt] = 3'600'000'000LL;
          s[kpi::Element::kApt] = apt;
          s[kpi::Element::kAdet] = 3'600'000'000LL - apt;
          s[kpi::Element::kPriPq] = apt * 9 / 10;
          s[kpi::Element::kPriGq] = apt * 87 / 100;
          s[kpi::Element::kPq] = apt / 40'000'000;
          s[kpi::Element::kGq] = apt / 41'000'000;
          const absl::Time hour = cal->HourStart(t_begin + absl::Hours(h));
          batch.push_back({absl::StrCat("plant-", f), absl::StrCat("u", u), hour, s,
                           cal->ProductionDay(hour)});
        }
      }
      TAKT_RETURN_IF_ERROR(store->Apply(batch, "scheduling", {}, false));
    }
    TAKT_RETURN_IF_ERROR(store->Compact());
  }
  // Serve it, and query in-process (server side) and over gRPC (client side).
  host::ServerOptions opts;
  opts.security.insecure = true;  // a loopback benchmark
  opts.data_dir = dir;
  opts.listen = "127.0.0.1:0";
  opts.http_listen = "127.0.0.1:0";
  TAKT_ASSIGN_OR_RETURN(auto server, services::StartServer(opts));
  auto stub = rollups::v1::RollupService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server->port()), grpc::InsecureChannelCredentials()));
  struct Kind {
    const char* name;
    int days;
    const char* by;
  };
  // With three years loaded (--days 1096 or more): a region's monthly OEE
  // trend over all of them, what a director's long view asks.
  std::vector<Kind> kinds = {Kind{"query_region_week", 7, ""}, Kind{"query_region_facilities_30d", 30, "child"}};
  if (o.days >= 1096) kinds.push_back(Kind{"query_region_3y_by_month", 1095, "month"});
  auto offset = [&](std::mt19937& r, const Kind& k) {
    return o.days > k.days ? static_cast<int>(r() % static_cast<unsigned>(o.days - k.days)) : 0;
  };
  std::mt19937 rng(11);
  for (Kind k : kinds) {
    std::vector<double> client_ms;
    for (int i = 0; i < o.queries; ++i) {
      rollups::v1::QueryKpisRequest req;
      req.set_scope(absl::StrCat("regions/region-", rng() % 5));
      req.add_kpis("oee");
      req.add_kpis("availability");
      req.add_kpis("effectiveness");
      req.add_kpis("quality_ratio");
      absl::CivilDay from = first + offset(rng, k);
      req.set_from(absl::FormatCivilTime(from));
      req.set_to(absl::FormatCivilTime(from + (k.days - 1)));
      req.set_by(k.by);
      grpc::ClientContext ctx;
      rollups::v1::QueryKpisResponse resp;
      absl::Time t0 = absl::Now();
      grpc::Status st = stub->QueryKpis(&ctx, req, &resp);
      client_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (!st.ok()) return absl::InternalError(st.error_message());
    }
    BenchResult r;
    r.name = absl::StrCat(k.name, "_client");
    r.p50_ms = Percentile(client_ms, 0.5);
    r.p99_ms = Percentile(client_ms, 0.99);
    r.events = static_cast<uint64_t>(o.queries);
    results.push_back(r);
  }
  {
    // The region-week query as the dashboard makes it: HTTP/JSON through
    // the gateway, one keep-alive connection (client side).
    httplib::Client http("127.0.0.1", server->http_port());
    http.set_keep_alive(true);
    const int warm = std::min(o.queries, 100);
    std::vector<double> ms;
    for (int i = 0; i < o.queries + warm; ++i) {
      const absl::CivilDay from = first + (o.days > 7 ? static_cast<int>(rng() % static_cast<unsigned>(o.days - 7)) : 0);
      const std::string path =
          absl::StrCat("/v1/regions/region-", rng() % 5, ":queryKpis?kpis=oee,availability,effectiveness,quality_ratio",
                       "&from=", absl::FormatCivilTime(from), "&to=", absl::FormatCivilTime(from + 6));
      absl::Time t0 = absl::Now();
      httplib::Result res = http.Get(path.c_str());
      if (i >= warm) ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      if (!res || res->status != 200) {
        return absl::InternalError(absl::StrCat("HTTP ", path, ": ", res ? res->body : httplib::to_string(res.error())));
      }
    }
    BenchResult r;
    r.name = "query_region_week_http_client";
    r.p50_ms = Percentile(ms, 0.5);
    r.p99_ms = Percentile(ms, 0.99);
    r.events = static_cast<uint64_t>(o.queries);
    results.push_back(r);
  }
  server->Shutdown();
  server.reset();
  // Server side: the same queries straight against the store and the model.
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(auto log, eventlog::OpenEmbeddedLog(lo));
    model::ModelStore models(log.get());
    TAKT_RETURN_IF_ERROR(models.Refresh());
    TAKT_ASSIGN_OR_RETURN(auto store, rollup::RollupStore::Open(dir + "/rollups"));
    for (Kind k : kinds) {
      std::vector<double> ms;
      for (int i = 0; i < o.queries; ++i) {
        rollup::QueryRequest q;
        q.scope = *rollup::ParseScope(absl::StrCat("regions/region-", rng() % 5));
        q.kpis = {"oee", "availability", "effectiveness", "quality_ratio"};
        q.from = first + offset(rng, k);
        q.to = q.from + (k.days - 1);
        q.by = *rollup::ParseBreakdown(k.by);
        absl::Time t0 = absl::Now();
        absl::StatusOr<rollup::QueryResult> r;
        models.Read([&](const model::EnterpriseModel& m) { r = rollup::RunQuery(*store, m, q); });
        ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        if (!r.ok()) return r.status();
      }
      BenchResult r;
      r.name = absl::StrCat(k.name, "_server");
      r.p50_ms = Percentile(ms, 0.5);
      r.p99_ms = Percentile(ms, 0.99);
      r.events = static_cast<uint64_t>(o.queries);
      results.push_back(r);
    }
  }
  if (o.keep_data.empty()) std::filesystem::remove_all(dir);
  return results;
}

}  // namespace takt::cli
