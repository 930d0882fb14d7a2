#include "libs/eventlog/kafka_mock.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must come after rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include "absl/strings/str_cat.h"
#include "libs/eventlog/kafka_log.h"

namespace takt::eventlog {

struct KafkaMockCluster::Impl {
  rd_kafka_t* owner = nullptr;  // the client instance the cluster lives in
  rd_kafka_mock_cluster_t* cluster = nullptr;
  ~Impl() {
    if (cluster) rd_kafka_mock_cluster_destroy(cluster);
    if (owner) rd_kafka_destroy(owner);
  }
};

KafkaMockCluster::~KafkaMockCluster() = default;

absl::StatusOr<std::unique_ptr<KafkaMockCluster>> KafkaMockCluster::Start(int brokers) {
  if (brokers < 1 || brokers > 16) return absl::InvalidArgumentError("brokers: 1 to 16");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  std::unique_ptr<KafkaMockCluster> out(new KafkaMockCluster);
  out->impl_ = std::make_unique<Impl>();
  out->impl_->owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (out->impl_->owner == nullptr) {
    return absl::InternalError(absl::StrCat("mock cluster host client: ", err));
  }
  out->impl_->cluster = rd_kafka_mock_cluster_new(out->impl_->owner, brokers);
  if (out->impl_->cluster == nullptr) return absl::InternalError("mock cluster did not start");
  out->bootstraps_ = rd_kafka_mock_cluster_bootstraps(out->impl_->cluster);
  return out;
}

absl::Status KafkaMockCluster::CreateTopic(const std::string& topic, int partitions,
                                           int replication) {
  rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("creating ", topic, ": ", rd_kafka_err2str(e)));
  }
  return absl::OkStatus();
}

absl::Status KafkaMockCluster::CreateTopics(const std::vector<std::string>& contexts,
                                           int partitions) {
  for (const std::string& context : contexts) {
    absl::Status s = CreateTopic(KafkaTopicFor(context), partitions);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

void KafkaMockCluster::SetBrokerDown(int broker_id) {
  rd_kafka_mock_broker_set_down(impl_->cluster, broker_id);
}

void KafkaMockCluster::SetBrokerUp(int broker_id) {
  rd_kafka_mock_broker_set_up(impl_->cluster, broker_id);
}

void KafkaMockCluster::PushRequestErrors(int api_key, int count, int error) {
  for (int i = 0; i < count; ++i) {
    rd_kafka_mock_push_request_errors(impl_->cluster, static_cast<int16_t>(api_key), 1,
                                      static_cast<rd_kafka_resp_err_t>(error));
  }
}

}  // namespace takt::eventlog
