// The only translation unit that includes CLI11 (a heavy header).
#include "libs/cli/app.h"

#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "libs/cli/audit_commands.h"
#include "libs/cli/bench_audit.h"
#include "libs/cli/bench_log.h"
#include "libs/cli/bench_service.h"
#include "libs/cli/client_commands.h"
#include "libs/cli/kafka_dev.h"
#include "libs/cli/log_commands.h"
#include "libs/cli/schedule_commands.h"

namespace takt::cli {
namespace {

constexpr char kTargetHelp[] =
    "Server address host:port, or one per service when they run as separate processes: "
    "enterprise=A,scheduling=B,rollups=C";

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
  verify_cmd->add_option("--trusted-heads", verify.trusted_heads_file,
                         "Heads kept from an earlier verify (--save-heads): report a rollback or "
                         "fork against them");
  verify_cmd->add_option("--save-heads", verify.save_heads_file,
                         "After a clean verify, keep every stream's head in this file (JSON Lines)");
  verify_cmd->add_flag("--json", verify.json, "Print the report as JSON");
  verify_cmd->callback([&] { exit_code = RunLogVerify(verify, std::cout, std::cerr); });

  std::string key_dir;
  CLI::App* key_cmd = log->add_subcommand("public-key", "Print the checkpoint public key");
  key_cmd->add_option("--data-dir", key_dir, "Data directory of the log")->required();
  bool key_json = false;
  key_cmd->add_flag("--json", key_json, "Print {\"public_key\": hex} instead of the key file");
  key_cmd->callback([&] { exit_code = RunLogPublicKey(key_dir, key_json, std::cout, std::cerr); });

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
                            "Multiplies the events each scenario appends")->capture_default_str();
  bench_log_cmd->add_option("--payload-bytes", bench_log.payload_bytes, "Payload size")->capture_default_str();
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
  bench_ingest_cmd->add_option("--facilities", bench_ingest.facilities, "Plants")->capture_default_str();
  bench_ingest_cmd->add_option("--days", bench_ingest.days, "Days")->capture_default_str();
  bench_ingest_cmd->add_option("--streams", bench_ingest.streams, "Gateway connections")->capture_default_str();
  bench_ingest_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_ingest_cmd->callback([&] {
    auto results = RunIngestBenchmark(bench_ingest);
    if (!results.ok()) {
      std::cerr << "takt: bench ingest: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (auto r : *results) {
      if (r.name == "ingest_end_to_end_projected") {
        std::cout << (bench_json ? absl::StrFormat("{\"name\":\"projection_lag_at_last_ack\",\"events\":%.0f}", r.appends_per_second)
                                 : absl::StrFormat("projection lag when the last ack arrived: %.0f events", r.appends_per_second))
                  << "\n";
        r.appends_per_second = 0;
      }
      std::cout << FormatBenchResult(r, bench_json) << "\n";
    }
  });

