// File: kafka_dev.h
// -----------------------------------------------------------------------------
// `takt kafka-dev`: librdkafka's mock Kafka cluster on loopback, with Takt's
// topics created, for tests and local multi-process runs. In memory, bounded
// retention; never for production.
#ifndef TAKT_LIBS_CLI_KAFKA_DEV_H_
#define TAKT_LIBS_CLI_KAFKA_DEV_H_

#include <ostream>
#include <string>
#include <vector>

namespace takt::cli {

struct KafkaDevArgs {
  bool json = false;
  int brokers = 1;
  int partitions = 4;
  std::string address_file;
  // The contexts that get a topic takt.<context>.v1 (the registry's).
  std::vector<std::string> contexts;
};

// Runs until SIGINT or SIGTERM. Returns the exit code.
int RunKafkaDev(const KafkaDevArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_KAFKA_DEV_H_
