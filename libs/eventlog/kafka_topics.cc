#include "libs/eventlog/kafka_topics.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/kafka_log.h"

namespace takt::eventlog {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
template <typename T>
using Owned = std::unique_ptr<T, KafkaDeleter>;

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// An admin client: a producer handle that never produces.
absl::StatusOr<Owned<rd_kafka_t>> AdminClient(const std::string& brokers,
                                              const std::map<std::string, std::string>& config) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& k, const std::string& v) -> absl::Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("Kafka property ", k, ": ", err));
    }
    return absl::OkStatus();
  };
  // The calls' own errors say what failed; librdkafka's log lines on stderr
  // would only repeat them (a property given in `config` wins).
  absl::Status s = set("bootstrap.servers", brokers);
  if (s.ok()) s = set("log_level", "0");
  for (const auto& [k, v] : config) {
    if (s.ok()) s = set(k, v);
  }
  if (!s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // not taken over on failure
    return absl::UnavailableError(absl::StrCat("creating a Kafka admin client: ", err));
  }
  return Owned<rd_kafka_t>(rk);
}

absl::StatusOr<Owned<rd_kafka_AdminOptions_t>> Options(rd_kafka_t* rk, rd_kafka_admin_op_t op,
                                                       absl::Duration timeout) {
  Owned<rd_kafka_AdminOptions_t> o(rd_kafka_AdminOptions_new(rk, op));
  char err[512];
  if (rd_kafka_AdminOptions_set_request_timeout(o.get(), Millis(timeout), err, sizeof err) ||
      (op == RD_KAFKA_ADMIN_OP_CREATETOPICS &&
       rd_kafka_AdminOptions_set_operation_timeout(o.get(), Millis(timeout), err, sizeof err))) {
    return absl::InvalidArgumentError(err);
  }
  return o;
}

// Waits for the result event of one admin call; an error of the call as a
// whole becomes a status.
absl::StatusOr<Owned<rd_kafka_event_t>> Await(rd_kafka_queue_t* q, absl::Duration timeout,
                                              const char* what) {
  Owned<rd_kafka_event_t> ev(rd_kafka_queue_poll(q, Millis(timeout + absl::Seconds(2))));
  if (!ev) return absl::DeadlineExceededError(absl::StrCat("Kafka ", what, ": no answer in time"));
  rd_kafka_resp_err_t code = rd_kafka_event_error(ev.get());
  if (code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
      code == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
    return absl::UnimplementedError(absl::StrCat("the Kafka cluster does not support ", what,
                                                 " (librdkafka's mock cluster does not): ",
                                                 rd_kafka_event_error_string(ev.get())));
  }
  if (code == RD_KAFKA_RESP_ERR__TIMED_OUT || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
      code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    return absl::UnavailableError(
        absl::StrCat("Kafka ", what, ": ", rd_kafka_event_error_string(ev.get())));
  }
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::FailedPreconditionError(
        absl::StrCat("Kafka ", what, ": ", rd_kafka_event_error_string(ev.get())));
  }
  return ev;
}

struct ClusterLayout {
  std::set<int32_t> brokers;
  // Partitions and replication factor of each topic that exists.
  std::map<std::string, std::pair<int, int>> topics;
};

absl::StatusOr<ClusterLayout> Layout(rd_kafka_t* rk, absl::Duration timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t code = rd_kafka_metadata(rk, 1, nullptr, &raw, Millis(timeout));
  if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("Kafka metadata: ", rd_kafka_err2str(code)));
  }
  Owned<const rd_kafka_metadata_t> md(raw);
  ClusterLayout out;
  for (int i = 0; i < md->broker_cnt; ++i) out.brokers.insert(md->brokers[i].id);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt == 0) continue;
    out.topics[t.topic] = {t.partition_cnt, t.partitions[0].replica_cnt};
  }
  return out;
}

}  // namespace

std::map<std::string, std::string> EventTopicConfig(int replication_factor) {
  return {
      {"cleanup.policy", "delete"},
      {"retention.ms", "-1"},
      {"retention.bytes", "-1"},
      {"min.insync.replicas", replication_factor >= 3 ? "2" : "1"},
      {"unclean.leader.election.enable", "false"},
  };
}

std::string ToString(const TopicProblem& p) {
  return absl::StrCat(p.topic, ": ", p.setting, " is ", p.found, "; need ", p.need);
}

