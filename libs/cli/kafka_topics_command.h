// File: kafka_topics_command.h
// -----------------------------------------------------------------------------
// `takt kafka topics create|check`: creates Takt's event topics on a real
// Kafka cluster with the settings the log needs, or checks existing ones
// (libs/eventlog/kafka_topics.h says which settings and why).
#ifndef TAKT_LIBS_CLI_KAFKA_TOPICS_COMMAND_H_
#define TAKT_LIBS_CLI_KAFKA_TOPICS_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace takt::cli {

struct KafkaTopicsArgs {
  std::string brokers;
  std::vector<std::string> kafka_properties;  // key=value
  std::string kafka_properties_file;
  int partitions = 0;          // create
  int replication_factor = 3;  // create
  double timeout_seconds = 30;
  bool json = false;
  // The contexts whose topics (takt.<context>.v1) to create or check.
  std::vector<std::string> contexts;
};

// Exit codes: 0 every topic is fine, 1 a topic has a setting that loses
// events (create leaves existing topics as they are), 2 an error.
int RunKafkaTopicsCreate(const KafkaTopicsArgs& args, std::ostream& out, std::ostream& err);
int RunKafkaTopicsCheck(const KafkaTopicsArgs& args, std::ostream& out, std::ostream& err);

}  // namespace takt::cli

#endif  // TAKT_LIBS_CLI_KAFKA_TOPICS_COMMAND_H_
