// The Kafka backend against librdkafka's mock cluster (in-process, real Kafka
// protocol). The mock does not hide aborted transactions from read_committed
// readers, so that one check runs only against a real broker given in
// TAKT_TEST_KAFKA_BROKERS.
#include "libs/eventlog/kafka_log.h"

#include <librdkafka/rdkafkacpp.h>

#include <cstdlib>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/common/ids.h"
#include "libs/eventlog/kafka_mock.h"
#include "libs/eventlog/kafka_topics.h"
#include "libs/eventlog/sample_events.h"
#include "libs/testing/temp_dir.h"

namespace takt::eventlog {
namespace {

KafkaMockCluster* g_cluster = nullptr;

class MockClusterEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto c = KafkaMockCluster::Start(3);
    ASSERT_TRUE(c.ok()) << c.status();
    cluster_ = std::move(*c);
    ASSERT_TRUE(cluster_->CreateTopics({"enterprise", "scheduling", "audit"}, 3).ok());
    g_cluster = cluster_.get();
  }
  void TearDown() override {
    g_cluster = nullptr;
    cluster_.reset();
  }

 private:
  std::unique_ptr<KafkaMockCluster> cluster_;
};

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new MockClusterEnvironment);

class KafkaLogTest : public ::testing::Test {
 protected:
  KafkaLogOptions Options(const std::string& owner) {
    KafkaLogOptions o;
    o.brokers = g_cluster->bootstrap_servers();
    o.owner_id = owner;
    o.contexts = {"scheduling"};
    o.signing_key_path = dir_.path() + "/checkpoint.key";
    o.checkpoint_interval = 10;
    o.append_timeout = absl::Seconds(2);
    o.client_config = {{"fetch.wait.max.ms", "10"}, {"retry.backoff.ms", "20"},
                       {"log_level", "0"}};
    return o;
  }
  std::unique_ptr<EventLog> Open(const std::string& owner) {
    auto log = OpenKafkaLog(Options(owner));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }
  // Reads a context's events for facilities starting with `prefix`: at
  // least `expected` of them, and then whatever else arrives within 300 ms
  // (so that an extra copy would be seen).
  std::vector<LoggedEvent> ReadAll(EventLog& log, const std::string& prefix, size_t expected) {
    auto sub = log.Subscribe("scheduling", {});
    EXPECT_TRUE(sub.ok());
    std::vector<LoggedEvent> out;
    absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (absl::Now() < give_up) {
      auto batch = (*sub)->Poll(1000, absl::Milliseconds(300));
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok()) break;
      if (batch->empty() && out.size() >= expected) break;
      for (auto& e : *batch) {
        if (e.envelope.facility().rfind(prefix, 0) == 0) out.push_back(std::move(e));
      }
    }
    return out;
  }
  testing::TempDir dir_;
};

TEST_F(KafkaLogTest, CommittedEventsAreVisibleExactlyOnceInOrder) {
  auto log = Open("visible");
  std::map<std::string, std::vector<Position>> positions;
  for (int i = 0; i < 6; ++i) {
    std::string facility = absl::StrCat("vis-", i % 3);
    auto r = log->Append(SampleAppend(facility, 4, 50));
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& e : r->events) positions[facility].push_back(e.position);
  }
  auto events = ReadAll(*log, "vis-", 24);
  ASSERT_EQ(events.size(), 24u);
  std::map<std::string, uint64_t> last;
  std::set<std::string> ids;
  for (const auto& e : events) {
    const std::string& f = e.envelope.facility();
    EXPECT_EQ(e.envelope.sequence(), last[f] + 1) << f;
    last[f] = e.envelope.sequence();
    EXPECT_TRUE(ids.insert(e.envelope.event_id()).second);
    const Position& appended = positions[f][e.envelope.sequence() - 1];
    EXPECT_EQ(appended.partition, e.position.partition);
    EXPECT_EQ(appended.offset, e.position.offset);
    EXPECT_EQ(e.position.partition,
              std::to_string(KafkaPartitionFor(f, 3)));
  }
  auto stream = log->ReadStream({"scheduling", "vis-1"}, 3, 100);
  ASSERT_TRUE(stream.ok()) << stream.status();
  ASSERT_EQ(stream->size(), 6u);
  EXPECT_EQ((*stream)[0].envelope.sequence(), 3u);
  ASSERT_TRUE(log->CheckpointAll().ok());
  VerifyOptions vo;
  vo.facility = "vis-1";
  auto report = log->Verify(vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, 8u);
  EXPECT_EQ(report->checkpoints_checked, 1u);
}