std::vector<TopicProblem> CheckTopicConfig(const std::string& topic,
                                           const std::map<std::string, std::string>& config,
                                           int replication_factor) {
  std::vector<TopicProblem> out;
  auto value = [&](const char* key) -> const std::string* {
    auto it = config.find(key);
    return it == config.end() ? nullptr : &it->second;
  };
  if (const std::string* v = value("cleanup.policy");
      v != nullptr && v->find("compact") != std::string::npos) {
    out.push_back({topic, "cleanup.policy", *v,
                   "delete (compaction keeps one record per facility and drops the rest of its "
                   "history)",
                   true});
  }
  for (const char* key : {"retention.ms", "retention.bytes"}) {
    if (const std::string* v = value(key); v != nullptr && *v != "-1") {
      out.push_back({topic, key, *v, "-1 (the log is the record: events are never deleted)", true});
    }
  }
  if (const std::string* v = value("min.insync.replicas"); v != nullptr && replication_factor >= 3) {
    int n = 0;
    if (!absl::SimpleAtoi(*v, &n) || n < 2) {
      out.push_back({topic, "min.insync.replicas", *v,
                     "at least 2 with 3 replicas (else one broker's loss can lose acknowledged "
                     "events)",
                     false});
    }
  }
  if (replication_factor > 0 && replication_factor < 3) {
    out.push_back({topic, "replication factor", absl::StrCat(replication_factor),
                   "3 in production (fewer copies survive fewer broker losses)", false});
  }
  if (const std::string* v = value("unclean.leader.election.enable"); v != nullptr && *v == "true") {
    out.push_back({topic, "unclean.leader.election.enable", *v,
                   "false (an out-of-sync replica taking over drops acknowledged events)", false});
  }
  return out;
}

