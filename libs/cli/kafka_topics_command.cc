#include "libs/cli/kafka_topics_command.h"

#include "absl/strings/str_cat.h"
#include "libs/cli/serve_config.h"
#include "libs/eventlog/kafka_topics.h"
#include "nlohmann/json.hpp"

namespace takt::cli {
namespace {

int Report(const absl::StatusOr<std::vector<eventlog::TopicReport>>& reports, const char* verb,
           bool json, std::ostream& out, std::ostream& err) {
  if (!reports.ok()) {
    err << "takt: kafka topics " << verb << ": " << reports.status().message() << "\n";
    return 2;
  }
  bool fatal = false;
  nlohmann::json list = nlohmann::json::array();
  for (const eventlog::TopicReport& r : *reports) {
    nlohmann::json problems = nlohmann::json::array();
    for (const eventlog::TopicProblem& p : r.problems) {
      fatal = fatal || p.fatal;
      problems.push_back({{"setting", p.setting}, {"found", p.found}, {"need", p.need},
                          {"loses_events", p.fatal}});
    }
    list.push_back({{"topic", r.topic}, {"created", r.created}, {"partitions", r.partitions},
                    {"replication_factor", r.replication_factor}, {"problems", problems}});
    if (!json) {
      out << r.topic << ": " << (r.created ? "created" : "exists") << ", " << r.partitions
          << " partitions, replication factor " << r.replication_factor
          << (r.problems.empty() ? ", settings fine" : "") << "\n";
      for (const eventlog::TopicProblem& p : r.problems) {
        out << "  " << (p.fatal ? "REFUSED AT START" : "warning") << ": " << p.setting << " is "
            << p.found << "; need " << p.need << "\n";
      }
    }
  }
  if (json) out << nlohmann::json{{"topics", list}, {"ok", !fatal}}.dump() << "\n";
  if (fatal && !json) {
    out << "a topic above would lose events: takt serve refuses to start on it. Change it with "
           "kafka-configs.sh --alter --entity-type topics --entity-name TOPIC --add-config "
           "retention.ms=-1,retention.bytes=-1,cleanup.policy=delete\n";
  }
  return fatal ? 1 : 0;
}

}  // namespace

int RunKafkaTopicsCreate(const KafkaTopicsArgs& args, std::ostream& out, std::ostream& err) {
  auto config = ReadKafkaProperties(args.kafka_properties, args.kafka_properties_file);
  if (!config.ok()) {
    err << "takt: kafka topics create: " << config.status().message() << "\n";
    return 2;
  }
  return Report(eventlog::CreateEventTopics(args.brokers, *config, args.contexts, args.partitions,
                                            args.replication_factor,
                                            absl::Seconds(args.timeout_seconds)),
                "create", args.json, out, err);
}

int RunKafkaTopicsCheck(const KafkaTopicsArgs& args, std::ostream& out, std::ostream& err) {
  auto config = ReadKafkaProperties(args.kafka_properties, args.kafka_properties_file);
  if (!config.ok()) {
    err << "takt: kafka topics check: " << config.status().message() << "\n";
    return 2;
  }
  return Report(eventlog::DescribeEventTopics(args.brokers, *config, args.contexts,
                                              absl::Seconds(args.timeout_seconds)),
                "check", args.json, out, err);
}

}  // namespace takt::cli