  BenchAuditOptions bench_audit;
  CLI::App* bench_audit_cmd = bench->add_subcommand(
      "audit", "Replay with chain verification, export and offline verification");
  bench_audit_cmd->add_option("--facilities", bench_audit.facilities, "Streams")->capture_default_str();
  bench_audit_cmd->add_option("--events", bench_audit.events_per_facility, "Events per stream")
      ->capture_default_str();
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
                                 "Seconds per instance (one core)")->capture_default_str();
  bench_schedule_cmd->add_option("--seed", bench_schedule.seed, "Random seed")->capture_default_str();
  bench_schedule_cmd->add_option("--only", bench_schedule.only,
                                 "Instances whose name starts with this (la, ft10, ...)");
  bench_schedule_cmd->add_flag("--json", bench_schedule.json, "One JSON object per line");
  bench_schedule_cmd->callback(
      [&] { exit_code = RunBenchSchedule(bench_schedule, std::cout, std::cerr); });

  BenchQueryOptions bench_query;
  CLI::App* bench_query_cmd = bench->add_subcommand(
      "query", "Query latency with 50 plants x 20 units x 90 days of hourly rollups");
  bench_query_cmd->add_option("--facilities", bench_query.facilities, "Plants")->capture_default_str();
  bench_query_cmd->add_option("--units", bench_query.units, "Units per plant")->capture_default_str();
  bench_query_cmd->add_option("--days", bench_query.days, "Days")->capture_default_str();
  bench_query_cmd->add_option("--queries", bench_query.queries, "Queries per kind")->capture_default_str();
  bench_query_cmd->add_flag("--json", bench_json, "One JSON object per line");
  bench_query_cmd->callback([&] {
    auto results = RunQueryBenchmark(bench_query);
    if (!results.ok()) {
      std::cerr << "takt: bench query: " << results.status().message() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& r : *results) {
      std::cout << (bench_json ? absl::StrFormat("{\"name\":\"%s\",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"queries\":%d}", r.name, r.p50_ms, r.p99_ms, r.events)
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
  kafka_cmd->callback([&] { exit_code = RunKafkaDev(kafka_dev, std::cout, std::cerr); });

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
  serve_cmd->add_option("--earliest-observation", serve.earliest_observation,
                        "Refuse observations before this day (YYYY-MM-DD, UTC)")
      ->capture_default_str();
  serve_cmd->add_option("--max-lateness-days", serve.max_lateness_days,
                        "Refuse observations more than this many days behind the newest one "
                        "a facility has accepted (0: no bound)")
      ->capture_default_str();
  std::string service_list;
  serve_cmd->add_option("--services", service_list,
                        "Comma-separated subset of enterprise,scheduling,rollups,audit to run in this "
                        "process (needs --kafka-brokers); default: all");
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

  ApplyArgs apply;
  CLI::App* apply_cmd = app.add_subcommand(
      "apply", "Create or update the enterprise model a YAML file describes (idempotent)");
  apply_cmd->add_option("--target", apply.target, kTargetHelp)->capture_default_str();
  apply_cmd->add_option("--file", apply.file, "enterprise.yaml")->required();
  apply_cmd->add_flag("--dry-run", apply.dry_run,
                      "Print the events the server would write (JSON lines); write nothing");
  apply_cmd->add_flag("--json", apply.json, "Print the summary as JSON");
  apply_cmd->callback([&] { exit_code = RunApply(apply, std::cout, std::cerr); });

  IngestArgs ingest;
  CLI::App* ingest_cmd = app.add_subcommand(
      "ingest", "Stream observation batches from a JSON Lines file (one ObservationBatch per line)");
  ingest_cmd->add_option("--target", ingest.target, kTargetHelp)->capture_default_str();
  ingest_cmd->add_option("--file", ingest.file, "observations .jsonl")->required();
  ingest_cmd->add_flag("--json", ingest.json, "JSON summary");
  ingest_cmd->callback([&] { exit_code = RunIngest(ingest, std::cout, std::cerr); });

  RollupArgs rollup;
  std::string kpi_list;
  CLI::App* rollup_cmd = app.add_subcommand("rollup", "Query KPIs for a scope and period");
  rollup_cmd->add_option("--target", rollup.target, kTargetHelp)->capture_default_str();
  rollup_cmd->add_option("--scope", rollup.scope,
                         "enterprise | regions/R | facilities/F[/areas|workCenters|workUnits/X]")
      ->capture_default_str();
  rollup_cmd->add_option("--kpi", kpi_list, "Comma-separated KPI ids (default OEE, A, E, Q)");
  rollup_cmd->add_option("--from", rollup.from, "First production day YYYY-MM-DD")->required();
  rollup_cmd->add_option("--to", rollup.to, "Last production day YYYY-MM-DD")->required();
  rollup_cmd->add_option("--by", rollup.by, "child | hour | shift | day | week | month");
  rollup_cmd->add_flag("--pareto", rollup.pareto, "Also the downtime Pareto by reason");
  rollup_cmd->add_flag("--json", rollup.json, "Protobuf JSON of the response");
  rollup_cmd->callback([&] {
    for (absl::string_view k : absl::StrSplit(kpi_list, ',', absl::SkipEmpty())) {
      rollup.kpis.emplace_back(k);
    }
    exit_code = RunRollup(rollup, std::cout, std::cerr);
  });

  SimulateArgs simulate;
  CLI::App* simulate_cmd = app.add_subcommand(
      "simulate", "Simulate plants and their gateways through the public API, then summarise");
  simulate_cmd->add_option("--target", simulate.target, kTargetHelp)->capture_default_str();
  simulate_cmd->add_option("--facilities", simulate.facilities, "Plants")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  simulate_cmd->add_option("--days", simulate.days, "Production days")
      ->check(CLI::Range(1, 366))
      ->capture_default_str();
  simulate_cmd->add_option("--seed", simulate.seed, "Random seed")->capture_default_str();
  simulate_cmd->add_option("--start", simulate.start,
                           "First production day YYYY-MM-DD (default: days before yesterday)");
  simulate_cmd->add_flag("--json", simulate.json,
                         "One JSON object of counts instead of the summary");
  simulate_cmd->callback([&] { exit_code = RunSimulate(simulate, std::cout, std::cerr); });

  // takt audit ...
  CLI::App* audit = app.add_subcommand("audit", "Auditors: replay, export, verify, explain");
  audit->require_subcommand(1);
  AuditArgs audit_args;
  std::string audit_contexts, audit_types;
  auto history_flags = [&](CLI::App* cmd) {
    cmd->add_option("--target", audit_args.target, kTargetHelp)->capture_default_str();
    cmd->add_option("--facility", audit_args.facility, "Facility id")->required();
    cmd->add_option("--context", audit_contexts,
                    "Comma-separated contexts (enterprise, scheduling, quality, staffing, budgets, "
                    "audit); default: all");
    cmd->add_option("--from-sequence", audit_args.from_sequence, "First sequence of each stream");
    cmd->add_option("--to-sequence", audit_args.to_sequence,
                    "Last sequence of each stream (the history as of that position)");
    cmd->add_option("--as-of", audit_args.as_of,
                    "RFC 3339: the history exactly as it stood then (recorded at or before)");
    cmd->add_option("--purpose", audit_args.purpose, "Why you read it (recorded with the read)");
  };
  auto split_lists = [&] {
    for (absl::string_view c : absl::StrSplit(audit_contexts, ',', absl::SkipEmpty())) {
      audit_args.contexts.emplace_back(c);
    }
    for (absl::string_view t : absl::StrSplit(audit_types, ',', absl::SkipEmpty())) {
      audit_args.types.emplace_back(t);
    }
  };
  CLI::App* replay_cmd = audit->add_subcommand(
      "replay", "A facility's history in order: who, what, when, source, readable payload");
  history_flags(replay_cmd);
  replay_cmd->add_option("--from-time", audit_args.from_time, "RFC 3339: occurred at or after");
  replay_cmd->add_option("--to-time", audit_args.to_time, "RFC 3339: occurred before");
  replay_cmd->add_option("--type", audit_types, "Comma-separated event types (full names)");
  replay_cmd->add_flag("--json", audit_args.json, "One JSON object per event");
  replay_cmd->add_flag("--csv", audit_args.csv, "CSV");
  replay_cmd->callback([&] {
    split_lists();
    exit_code = RunAuditReplay(audit_args, std::cout, std::cerr);
  });
  CLI::App* export_cmd = audit->add_subcommand(
      "export", "Write a facility's history to a file: JSON Lines with proofs (verifiable "
                "offline), or CSV");
  history_flags(export_cmd);
  export_cmd->add_option("--out", audit_args.out, "File to write")->required();
  export_cmd->add_option("--format", audit_args.format, "jsonl | csv")->capture_default_str();
  export_cmd->add_flag("--json", audit_args.json, "Print the summary as JSON");
  export_cmd->callback([&] {
    split_lists();
    exit_code = RunAuditExport(audit_args, std::cout, std::cerr);
  });
  CLI::App* averify_cmd = audit->add_subcommand(
      "verify", "Verify a facility's chains and signed checkpoints on the server, or an export "
                "offline (--export FILE --public-key KEY)");
  averify_cmd->add_option("--target", audit_args.target, kTargetHelp)->capture_default_str();
  averify_cmd->add_option("--facility", audit_args.facility, "Facility id (online)");
  averify_cmd->add_option("--context", audit_contexts, "Comma-separated contexts (online)");
  averify_cmd->add_option("--export", audit_args.export_file, "An export to verify offline");
  averify_cmd->add_option("--public-key", audit_args.public_key_file,
                          "The trusted public key file (keys/checkpoint.pub)");
  averify_cmd->add_option("--trusted-heads", audit_args.trusted_heads_file,
                          "With --export: heads kept from an earlier verify; report a rollback "
                          "or fork against them");
  averify_cmd->add_option("--save-heads", audit_args.save_heads_file,
                          "With --export: after a clean verify, keep the export's stream heads");
  averify_cmd->add_flag("--json", audit_args.json, "JSON report");
  averify_cmd->callback([&] {
    split_lists();
    if (audit_args.export_file.empty() && audit_args.facility.empty()) {
      std::cerr << "takt: audit verify: give --facility (online) or --export (offline)\n";
      exit_code = 2;
      return;
    }
    exit_code = RunAuditVerify(audit_args, std::cout, std::cerr);
  });
  CLI::App* explain_cmd = audit->add_subcommand(
      "explain", "Recompute a KPI from raw events and compare it with the rollups");
  explain_cmd->add_option("--target", audit_args.target, kTargetHelp)->capture_default_str();
  explain_cmd->add_option("--scope", audit_args.scope,
                          "enterprise | regions/R | facilities/F[/areas|workCenters|workUnits/X]")
      ->required();
  explain_cmd->add_option("--kpi", audit_args.kpi, "KPI id")->required();
  explain_cmd->add_option("--from", audit_args.from, "First production day")->required();
  explain_cmd->add_option("--to", audit_args.to, "Last production day")->required();
  explain_cmd->add_flag("--json", audit_args.json, "Protobuf JSON");
  explain_cmd->callback([&] { exit_code = RunAuditExplain(audit_args, std::cout, std::cerr); });

  // takt schedule jssp
  CLI::App* schedule = app.add_subcommand("schedule", "Finite-capacity scheduling");
  schedule->require_subcommand(1);
  ScheduleJsspArgs jssp;
  CLI::App* jssp_cmd = schedule->add_subcommand(
      "jssp", "Solve a classic job-shop instance (OR-Library format); writes 'job op machine "
              "start end' lines and prints the makespan");
  jssp_cmd->add_option("--instance", jssp.instance, "Instance file")->required();
  jssp_cmd->add_option("--time-limit", jssp.time_limit, "Seconds of search")->capture_default_str();
  jssp_cmd->add_option("--seed", jssp.seed, "Random seed")->capture_default_str();
  jssp_cmd->add_option("--iterations", jssp.iterations,
                       "Stop after this many iterations instead (deterministic for a seed)");
  jssp_cmd->add_option("--out", jssp.out, "Schedule file (default: standard output)");
  jssp_cmd->add_flag("--json", jssp.json, "Summary as JSON");
  jssp_cmd->callback([&] { exit_code = RunScheduleJssp(jssp, std::cout, std::cerr); });

  ScheduleClientArgs plan;
  auto plan_common = [&](CLI::App* cmd) {
    cmd->add_option("--target", plan.target, kTargetHelp)->capture_default_str();
    cmd->add_option("--facility", plan.facility, "Facility id")->required();
  };
  CLI::App* plan_apply = schedule->add_subcommand(
      "apply", "Send planning commands (routings, setups, calendar exceptions, work orders and "
               "their lifecycle) from a JSON Lines file, one PlanningCommand per line; idempotent");
  plan_common(plan_apply);
  plan_apply->add_option("--file", plan.file, "commands .jsonl")->required();
  plan_apply->add_flag("--json", plan.json, "Protobuf JSON of the response");
  plan_apply->callback([&] { exit_code = RunScheduleApply(plan, std::cout, std::cerr); });
  CLI::App* plan_propose = schedule->add_subcommand(
      "propose", "What-if: plan the released work orders on finite capacity; commits nothing");
  plan_common(plan_propose);
  plan_propose->add_option("--objective", plan.objective, "makespan | weighted_tardiness | late_orders")
      ->capture_default_str();
  plan_propose->add_option("--direction", plan.direction, "forward | backward (from due dates)")
      ->capture_default_str();
  plan_propose->add_option("--horizon-start", plan.horizon_start, "RFC 3339 (default: now)");
  plan_propose->add_option("--horizon-days", plan.horizon_days, "Days of calendar")->capture_default_str();
  plan_propose->add_option("--time-limit", plan.time_limit, "Seconds of search")->capture_default_str();
  plan_propose->add_option("--iterations", plan.iterations, "Stop after this many (deterministic)");
  plan_propose->add_option("--seed", plan.seed, "Random seed")->capture_default_str();
  plan_propose->add_option("--out", plan.out, "Write the proposal's JSON here, for commit");
  plan_propose->add_flag("--json", plan.json, "Protobuf JSON of the proposal");
  plan_propose->callback([&] { exit_code = RunSchedulePropose(plan, std::cout, std::cerr); });
  CLI::App* plan_commit = schedule->add_subcommand(
      "commit", "Commit a proposal (checked again against the current orders and calendars)");
  plan_common(plan_commit);
  plan_commit->add_option("--file", plan.file, "proposal .json from propose --out")->required();
  plan_commit->add_flag("--json", plan.json, "Protobuf JSON of the response");
  plan_commit->callback([&] { exit_code = RunScheduleCommit(plan, std::cout, std::cerr); });
  CLI::App* plan_orders = schedule->add_subcommand("orders", "Work orders and their planned windows");
  plan_common(plan_orders);
  plan_orders->add_flag("--json", plan.json, "Protobuf JSON");
  plan_orders->callback([&] { exit_code = RunScheduleOrders(plan, std::cout, std::cerr); });

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace takt::cli
