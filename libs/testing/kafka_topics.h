// File: kafka_topics.h
// -----------------------------------------------------------------------------
// Every byte a Kafka cluster holds, for tests that must prove a string is
// nowhere in it (the staffing erasure canary): the key and value of every
// message of every topic (internal ones too), read uncommitted so aborted
// transactions count as well. What `kcat -C -e` over every topic would print.
// Link PkgConfig::RDKAFKA.
#ifndef TAKT_LIBS_TESTING_KAFKA_TOPICS_H_
#define TAKT_LIBS_TESTING_KAFKA_TOPICS_H_

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace takt::testing {

// The concatenated keys and values of all messages; `messages` (if set)
// gets their count.
inline absl::StatusOr<std::string> ReadAllTopics(const std::string& brokers, size_t* messages = nullptr) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"bootstrap.servers", brokers},
           {"group.id", "takt-test-dump"},
           {"enable.auto.commit", "false"},
           {"enable.partition.eof", "true"},
           {"isolation.level", "read_uncommitted"},
           {"log_level", "3"}}) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) return absl::InternalError(err);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer) return absl::UnavailableError(err);
  RdKafka::Metadata* raw = nullptr;
  if (RdKafka::ErrorCode e = consumer->metadata(true, nullptr, &raw, 10000); e != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("metadata: ", RdKafka::err2str(e)));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const RdKafka::TopicMetadata* t : *metadata->topics()) {
    for (const RdKafka::PartitionMetadata* p : *t->partitions()) {
      partitions.push_back(RdKafka::TopicPartition::create(t->topic(), p->id(), RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  const size_t total = partitions.size();
  RdKafka::ErrorCode assigned = consumer->assign(partitions);
  RdKafka::TopicPartition::destroy(partitions);
  if (assigned != RdKafka::ERR_NO_ERROR) return absl::InternalError(RdKafka::err2str(assigned));
  std::string out;
  size_t count = 0;
  std::set<std::pair<std::string, int32_t>> at_end;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (at_end.size() < total) {
    if (std::chrono::steady_clock::now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("read ", at_end.size(), " of ", total, " partitions"));
    }
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      at_end.insert({m->topic_name(), m->partition()});
    } else if (m->err() == RdKafka::ERR_NO_ERROR) {
      // A new message after EOF reopens the partition.
      at_end.erase({m->topic_name(), m->partition()});
      if (m->key() != nullptr) out += *m->key();
      if (RdKafka::Headers* headers = m->headers(); headers != nullptr) {
        for (const RdKafka::Headers::Header& h : headers->get_all()) {
          out += h.key();
          if (h.value() != nullptr) out.append(static_cast<const char*>(h.value()), h.value_size());
        }
      }
      out.append(static_cast<const char*>(m->payload()), m->len());
      ++count;
    } else if (m->err() != RdKafka::ERR__TIMED_OUT) {
      return absl::UnavailableError(absl::StrCat("consume: ", m->errstr()));
    }
  }
  consumer->close();
  if (messages != nullptr) *messages = count;
  return out;
}

}  // namespace takt::testing

#endif  // TAKT_LIBS_TESTING_KAFKA_TOPICS_H_
