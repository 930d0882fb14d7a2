#include "libs/cli/kafka_dev.h"

#include <csignal>
#include <fstream>

#include "absl/time/clock.h"
#include "libs/eventlog/kafka_mock.h"
#include "nlohmann/json.hpp"

namespace takt::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int RunKafkaDev(const KafkaDevArgs& args, std::ostream& out, std::ostream& err) {
  auto cluster = eventlog::KafkaMockCluster::Start(args.brokers);
  if (!cluster.ok()) {
    err << "takt: kafka-dev: " << cluster.status().message() << "\n";
    return 2;
  }
  absl::Status s = (*cluster)->CreateTopics(args.contexts, args.partitions);
  if (!s.ok()) {
    err << "takt: kafka-dev: " << s.message() << "\n";
    return 2;
  }
  const std::string& bootstrap = (*cluster)->bootstrap_servers();
  if (!args.address_file.empty()) {
    std::ofstream f(args.address_file, std::ios::trunc);
    f << bootstrap << "\n";
  }
  if (args.json) {
    out << nlohmann::json{{"bootstrap_servers", bootstrap}}.dump() << std::endl;
  } else {
    out << bootstrap << std::endl;
  }
  err << "takt kafka-dev: librdkafka mock cluster (" << args.brokers << " broker(s), "
      << args.partitions
      << " partitions per topic) is IN MEMORY with bounded retention (about 5 MiB or 100k "
         "messages per partition): for tests and local runs only. Ctrl-C stops it."
      << std::endl;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) absl::SleepFor(absl::Milliseconds(100));
  return 0;
}

}  // namespace takt::cli
