// File: kafka_mock.h
// -----------------------------------------------------------------------------
// librdkafka's in-process mock Kafka cluster, for tests and `takt kafka-dev`.
// It speaks the Kafka protocol on loopback, keeps data in memory with bounded
// retention (about 5 MiB or 100k messages per partition) and does NOT hide
// aborted transactions from read_committed readers. Never a default; never
// for data anyone needs.
#ifndef TAKT_LIBS_EVENTLOG_KAFKA_MOCK_H_
#define TAKT_LIBS_EVENTLOG_KAFKA_MOCK_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace takt::eventlog {

class KafkaMockCluster {
 public:
  ~KafkaMockCluster();
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  static absl::StatusOr<std::unique_ptr<KafkaMockCluster>> Start(int brokers);

  // Comma-separated host:port list for bootstrap.servers.
  const std::string& bootstrap_servers() const { return bootstraps_; }

  absl::Status CreateTopic(const std::string& topic, int partitions, int replication = 1);
  // Creates takt.<context>.v1 for each context.
  absl::Status CreateTopics(const std::vector<std::string>& contexts, int partitions);

  // Broker outage: -1 for all brokers.
  void SetBrokerDown(int broker_id);
  void SetBrokerUp(int broker_id);
  // The next `count` requests with Kafka API key `api_key` fail with `error`
  // (an rd_kafka_resp_err_t value).
  void PushRequestErrors(int api_key, int count, int error);

 private:
  KafkaMockCluster() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstraps_;
};

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_KAFKA_MOCK_H_
