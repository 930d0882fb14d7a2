#include "libs/cli/serve_command.h"

#include <csignal>
#include <thread>

#include "absl/strings/str_join.h"
#include "libs/cli/serve_config.h"
#include "libs/common/log.h"
#include "libs/host/host.h"
#include "services/registry.h"

namespace takt::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int RunServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  if (absl::Status f = log::SetFormat(args.log_format); !f.ok()) {
    err << "takt: serve: --log-format: " << f.message() << "\n";
    return 2;
  }
  host::ServerOptions o;
  o.data_dir = args.data_dir;
  o.listen = args.listen;
  o.kafka_brokers = args.kafka_brokers;
  o.owner_id = args.owner_id;
  o.services = args.services;
  o.module_flags = args.module_flags;
  o.security = args.security;  // --insecure: the host warns in its log
  o.http_listen = args.http_listen;
  o.http_static = args.http_static;
  auto record_reads = host::ParseReadRecording(args.record_reads);
  if (!record_reads.ok()) {
    err << "takt: serve: " << record_reads.status().message() << "\n";
    return 2;
  }
  o.record_reads = *record_reads;
  o.admin_listen = args.admin_listen;
  o.backup_root = args.backup_root;
  auto kafka_config = ReadKafkaProperties(args.kafka_properties, args.kafka_properties_file);
  if (!kafka_config.ok()) {
    err << "takt: serve: " << kafka_config.status().message() << "\n";
    return 2;
  }
  o.kafka_config = *std::move(kafka_config);
  o.shutdown_grace = absl::Seconds(args.shutdown_grace_seconds);
  o.stream_idle_timeout = absl::Seconds(args.stream_idle_timeout_seconds);
  auto server = services::StartServer(o);
  if (!server.ok()) {
    err << "takt: serve: " << server.status().message() << "\n";
    return 2;
  }
  out << "takt serving on port " << (*server)->port() << " ("
      << (args.services.empty() ? std::string("all services") : absl::StrJoin(args.services, ", "))
      << "; data in " << args.data_dir << ", "
      << (args.kafka_brokers.empty() ? std::string("embedded log")
                                     : "Kafka log at " + args.kafka_brokers + ", owner " + args.owner_id)
      << ")" << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::thread waiter([&] { (*server)->Wait(); });
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  out << "takt: stopping: no new calls; those in flight have " << args.shutdown_grace_seconds << " s" << std::endl;
  (*server)->Shutdown();
  waiter.join();
  return 0;
}

}  // namespace takt::cli