TEST_F(KafkaLogTest, RestartRebuildsHeadsAndDedupFromTheLog) {
  AppendRequest cmd = SampleAppend("restart-1", 3);
  for (auto& e : cmd.events) e.set_request_id("wo-create-9");
  AppendRequest obs;
  obs.context = "scheduling";
  obs.facility = "restart-1";
  obs.events = {SampleEvent("good=3", "plc-1", 77)};
  std::vector<AppendedEvent> original;
  {
    auto log = Open("restart");
    ASSERT_TRUE(log->Append(SampleAppend("restart-1", 2)).ok());
    auto r = log->Append(cmd);
    ASSERT_TRUE(r.ok()) << r.status();
    original = r->events;
    ASSERT_TRUE(log->Append(obs).ok());
  }
  auto log = Open("restart");
  auto heads = log->Heads("scheduling");
  ASSERT_TRUE(heads.ok());
  auto head = std::find_if(heads->begin(), heads->end(),
                           [](const StreamHead& h) { return h.stream.facility == "restart-1"; });
  ASSERT_NE(head, heads->end());
  EXPECT_EQ(head->sequence, 6u);
  auto again = log->Append(cmd);
  ASSERT_TRUE(again.ok()) << again.status();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(again->events[i].duplicate);
    EXPECT_EQ(again->events[i].sequence, original[i].sequence);
    EXPECT_EQ(again->events[i].position.offset, original[i].position.offset);
  }
  auto obs_again = log->Append(obs);
  ASSERT_TRUE(obs_again.ok());
  EXPECT_TRUE(obs_again->events[0].duplicate);
  cmd.events[1].set_payload("changed");
  EXPECT_EQ(log->Append(cmd).status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(log->Append(SampleAppend("restart-1", 1, 10, 6)).ok());
  EXPECT_EQ(ReadAll(*log, "restart-1", 7).size(), 7u);
  VerifyOptions vo;
  vo.facility = "restart-1";
  auto report = log->Verify(vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
}

TEST_F(KafkaLogTest, ASecondOwnerWithTheSameIdFencesTheFirst) {
  auto first = Open("fence");
  ASSERT_TRUE(first->Append(SampleAppend("fence-1", 2)).ok());
  auto second = Open("fence");  // init_transactions: a real broker bumps the epoch
  ASSERT_TRUE(second);
  // librdkafka's mock hands out a new producer id instead of bumping the
  // epoch, so it never fences by itself; it is made to answer the stale
  // owner's next Produce the way a broker answers a zombie.
  g_cluster->PushRequestErrors(0, 1, RdKafka::ERR_INVALID_PRODUCER_EPOCH);
  auto stale = first->Append(SampleAppend("fence-1", 1));
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_THAT(std::string(stale.status().message()), ::testing::HasSubstr("fenced"));
  // And it stays fenced: it does not reconnect and write again.
  EXPECT_EQ(first->Append(SampleAppend("fence-1", 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto ok = second->Append(SampleAppend("fence-1", 1, 200, 2));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->head_sequence, 3u);
  auto events = ReadAll(*second, "fence-1", 3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].envelope.sequence(), 3u);
  EXPECT_EQ(events[2].position.offset, ok->events[0].position.offset);
}

TEST_F(KafkaLogTest, BrokerDownFailsFastThenRecovers) {
  auto log = Open("outage");
  ASSERT_TRUE(log->Append(SampleAppend("outage-1", 2)).ok());
  const uint64_t failed_before = log->stats().failed_writes.value();
  const uint64_t errors_before = KafkaClientErrors().value();
  g_cluster->SetBrokerDown(-1);
  absl::Time t0 = absl::Now();
  auto r = log->Append(SampleAppend("outage-1", 3));
  absl::Duration took = absl::Now() - t0;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_LT(took, absl::Seconds(8));  // bounded by append_timeout (2 s) per phase
  // While down, further appends fail too rather than queueing without bound.
  EXPECT_EQ(log->Append(SampleAppend("outage-1", 1)).status().code(),
            absl::StatusCode::kUnavailable);
  // Counted for metrics: the failed writes, and the clients' errors.
  // (the second append may be refused before it is written: at least one)
  EXPECT_GE(log->stats().failed_writes.value(), failed_before + 1);
  EXPECT_GT(KafkaClientErrors().value(), errors_before);
  g_cluster->SetBrokerUp(-1);
  absl::StatusOr<AppendResult> after = absl::UnavailableError("not tried");
  for (int i = 0; i < 20 && !after.ok(); ++i) {
    after = log->Append(SampleAppend("outage-1", 1));
    if (!after.ok()) absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->head_sequence, 3u);  // nothing of the failed appends exists
  auto events = ReadAll(*log, "outage-1", 3);
  EXPECT_EQ(events.size(), 3u);
  VerifyOptions vo;
  vo.facility = "outage-1";
  auto report = log->Verify(vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
}

TEST_F(KafkaLogTest, InjectedRetriableErrorsDoNotDuplicateOrLose) {
  auto log = Open("inject");
  // Produce (api key 0) fails twice with NOT_ENOUGH_REPLICAS; EndTxn (26)
  // once with COORDINATOR_NOT_AVAILABLE. The client retries both.
  g_cluster->PushRequestErrors(0, 2, RdKafka::ERR_NOT_ENOUGH_REPLICAS);
  g_cluster->PushRequestErrors(26, 1, RdKafka::ERR_COORDINATOR_NOT_AVAILABLE);
  AppendRequest req = SampleAppend("inject-1", 5);
  for (auto& e : req.events) e.set_request_id("inj-1");
  auto r = log->Append(req);
  if (!r.ok()) {
    // An error the client could not settle: a retry with the same request id
    // must land exactly once.
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    r = log->Append(req);
  }
  ASSERT_TRUE(r.ok()) << r.status();
  auto events = ReadAll(*log, "inject-1", 5);
  ASSERT_EQ(events.size(), 5u);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].envelope.sequence(), i + 1);
}

TEST_F(KafkaLogTest, AReaderSeesWhatTheOwnerWritesButCannotWrite) {
  auto owner = Open("reader-owner");
  ASSERT_TRUE(owner->Append(SampleAppend("read-1", 3)).ok());
  KafkaLogOptions o = Options("reader");
  o.contexts = {};
  o.read_contexts = {"scheduling"};
  auto reader = OpenKafkaLog(o);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(ReadAll(**reader, "read-1", 3).size(), 3u);
  EXPECT_EQ((*reader)->Append(SampleAppend("read-1", 1)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*reader)->ReadStream({"scheduling", "read-1"}, 1, 10).status().code(),
            absl::StatusCode::kFailedPrecondition);
  VerifyOptions vo;
  vo.facility = "read-1";
  vo.keys = owner->keys();
  auto report = (*reader)->Verify(vo);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->ToText();
  EXPECT_EQ(report->events_checked, 3u);
}

TEST_F(KafkaLogTest, BadInputIsRefused) {
  auto log = Open("badinput");
  AppendRequest other = SampleAppend("x", 1);
  other.context = "quality";
  EXPECT_EQ(log->Append(other).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->Append(SampleAppend("", 1)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append(SampleAppend("bad-1", 1, 10, 4)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  KafkaLogOptions o = Options("badinput2");
  o.client_config["no.such.property"] = "1";
  EXPECT_EQ(OpenKafkaLog(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options("badinput3");
  o.contexts = {"Not A Context"};
  EXPECT_EQ(OpenKafkaLog(o).status().code(), absl::StatusCode::kInvalidArgument);
  o = Options("badinput4");
  o.brokers = "";
  EXPECT_EQ(OpenKafkaLog(o).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KafkaTopicsTest, SettingsThatLoseEventsAreFatalAndWeakDurabilityIsAWarning) {
  // What takt creates passes its own check.
  EXPECT_TRUE(CheckTopicConfig("t", EventTopicConfig(3), 3).empty());
  // Kafka's defaults (7 days, or compaction) lose the record.
  auto seven_days = CheckTopicConfig(
      "takt.scheduling.v1", {{"retention.ms", "604800000"}, {"cleanup.policy", "delete"}}, 3);
  ASSERT_EQ(seven_days.size(), 1u);
  EXPECT_TRUE(seven_days[0].fatal);
  EXPECT_EQ(seven_days[0].setting, "retention.ms");
  EXPECT_THAT(ToString(seven_days[0]), ::testing::HasSubstr("takt.scheduling.v1: retention.ms is 604800000"));
  auto compacted = CheckTopicConfig("t", {{"cleanup.policy", "compact,delete"}, {"retention.ms", "-1"}}, 3);
  ASSERT_EQ(compacted.size(), 1u);
  EXPECT_TRUE(compacted[0].fatal);
  auto bytes = CheckTopicConfig("t", {{"retention.bytes", "1073741824"}}, 3);
  ASSERT_EQ(bytes.size(), 1u);
  EXPECT_TRUE(bytes[0].fatal);
  // Durability below what a production cluster should have: warnings only.
  auto weak = CheckTopicConfig(
      "t", {{"min.insync.replicas", "1"}, {"unclean.leader.election.enable", "true"}}, 3);
  ASSERT_EQ(weak.size(), 2u);
  EXPECT_FALSE(weak[0].fatal);
  EXPECT_FALSE(weak[1].fatal);
  auto single = CheckTopicConfig("t", {{"min.insync.replicas", "1"}}, 1);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].setting, "replication factor");
  EXPECT_EQ(EventTopicConfig(1).at("min.insync.replicas"), "1");
  EXPECT_EQ(EventTopicConfig(3).at("min.insync.replicas"), "2");
}

// librdkafka's mock cluster answers neither CreateTopics nor DescribeConfigs:
// both say so at once instead of hanging, and a missing topic is named.
TEST(KafkaTopicsTest, AgainstTheMockClusterTheAdminCallsSayWhatIsUnsupported) {
  absl::Time t0 = absl::Now();
  auto described = DescribeEventTopics(g_cluster->bootstrap_servers(), {{"log_level", "0"}},
                                       {"scheduling"}, absl::Seconds(5));
  EXPECT_EQ(described.status().code(), absl::StatusCode::kUnimplemented) << described.status();
  auto missing = DescribeEventTopics(g_cluster->bootstrap_servers(), {{"log_level", "0"}},
                                     {"no-such-context"}, absl::Seconds(5));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), ::testing::HasSubstr("takt.no-such-context.v1"));
  auto created = CreateEventTopics(g_cluster->bootstrap_servers(), {{"log_level", "0"}},
                                   {"quality-topics-test"}, 2, 1, absl::Seconds(5));
  EXPECT_EQ(created.status().code(), absl::StatusCode::kUnimplemented) << created.status();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(3));
  EXPECT_EQ(CreateEventTopics(g_cluster->bootstrap_servers(), {}, {"x"}, 0, 1, absl::Seconds(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateEventTopics(g_cluster->bootstrap_servers(), {{"no.such.property", "1"}}, {"x"}, 1,
                              1, absl::Seconds(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Needs a real broker: creates the topics of a made-up context with the
// settings the log needs and reads them back.
TEST(KafkaRealBrokerTest, TopicsAreCreatedWithInfiniteRetentionAndChecked) {
  const char* brokers = std::getenv("TAKT_TEST_KAFKA_BROKERS");
  if (brokers == nullptr || *brokers == '\0') {
    GTEST_SKIP() << "needs a real Kafka broker (TAKT_TEST_KAFKA_BROKERS=host:port): "
                    "librdkafka's mock cluster has no CreateTopics or DescribeConfigs";
  }
  const std::string context = "topics-test-" + NewUuid().substr(0, 8);
  auto created = CreateEventTopics(brokers, {}, {context}, 3, 1, absl::Seconds(30));
  ASSERT_TRUE(created.ok()) << created.status();
  ASSERT_EQ(created->size(), 1u);
  EXPECT_TRUE((*created)[0].created);
  EXPECT_EQ((*created)[0].partitions, 3);
  for (const TopicProblem& p : (*created)[0].problems) EXPECT_FALSE(p.fatal) << ToString(p);
  auto again = CreateEventTopics(brokers, {}, {context}, 3, 1, absl::Seconds(30));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE((*again)[0].created);
}

// Needs a real broker: the mock writes no abort markers (see stack.md P6).
TEST(KafkaRealBrokerTest, AbortedTransactionsAreNeverVisible) {
  const char* brokers = std::getenv("TAKT_TEST_KAFKA_BROKERS");
  if (brokers == nullptr || *brokers == '\0') {
    GTEST_SKIP() << "needs a real Kafka broker (TAKT_TEST_KAFKA_BROKERS=host:port): "
                    "librdkafka's mock cluster does not hide aborted transactions";
  }
  testing::TempDir dir;
  KafkaLogOptions o;
  o.brokers = brokers;
  o.owner_id = "aborted-read-" + NewUuid();
  o.contexts = {"scheduling"};
  o.signing_key_path = dir.path() + "/k";
  auto log = OpenKafkaLog(o);
  ASSERT_TRUE(log.ok()) << log.status();
  std::string facility = "abort-" + NewUuid().substr(0, 8);
  ASSERT_TRUE((*log)->Append(SampleAppend(facility, 2)).ok());
  // A raw transactional producer writes to the facility's partition, flushes
  // (so the data reaches the log) and aborts.
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("transactional.id", "takt-aborter-" + NewUuid(), err);
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  ASSERT_TRUE(p) << err;
  ASSERT_EQ(p->init_transactions(10000), nullptr);
  ASSERT_EQ(p->begin_transaction(), nullptr);
  std::string junk = "ABORTED";
  auto subscription = (*log)->Subscribe("scheduling", {});
  ASSERT_TRUE(subscription.ok());
  RdKafka::Metadata* md = nullptr;
  ASSERT_EQ(p->metadata(true, nullptr, &md, 10000), RdKafka::ERR_NO_ERROR);
  int partitions = 0;
  for (const auto* t : *md->topics()) {
    if (t->topic() == KafkaTopicFor("scheduling")) partitions = static_cast<int>(t->partitions()->size());
  }
  delete md;
  ASSERT_GT(partitions, 0);
  ASSERT_EQ(p->produce(KafkaTopicFor("scheduling"), KafkaPartitionFor(facility, partitions),
                       RdKafka::Producer::RK_MSG_COPY, junk.data(), junk.size(), facility.data(),
                       facility.size(), 0, nullptr),
            RdKafka::ERR_NO_ERROR);
  p->flush(10000);
  ASSERT_EQ(p->abort_transaction(10000), nullptr);
  ASSERT_TRUE((*log)->Append(SampleAppend(facility, 1)).ok());
  size_t seen = 0;
  for (int i = 0; i < 50; ++i) {
    auto batch = (*subscription)->Poll(1000, absl::Milliseconds(200));
    ASSERT_TRUE(batch.ok()) << batch.status();  // an ABORTED record would not decode
    for (const auto& e : *batch) seen += e.envelope.facility() == facility;
    if (seen == 3) break;
  }
  EXPECT_EQ(seen, 3u);
}

}  // namespace
}  // namespace takt::eventlog
