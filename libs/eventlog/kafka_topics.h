// File: kafka_topics.h
// -----------------------------------------------------------------------------
// The Kafka topics of the event log (takt.<context>.v1): the settings Takt
// needs of them, their creation through librdkafka's admin API, and the check
// a server makes at start.
//
// The log is the record, so an event topic must keep every event forever and
// never compact by key: retention.ms=-1, retention.bytes=-1,
// cleanup.policy=delete. A topic that deletes or compacts events is refused
// at start. Durability settings (min.insync.replicas of at least 2 with a
// replication factor of 3 or more, no unclean leader election) are checked
// and reported as warnings: a cluster without them can lose acknowledged
// events when a broker dies, but the choice belongs to its operator.
#ifndef TAKT_LIBS_EVENTLOG_KAFKA_TOPICS_H_
#define TAKT_LIBS_EVENTLOG_KAFKA_TOPICS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace takt::eventlog {

// The configuration Takt creates its event topics with.
std::map<std::string, std::string> EventTopicConfig(int replication_factor);

struct TopicProblem {
  std::string topic;
  std::string setting;
  std::string found;
  std::string need;
  bool fatal = false;  // the topic loses events: refused at start
};

// "topic: setting is found; need need (why)".
std::string ToString(const TopicProblem& problem);

// The problems of one topic's configuration as the broker describes it
// (entries the broker does not report are not judged). Pure.
std::vector<TopicProblem> CheckTopicConfig(const std::string& topic,
                                           const std::map<std::string, std::string>& config,
                                           int replication_factor);

struct TopicReport {
  std::string topic;
  bool created = false;  // created by this call (else it existed)
  int partitions = 0;
  int replication_factor = 0;
  std::vector<TopicProblem> problems;
};

// Creates the topic of each of `contexts` that does not exist yet, with
// `partitions` partitions, `replication_factor` replicas and
// EventTopicConfig; then checks every one (an existing topic keeps its own
// settings and is reported with its problems). `client_config` holds the
// librdkafka properties of a secured cluster.
absl::StatusOr<std::vector<TopicReport>> CreateEventTopics(
    const std::string& brokers, const std::map<std::string, std::string>& client_config,
    const std::vector<std::string>& contexts, int partitions, int replication_factor,
    absl::Duration timeout);

// Describes the topics of `contexts`: partitions, replication and the
// problems of their settings. NOT_FOUND names a missing topic; UNIMPLEMENTED
// when the cluster cannot describe topic configurations (librdkafka's mock
// cluster cannot).
absl::StatusOr<std::vector<TopicReport>> DescribeEventTopics(
    const std::string& brokers, const std::map<std::string, std::string>& client_config,
    const std::vector<std::string>& contexts, absl::Duration timeout);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_KAFKA_TOPICS_H_