absl::StatusOr<std::vector<TopicReport>> DescribeEventTopics(
    const std::string& brokers, const std::map<std::string, std::string>& client_config,
    const std::vector<std::string>& contexts, absl::Duration timeout) {
  TAKT_ASSIGN_OR_RETURN(Owned<rd_kafka_t> rk, AdminClient(brokers, client_config));
  TAKT_ASSIGN_OR_RETURN(auto layout, Layout(rk.get(), timeout));
  std::vector<TopicReport> reports;
  for (const std::string& context : contexts) {
    TopicReport r;
    r.topic = KafkaTopicFor(context);
    auto it = layout.topics.find(r.topic);
    if (it == layout.topics.end()) {
      return absl::NotFoundError(absl::StrCat("Kafka topic ", r.topic,
                                              " does not exist: create the topics with takt kafka "
                                              "topics create"));
    }
    r.partitions = it->second.first;
    r.replication_factor = it->second.second;
    reports.push_back(std::move(r));
  }
  if (reports.empty()) return reports;
  // Topic configurations are described by the controller. A cluster whose
  // metadata (just read) names none of its brokers as controller cannot
  // answer; librdkafka would wait out the whole timeout for one.
  if (layout.brokers.count(rd_kafka_controllerid(rk.get(), 0)) == 0) {
    return absl::UnimplementedError(
        "the Kafka cluster names no controller, so topic settings cannot be described "
        "(librdkafka's mock cluster names none)");
  }

  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const TopicReport& r : reports) {
    resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, r.topic.c_str()));
  }
  Owned<rd_kafka_queue_t> q(rd_kafka_queue_new(rk.get()));
  auto options = Options(rk.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout);
  if (options.ok()) {
    rd_kafka_DescribeConfigs(rk.get(), resources.data(), resources.size(), options->get(), q.get());
  }
  rd_kafka_ConfigResource_destroy_array(resources.data(), resources.size());
  if (!options.ok()) return options.status();
  TAKT_ASSIGN_OR_RETURN(Owned<rd_kafka_event_t> ev, Await(q.get(), timeout, "DescribeConfigs"));
  const rd_kafka_DescribeConfigs_result_t* result = rd_kafka_event_DescribeConfigs_result(ev.get());
  size_t count = 0;
  const rd_kafka_ConfigResource_t** described =
      result == nullptr ? nullptr : rd_kafka_DescribeConfigs_result_resources(result, &count);
  for (size_t i = 0; i < count; ++i) {
    const std::string name = rd_kafka_ConfigResource_name(described[i]);
    if (rd_kafka_ConfigResource_error(described[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::FailedPreconditionError(
          absl::StrCat("Kafka DescribeConfigs of ", name, ": ",
                       rd_kafka_ConfigResource_error_string(described[i])));
    }
    std::map<std::string, std::string> config;
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** e = rd_kafka_ConfigResource_configs(described[i], &entries);
    for (size_t j = 0; j < entries; ++j) {
      const char* v = rd_kafka_ConfigEntry_value(e[j]);
      config[rd_kafka_ConfigEntry_name(e[j])] = v == nullptr ? "" : v;
    }
    for (TopicReport& r : reports) {
      if (r.topic == name) r.problems = CheckTopicConfig(name, config, r.replication_factor);
    }
  }
  return reports;
}

absl::StatusOr<std::vector<TopicReport>> CreateEventTopics(
    const std::string& brokers, const std::map<std::string, std::string>& client_config,
    const std::vector<std::string>& contexts, int partitions, int replication_factor,
    absl::Duration timeout) {
  if (partitions < 1 || partitions > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions must be between 1 and 10000, not ", partitions));
  }
  if (replication_factor < 1 || replication_factor > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("replication factor must be between 1 and 100, not ", replication_factor));
  }
  TAKT_ASSIGN_OR_RETURN(Owned<rd_kafka_t> rk, AdminClient(brokers, client_config));
  TAKT_ASSIGN_OR_RETURN(auto layout, Layout(rk.get(), timeout));
  std::vector<rd_kafka_NewTopic_t*> topics;
  std::set<std::string> creating;
  absl::Status made = absl::OkStatus();
  char err[512];
  for (const std::string& context : contexts) {
    const std::string name = KafkaTopicFor(context);
    if (layout.topics.count(name)) continue;
    rd_kafka_NewTopic_t* t = rd_kafka_NewTopic_new(name.c_str(), partitions, replication_factor,
                                                   err, sizeof err);
    if (t == nullptr) {
      made = absl::InvalidArgumentError(absl::StrCat(name, ": ", err));
      break;
    }
    topics.push_back(t);
    creating.insert(name);
    for (const auto& [k, v] : EventTopicConfig(replication_factor)) {
      if (rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        made = absl::InvalidArgumentError(absl::StrCat(name, ": cannot set ", k));
      }
    }
  }
  if (made.ok() && !topics.empty() && layout.brokers.count(rd_kafka_controllerid(rk.get(), 0)) == 0) {
    made = absl::UnimplementedError(
        "the Kafka cluster names no controller, so it cannot create topics (librdkafka's mock "
        "cluster names none; takt kafka-dev creates its own topics)");
  }
  if (made.ok() && !topics.empty()) {
    Owned<rd_kafka_queue_t> q(rd_kafka_queue_new(rk.get()));
    auto options = Options(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
    if (!options.ok()) {
      made = options.status();
    } else {
      rd_kafka_CreateTopics(rk.get(), topics.data(), topics.size(), options->get(), q.get());
      auto ev = Await(q.get(), timeout, "CreateTopics");
      if (!ev.ok()) {
        made = ev.status();
      } else {
        const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev->get());
        size_t count = 0;
        const rd_kafka_topic_result_t** each =
            result == nullptr ? nullptr : rd_kafka_CreateTopics_result_topics(result, &count);
        for (size_t i = 0; i < count && made.ok(); ++i) {
          rd_kafka_resp_err_t code = rd_kafka_topic_result_error(each[i]);
          const std::string name = rd_kafka_topic_result_name(each[i]);
          if (code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            creating.erase(name);  // someone else made it meanwhile
          } else if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char* why = rd_kafka_topic_result_error_string(each[i]);
            made = absl::FailedPreconditionError(absl::StrCat(
                "Kafka refused to create ", name, ": ", why != nullptr ? why : rd_kafka_err2str(code)));
          }
        }
      }
    }
  }
  rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
  TAKT_RETURN_IF_ERROR(made);
  // A newly created topic can take a moment to show in metadata.
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    auto reports = DescribeEventTopics(brokers, client_config, contexts, timeout);
    if (reports.ok() || !absl::IsNotFound(reports.status()) || absl::Now() > deadline) {
      if (reports.ok()) {
        for (TopicReport& r : *reports) r.created = creating.count(r.topic) > 0;
      }
      return reports;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

}  // namespace takt::eventlog
