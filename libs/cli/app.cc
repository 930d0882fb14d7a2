// The only translation unit that includes CLI11 (a heavy header).
#include "nlohmann/json.hpp"
#include "libs/cli/app.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_audit.h"
#include "bench/bench_log.h"
#include "bench/bench_quality.h"
#include "bench/bench_budgets.h"
#include "bench/bench_staffing.h"
#include "bench/bench_service.h"
#include "libs/cli/backup_command.h"
#include "libs/cli/serve_config.h"
#include "libs/cli/serve_command.h"
#include "libs/cli/kafka_dev.h"
#include "libs/cli/kafka_topics_command.h"
#include "libs/cli/log_commands.h"
#include "services/registry.h"
#include "services/scheduling/schedule_cli.h"

namespace takt::cli {
namespace {

// A benchmark size or count: a number above zero (zero plants, days or
// connections would measure nothing, or divide by zero).
CLI::Validator Positive() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double x = 0;
        if (!absl::SimpleAtod(value, &x) || !(x > 0)) {
          return absl::StrCat("must be a number above 0, not '", value, "'");
        }
        return std::string();
      },
      "> 0", "POSITIVE");
}


}  // namespace

int RunTakt(int argc, char** argv) {
  // Lock-order checking costs a graph update on every contended lock; the
  // code's lock order is fixed and covered by tests instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"takt: event-sourced operations backend for multi-plant manufacturing"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("takt ") + TAKT_VERSION);
  int exit_code = 0;

  // takt log ...
  CLI::App* log = app.add_subcommand("log", "Inspect and verify the embedded event log");
  log->require_subcommand(1);

  LogVerifyArgs verify;
  CLI::App* verify_cmd =
      log->add_subcommand("verify", "Verify every hash chain and signed checkpoint, offline");
  verify_cmd->add_option("--data-dir", verify.data_dir, "Data directory of the log")->required();
  verify_cmd->add_option("--context", verify.context, "Only this context");
  verify_cmd->add_option("--facility", verify.facility, "Only this facility");
  verify_cmd->add_option("--public-key", verify.public_key_file,
                         "Trusted checkpoint public key file (default: DIR/keys/checkpoint.pub)");
  verify_cmd->add_option("--trusted-ring", verify.trusted_ring_file,
                         "A key ring kept from an earlier verify: the ring used today must extend it "
                         "(exit 1 otherwise)");
  verify_cmd->add_option("--trusted-heads", verify.trusted_heads_file,
                         "Heads kept from an earlier verify (--save-heads): report a rollback or "
                         "fork against them");
  verify_cmd->add_option("--save-heads", verify.save_heads_file,
                         "After a clean verify, keep every stream's head in this file (JSON Lines)");
  verify_cmd->add_flag("--json", verify.json, "Print the report as JSON");
  verify_cmd->callback([&] { exit_code = RunLogVerify(verify, std::cout, std::cerr); });

  std::string key_dir;
  CLI::App* key_cmd = log->add_subcommand(
      "public-key", "Print the checkpoint key ring: the first key, then each rotation signed by the key before");
  key_cmd->add_option("--data-dir", key_dir, "Data directory of the log")->required();
  bool key_json = false;
  key_cmd->add_flag("--json", key_json,
                    "Print {\"public_key\": current hex, \"key_id\", \"keys\": [...]} instead of the file");
  key_cmd->callback([&] { exit_code = RunLogPublicKey(key_dir, key_json, std::cout, std::cerr); });

  std::string rotate_dir;
  bool rotate_json = false;
  CLI::App* rotate_cmd = log->add_subcommand(
      "rotate-key", "Replace the checkpoint signing key of a stopped server (the old public key "
                    "stays in the key ring, valid until now)");
  rotate_cmd->add_option("--data-dir", rotate_dir, "Data directory of the stopped server")->required();
  rotate_cmd->add_flag("--json", rotate_json, "JSON output");
  rotate_cmd->callback(
      [&] { exit_code = RunLogRotateKey(rotate_dir, rotate_json, std::cout, std::cerr); });

  std::string demo_dir = "takt-data";
  bool demo_json = false;
  CLI::App* demo_cmd =
      log->add_subcommand("demo", "Append, resend, read back and verify sample events");
  demo_cmd->add_option("--data-dir", demo_dir, "Data directory of the log")->capture_default_str();
  demo_cmd->add_flag("--json", demo_json, "JSON output");
  demo_cmd->callback([&] { exit_code = RunLogDemo(demo_dir, demo_json, std::cout, std::cerr); });

  // takt bench ...
  CLI::App* bench = app.add_subcommand("bench", "End-to-end benchmarks that print figures");
  bench->require_subcommand(1);
  BenchLogOptions bench_log;
  bool bench_json = false;
  CLI::App* bench_log_cmd = bench->add_subcommand(
      "log", "Embedded log: durable appends (1/64 appenders, batches of 1/100), read, verify");
  bench_log_cmd->add_option("--data-dir", bench_log.data_dir,
                            "Where to write (default: a temporary directory)");
  bench_log_cmd->add_option("--scale", bench_log.scale,
                            "Multiplies the events each scenario appends")->capture_default_str()
      ->check(Positive());
  bench_log_cmd->add_option("--payload-bytes", bench_log.payload_bytes, "Payload size")->capture_default_str()
      ->check(Positive());
  bench_log_cmd->add_option("--only", bench_log.only,
                            "Only the append scenarios whose name contains this");
  bench_log_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_log_cmd->callback([&] {
    auto results = RunLogBenchmark(bench_log);
    if (!results.ok()) {
      std::cerr << "takt: bench log: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) std::cout << FormatBenchResult(r, bench_json) << "\n";
  });

  BenchIngestOptions bench_ingest;
  CLI::App* bench_ingest_cmd = bench->add_subcommand(
      "ingest", "Simulated observations over gRPC: durable acks, projection, rebuild");
  bench_ingest_cmd->add_option("--facilities", bench_ingest.facilities, "Plants")->capture_default_str()
      ->check(Positive());
  bench_ingest_cmd->add_option("--days", bench_ingest.days, "Days")->capture_default_str()
      ->check(Positive());
  bench_ingest_cmd->add_option("--streams", bench_ingest.streams, "Gateway connections")->capture_default_str()
      ->check(CLI::Range(1, 64));
  bench_ingest_cmd->add_flag("--tls", bench_ingest.tls, "Over mutual TLS (fresh loopback certificates)");
  bench_ingest_cmd->add_flag("--kafka-mock", bench_ingest.kafka_mock,
                             "On librdkafka's in-process mock Kafka cluster instead of the embedded log (in "
                             "memory, about 100k messages per partition: keep --facilities and --days small)");
  bench_ingest_cmd->add_flag("--clients-process", bench_ingest.clients_process,
                             "Run the gateways' clients in a process of their own, so that the server's CPU time "
                             "and theirs show apart (not with --tls)");
  bench_ingest_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_ingest_cmd->callback([&] {
    auto results = RunIngestBenchmark(bench_ingest);
    if (!results.ok()) {
      std::cerr << "takt: bench ingest: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (auto r : *results) {
      if (absl::StartsWith(r.name, "ingest_end_to_end_projected")) {
        std::cout << (bench_json ? nlohmann::json{{"name", "projection_lag_at_last_ack"},
                                                   {"events", static_cast<int64_t>(r.appends_per_second)}}
                                       .dump()
                                 : absl::StrFormat("projection lag when the last ack arrived: %.0f events", r.appends_per_second))
                  << "\n";
        r.appends_per_second = 0;
      }
      std::cout << FormatBenchResult(r, bench_json) << "\n";
    }
  });

  // The clients of `bench ingest --clients-process` (started by it).
  BenchClientsOptions bench_clients;
  CLI::App* bench_clients_cmd = bench->add_subcommand(
      "ingest-clients", "The gateways of bench ingest --clients-process (started by it)");
  bench_clients_cmd->group("");  // not listed: bench ingest runs it
  bench_clients_cmd->add_option("--target", bench_clients.target, "Server address")->required();
  bench_clients_cmd->add_option("--facilities", bench_clients.facilities, "Plants")
      ->check(Positive());
  bench_clients_cmd->add_option("--days", bench_clients.days, "Days")
      ->check(Positive());
  bench_clients_cmd->add_option("--streams", bench_clients.streams, "Gateway connections")->check(CLI::Range(1, 64));
  bench_clients_cmd->callback([&] {
    if (absl::Status s = RunIngestClients(bench_clients, std::cout); !s.ok()) {
      std::cerr << "takt: bench ingest-clients: " << s.message() << "\n";
      exit_code = 2;
    }
  });

  BenchQualityOptions bench_quality;
  CLI::App* bench_quality_cmd = bench->add_subcommand(
      "quality", "Measurements with SPC rules (durable acks), 90-day chart, region capability");
  bench_quality_cmd->add_option("--facilities", bench_quality.facilities, "Plants (one region)")
      ->check(CLI::Range(1, 50))->capture_default_str();
  bench_quality_cmd->add_option("--days", bench_quality.days, "Days of measurements")
      ->check(CLI::Range(2, 366))->capture_default_str();
  bench_quality_cmd->add_option("--every-minutes", bench_quality.every_minutes,
                                "Minutes between subgroups of a characteristic")
      ->check(CLI::Range(1, 1440))->capture_default_str();
  bench_quality_cmd->add_option("--characteristics", bench_quality.characteristics, "Per plant")
      ->check(CLI::Range(1, 100))->capture_default_str();
  bench_quality_cmd->add_option("--queries", bench_quality.queries, "Per query kind")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  bench_quality_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_quality_cmd->callback([&] {
    auto results = RunQualityBenchmark(bench_quality);
    if (!results.ok()) {
      std::cerr << "takt: bench quality: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) std::cout << FormatBenchResult(r, bench_json) << "\n";
  });

  BenchBudgetsOptions bench_budgets;
  CLI::App* bench_budgets_cmd = bench->add_subcommand(
      "budgets", "A year of ledger postings imported (durable acks), a region's variances by month");
  bench_budgets_cmd->add_option("--facilities", bench_budgets.facilities, "Plants in the region")
      ->check(CLI::Range(1, 50))->capture_default_str();
  bench_budgets_cmd->add_option("--postings-per-month", bench_budgets.postings_per_month, "Per plant")
      ->check(CLI::Range(1, 1000000))->capture_default_str();
  bench_budgets_cmd->add_option("--queries", bench_budgets.queries, "Region reports timed")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  bench_budgets_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_budgets_cmd->callback([&] {
    auto results = RunBudgetsBenchmark(bench_budgets);
    if (!results.ok()) {
      std::cerr << "takt: bench budgets: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) std::cout << FormatBenchResult(r, bench_json) << "\n";
  });

  BenchStaffingOptions bench_staffing;
  CLI::App* bench_staffing_cmd = bench->add_subcommand(
      "staffing", "Attendance punches (durable acks), roster validation, erasing a person");
  bench_staffing_cmd->add_option("--facilities", bench_staffing.facilities, "Plants")
      ->check(CLI::Range(1, 50))->capture_default_str();
  bench_staffing_cmd->add_option("--people", bench_staffing.people, "People per plant")
      ->check(CLI::Range(3, 100000))->capture_default_str();
  bench_staffing_cmd->add_option("--days", bench_staffing.days, "Days of rosters and attendance")
      ->check(CLI::Range(2, 3660))->capture_default_str();
  bench_staffing_cmd->add_option("--roster-size", bench_staffing.roster_size, "Assignments validated at once")
      ->check(CLI::Range(1, 10000))->capture_default_str();
  bench_staffing_cmd->add_option("--queries", bench_staffing.queries, "Roster validations")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  bench_staffing_cmd->add_option("--erasures", bench_staffing.erasures, "People erased")
      ->check(CLI::Range(1, 1000000))->capture_default_str();
  bench_staffing_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_staffing_cmd->callback([&] {
    auto results = RunStaffingBenchmark(bench_staffing);
    if (!results.ok()) {
      std::cerr << "takt: bench staffing: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) std::cout << FormatBenchResult(r, bench_json) << "\n";
  });

  BenchAuditOptions bench_audit;
  CLI::App* bench_audit_cmd = bench->add_subcommand(
      "audit", "Replay with chain verification, export and offline verification");
  bench_audit_cmd->add_option("--facilities", bench_audit.facilities, "Streams")->capture_default_str()
      ->check(Positive());
  bench_audit_cmd->add_option("--events", bench_audit.events_per_facility, "Events per stream")
      ->capture_default_str()
      ->check(Positive());
  bench_audit_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_audit_cmd->callback([&] {
    auto results = RunAuditBenchmark(bench_audit);
    if (!results.ok()) {
      std::cerr << "takt: bench audit: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) std::cout << FormatBenchResult(r, bench_json) << "\n";
  });

  BenchScheduleArgs bench_schedule;
  CLI::App* bench_schedule_cmd = bench->add_subcommand(
      "schedule", "Job-shop benchmark: gap to the best known makespan per instance and family");
  bench_schedule_cmd->add_option("--dir", bench_schedule.dir,
                                 "Instances and bounds.csv (e.g. the shared jssp data set)")
      ->required()
      ->capture_default_str();
  bench_schedule_cmd->add_option("--time-limit", bench_schedule.time_limit,
                                 "Seconds per instance (one core)")->capture_default_str()
      ->check(Positive());
  bench_schedule_cmd->add_option("--seed", bench_schedule.seed, "Random seed")->capture_default_str();
  bench_schedule_cmd->add_option("--only", bench_schedule.only,
                                 "Instances whose name starts with this (la, ft10, ...)");
  bench_schedule_cmd->add_flag("--json", bench_schedule.json, "One JSON object per line");
  bench_schedule_cmd->callback(
      [&] { exit_code = RunBenchSchedule(bench_schedule, std::cout, std::cerr); });

  BenchQueryOptions bench_query;
  CLI::App* bench_query_cmd = bench->add_subcommand(
      "query", "Query latency with 50 plants x 20 units x 90 days of hourly rollups");
  bench_query_cmd->add_option("--facilities", bench_query.facilities, "Plants")->capture_default_str()
      ->check(Positive());
  bench_query_cmd->add_option("--units", bench_query.units, "Units per plant")->capture_default_str()
      ->check(Positive());
  bench_query_cmd->add_option("--days", bench_query.days, "Days")->capture_default_str()
      ->check(Positive());
  bench_query_cmd->add_option("--queries", bench_query.queries, "Queries per kind")->capture_default_str()
      ->check(Positive());
  bench_query_cmd->add_option("--keep-data", bench_query.keep_data,
                              "Leave the loaded data in this (new or empty) directory, for takt serve --data-dir");
  bench_query_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_query_cmd->callback([&] {
    auto results = RunQueryBenchmark(bench_query);
    if (!results.ok()) {
      std::cerr << "takt: bench query: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) {
      std::cout << (bench_json ? nlohmann::json{{"name", r.name}, {"p50_ms", r.p50_ms}, {"p99_ms", r.p99_ms}, {"queries", r.events}}.dump()
                               : absl::StrFormat("%-36s p50 %.3f ms  p99 %.3f ms  (%d queries)", r.name, r.p50_ms, r.p99_ms, r.events))
                << "\n";
    }
  });

  // takt kafka-dev
  KafkaDevArgs kafka_dev;
  CLI::App* kafka_cmd = app.add_subcommand(
      "kafka-dev",
      "Start librdkafka's in-process mock Kafka cluster on loopback and print its bootstrap "
      "address. In memory, bounded retention (about 5 MiB or 100k messages per partition): "
      "for tests and local multi-process runs, never for production");
  kafka_cmd->add_option("--brokers", kafka_dev.brokers, "Number of mock brokers")->capture_default_str();
  kafka_cmd->add_option("--partitions", kafka_dev.partitions, "Partitions per Takt topic")->capture_default_str();
  kafka_cmd->add_flag("--json", kafka_dev.json, "Print {\"bootstrap_servers\": ...}");
  kafka_cmd->add_option("--address-file", kafka_dev.address_file,
                        "Also write the bootstrap address to this file");
  kafka_cmd->callback([&] {
    kafka_dev.contexts = services::ContextNames();
    exit_code = RunKafkaDev(kafka_dev, std::cout, std::cerr);
  });

  // takt kafka topics create|check
  KafkaTopicsArgs topics;
  CLI::App* kafka = app.add_subcommand("kafka", "Administer the Kafka cluster Takt runs on");
  kafka->require_subcommand(1);
  CLI::App* topics_cmd = kafka->add_subcommand(
      "topics", "Takt's event topics takt.<context>.v1: kept forever (retention -1), never compacted");
  topics_cmd->require_subcommand(1);
  auto topic_options = [&](CLI::App* c) {
    c->add_option("--brokers", topics.brokers, "Bootstrap servers")->required();
    c->add_option("--kafka-property", topics.kafka_properties,
                  "A librdkafka property key=value (security.protocol, sasl.*, ssl.*); repeat for several");
    c->add_option("--kafka-properties-file", topics.kafka_properties_file,
                  "A file of librdkafka properties, key=value per line");
    c->add_option("--timeout", topics.timeout_seconds, "Seconds to wait for the cluster")
        ->check(CLI::Range(1.0, 600.0))
        ->capture_default_str();
    c->add_flag("--json", topics.json, "JSON output");
  };
  CLI::App* create_cmd = topics_cmd->add_subcommand(
      "create", "Create the topics that do not exist yet with the settings the log needs, then check all; "
                "exit 1 when an existing topic would lose events");
  topic_options(create_cmd);
  create_cmd->add_option("--partitions", topics.partitions,
                         "Partitions per topic: a facility's events live in one; the most rollups processes "
                         "that share the work")
      ->required()
      ->check(CLI::Range(1, 10000));
  create_cmd->add_option("--replication-factor", topics.replication_factor,
                         "Copies of each partition (3 in production; min.insync.replicas is set to 2 then)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  create_cmd->callback([&] {
    topics.contexts = services::ContextNames();
    exit_code = RunKafkaTopicsCreate(topics, std::cout, std::cerr);
  });
  CLI::App* check_cmd = topics_cmd->add_subcommand(
      "check", "Report each topic's partitions, replication and settings; exit 1 when one would lose events");
  topic_options(check_cmd);
  check_cmd->callback([&] {
    topics.contexts = services::ContextNames();
    exit_code = RunKafkaTopicsCheck(topics, std::cout, std::cerr);
  });

  // takt backup / restore
  BackupArgs backup;
  CLI::App* backup_cmd = app.add_subcommand(
      "backup", "Copy what the log cannot rebuild (the embedded log, signing keys, personal-data keys), "
                "consistent while the server serves");
  backup_cmd->add_option("--target", backup.target, "A running server (an administrator's credentials)");
  backup_cmd->add_option("--data-dir", backup.data_dir, "Or: a data directory no server runs on");
  backup_cmd->add_option("--out", backup.out, "The new backup directory, absolute, on the server's machine")
      ->required();
  backup_cmd->add_flag("--json", backup.json, "Print the answer as JSON");
  backup_cmd->callback([&] { exit_code = RunBackup(backup, std::cout, std::cerr); });
  RestoreArgs restore;
  CLI::App* restore_cmd =
      app.add_subcommand("restore", "Copy a backup into a new data directory (then takt serve rebuilds the rollups)");
  restore_cmd->add_option("--from", restore.from, "The backup directory")->required();
  restore_cmd->add_option("--data-dir", restore.data_dir, "The new (or empty) data directory")->required();
  restore_cmd->callback([&] { exit_code = RunRestore(restore, std::cout, std::cerr); });

  // takt serve / apply / ingest / rollup
  ServeArgs serve;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Run the services: all in one process on the embedded log, or on Kafka "
      "(--kafka-brokers) all or some of them per process (--services)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "Data directory")->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "gRPC listen address")->capture_default_str();
  CLI::Option* brokers_opt = serve_cmd->add_option(
      "--kafka-brokers", serve.kafka_brokers,
      "Use Kafka as the log (bootstrap servers); default: the embedded log");
  serve_cmd->add_option("--owner", serve.owner_id,
                        "Transactional owner id on Kafka (a second server with the same id "
                        "fences this one)")->capture_default_str();
  // Each module's own flags.
  for (const host::ModuleInfo& m : services::Modules()) {
    if (m.add_serve_flags) m.add_serve_flags(*serve_cmd, &serve.module_flags);
  }
  std::string service_list;
  std::vector<std::string> module_names;
  for (const host::ModuleInfo& m : services::Modules()) module_names.push_back(m.name);
  serve_cmd->add_option("--services", service_list,
                        absl::StrCat("Comma-separated subset of ", absl::StrJoin(module_names, ","),
                                     " to run in this process (needs --kafka-brokers); default: all"));
  serve_cmd->add_flag("--insecure", serve.security.insecure,
                      "Plaintext gRPC without authentication (a demo or tests on one machine; warns at start)");
  serve_cmd->add_option("--tls-cert", serve.security.cert_file,
                        "Server certificate chain (PEM), reloaded when the file changes");
  serve_cmd->add_option("--tls-key", serve.security.key_file, "Server private key (PEM), reloaded with the certificate");
  serve_cmd->add_option("--tls-client-ca", serve.security.client_ca_file,
                        "CA of client certificates (mutual TLS): CN facility:<id> for a facility system, "
                        "service:<name> for a Takt service");
  serve_cmd->add_flag("--require-client-cert", serve.security.require_client_certificate,
                      "Every client must present a certificate (no token-only clients)");
  serve_cmd->add_option("--jwt-public-key", serve.security.jwt_public_key_files,
                        "Public key (PEM, RSA or EC) of people's bearer tokens; repeat for several");
  serve_cmd->add_option("--jwt-issuer", serve.security.jwt_issuer, "The tokens' issuer (iss) to accept");
  serve_cmd->add_option("--jwt-audience", serve.security.jwt_audience, "The tokens' audience (aud) to accept");
  serve_cmd->add_option("--http-listen", serve.http_listen,
                        "Also serve HTTP/JSON on host:port (TLS with --tls-cert and --tls-key; people's "
                        "bearer tokens as for gRPC)");
  // The dashboard of the source tree this binary was built from, when it is
  // there (an installed binary is given --http-static).
  if (std::error_code ec; std::filesystem::is_directory(TAKT_WEB_DIR, ec)) serve.http_static = TAKT_WEB_DIR;
  serve_cmd->add_option("--http-static", serve.http_static,
                        "The dashboard's files, served at / with --http-listen (Chart.js from Debian's "
                        "libjs-chart.js at /lib/chart.js/)")
      ->capture_default_str();
  serve_cmd->add_option("--record-reads", serve.record_reads,
                        "Reads recorded as events with the reader: audit (replay, export, verify, explain), "
                        "personal-data, kpis (every KPI query, per facility it covers), comma-separated, or none")
      ->capture_default_str();
  serve_cmd->add_option("--admin-listen", serve.admin_listen,
                        "Serve /metrics (Prometheus), /livez and /readyz on host:port, plain HTTP without "
                        "authentication: an address only the cluster reaches");
  serve_cmd->add_option("--shutdown-grace", serve.shutdown_grace_seconds,
                        "Seconds the calls in flight get to finish on SIGTERM before they are cancelled")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  serve_cmd->add_option("--stream-idle-timeout", serve.stream_idle_timeout_seconds,
                        "Seconds a stream of batches may stay silent before the server closes it (the client "
                        "sees CANCELLED; what it acknowledged stays recorded)")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  serve_cmd->add_option("--backup-root", serve.backup_root,
                        "takt backup --target writes new directories directly under this one (none without it)");
  serve_cmd->add_option("--kafka-property", serve.kafka_properties,
                        "A librdkafka property key=value for a secured cluster (security.protocol, sasl.*, "
                        "ssl.*); repeat for several");
  serve_cmd->add_option("--kafka-properties-file", serve.kafka_properties_file,
                        "A file of librdkafka properties, key=value per line (a secret such as sasl.password "
                        "stays off the command line); --kafka-property wins for the same key");
  serve_cmd->add_option("--config", serve.config_file,
                        "A YAML file of these flags (names without dashes); a flag or its TAKT_* variable wins "
                        "over the file");
  serve_cmd->add_option("--log-format", serve.log_format,
                        "Server log lines on stderr: text or json (JSON Lines)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  serve_cmd->callback([&] {
    if (brokers_opt->count() > 0 && serve.kafka_brokers.empty()) {
      // An empty value is a mistake (an unset variable), not "embedded".
      std::cerr << "takt: serve: --kafka-brokers is empty; leave it out to run on the "
                   "embedded log\n";
      exit_code = 2;
      return;
    }
    for (absl::string_view sv : absl::StrSplit(service_list, ',', absl::SkipEmpty())) {
      serve.services.emplace_back(sv);
    }
    exit_code = RunServe(serve, std::cout, std::cerr);
  });

  // Each serve flag also from its environment variable (TAKT_DATA_DIR, ...).
  FlagSet serve_flags;
  for (CLI::Option* opt : serve_cmd->get_options()) {
    if (opt->get_lnames().empty() || opt->get_lnames()[0] == "help") continue;
    const std::string name = opt->get_lnames()[0];
    opt->envname(EnvNameOf(name));
    serve_flags.known.insert(name);
    if (opt->get_type_size_max() == 0) serve_flags.switches.insert(name);
    if (opt->get_items_expected_max() > 1) serve_flags.repeatable.insert(name);
  }

  // Each context's commands (services/registry.cc).
  for (const host::ModuleInfo& m : services::Modules()) {
    if (m.add_commands) m.add_commands(app, &exit_code);
  }

  // A word where a command is expected that names none: say which word.
  // (CLI11 would only say that a subcommand is required.)
  const CLI::App* level = &app;
  for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
    if (level->get_subcommands({}).empty()) break;  // positional arguments
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : level->get_subcommands({})) {
      if (sub->get_name() == argv[i]) next = sub;
    }
    if (next == nullptr) {
      std::vector<std::string> names;
      for (const CLI::App* sub : level->get_subcommands({})) names.push_back(sub->get_name());
      std::cerr << "takt: unknown command '" << argv[i] << "'"
                << (level == &app ? "" : " of '" + level->get_name() + "'")
                << "; commands: " << absl::StrJoin(names, ", ") << " (takt --help)\n";
      return 2;
    }
    level = next;
  }
  // takt serve --config FILE: the file's settings become flags, unless the
  // command line or the environment has them (serve_config.h).
  std::vector<std::string> args(argv, argv + argc);
  if (argc > 1 && args[1] == "serve") {
    std::string config;
    if (const char* env = std::getenv("TAKT_CONFIG")) config = env;
    for (size_t i = 2; i < args.size(); ++i) {
      if (args[i] == "--config" && i + 1 < args.size()) config = args[i + 1];
      if (absl::StartsWith(args[i], "--config=")) config = args[i].substr(9);
    }
    if (!config.empty()) {
      std::ifstream in(config);
      std::stringstream text;
      text << in.rdbuf();
      if (!in.good() && !in.eof()) {
        std::cerr << "takt: serve: cannot read the config file " << config << "\n";
        return 2;
      }
      auto extra = ConfigFileArgs(text.str(), config, serve_flags, args,
                                  [](const std::string& name) {
                                    const char* v = std::getenv(name.c_str());
                                    return v != nullptr && *v != '\0';  // CLI11 ignores empty variables too
                                  });
      if (!extra.ok()) {
        std::cerr << "takt: serve: " << extra.status().message() << "\n";
        return 2;
      }
      args.insert(args.end(), extra->begin(), extra->end());
    }
  }
  std::vector<char*> pointers;
  for (std::string& a : args) pointers.push_back(a.data());
  try {
    app.parse(static_cast<int>(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace takt::cli
