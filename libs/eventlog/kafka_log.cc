#include "libs/eventlog/kafka_log.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <atomic>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/group_commit.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/sequencer.h"
#include "libs/eventlog/verifier.h"

namespace takt::eventlog {
namespace {

constexpr size_t kMaxGroupBytes = 16 << 20;
constexpr size_t kMaxQueuedBytes = 256 << 20;
// Every this many sequences a stream remembers its Kafka offset (ReadStream).
constexpr uint64_t kIndexEvery = 128;

int ToMillis(absl::Duration d) {
  return static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

stats::Counter& ClientErrors() {
  static auto* counter = new stats::Counter();
  return *counter;
}

// librdkafka's errors and warnings, counted and in the server's log (with
// an event callback set, librdkafka logs through it only).
class ClientEvents final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& e) override {
    if (e.type() == RdKafka::Event::EVENT_ERROR) {
      ClientErrors().Add();
      log::Warn(absl::StrCat("Kafka: ", RdKafka::err2str(e.err()), ": ", e.str()));
    } else if (e.type() == RdKafka::Event::EVENT_LOG && e.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
      log::Warn(absl::StrCat("Kafka: ", e.fac(), ": ", e.str()));
    }
  }
};

// Builds a client configuration; returns an error naming a bad property.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(
    const std::map<std::string, std::string>& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  static auto* events = new ClientEvents();  // outlives every client
  if (conf->set("event_cb", static_cast<RdKafka::EventCb*>(events), err) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat("Kafka event callback: ", err));
  }
  for (const auto& [k, v] : props) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("Kafka property ", k, "=", v, ": ", err));
    }
  }
  return conf;
}

// Delivery reports land in the slot passed as the message opaque.
struct DeliverySlot {
  int64_t offset = -1;
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
  bool delivered = false;
};

class DeliveryReporter final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    auto* slot = static_cast<DeliverySlot*>(message.msg_opaque());
    if (slot == nullptr) return;
    slot->delivered = true;
    slot->error = message.err();
    slot->offset = message.offset();
  }
};

absl::Status KafkaError(std::string_view what, const RdKafka::Error* e) {
  return absl::UnavailableError(absl::StrCat(std::string(what), ": ", e->str()));
}

struct StreamKeyHash {
  size_t operator()(const StreamId& s) const {
    return std::hash<std::string>()(s.context) * 31 + std::hash<std::string>()(s.facility);
  }
};

// A batch of events with one request id, as met while reading the log.
struct OpenRequestBatch {
  std::string key;
  DedupEntry entry;
  std::string digests;
};

class KafkaLog;

class KafkaSubscription final : public Subscription {
 public:
  KafkaSubscription(std::unique_ptr<RdKafka::KafkaConsumer> consumer, Cursor cursor)
      : consumer_(std::move(consumer)), cursor_(std::move(cursor)) {}
  ~KafkaSubscription() override { consumer_->close(); }

  absl::StatusOr<std::vector<LoggedEvent>> Poll(size_t max_events,
                                                absl::Duration timeout) override {
    std::vector<LoggedEvent> out;
    absl::Time deadline = absl::Now() + timeout;
    while (out.size() < max_events) {
      int wait = out.empty() ? ToMillis(deadline - absl::Now()) : 0;
      if (out.empty() && absl::Now() >= deadline) break;
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(wait));
      if (m->err() == RdKafka::ERR__PARTITION_EOF) {
        // At the end: step over transaction markers so that a drained cursor
        // equals the partition's end (EndCursor).
        uint64_t& next = cursor_[std::to_string(m->partition())];
        next = std::max<uint64_t>(next, static_cast<uint64_t>(m->offset()));
        if (!out.empty() || absl::Now() >= deadline) break;
        continue;
      }
      if (m->err() == RdKafka::ERR__TIMED_OUT) {
        if (!out.empty() || absl::Now() >= deadline) break;
        continue;
      }
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        ClientErrors().Add();
        return absl::UnavailableError(absl::StrCat("reading Kafka: ", m->errstr()));
      }
      cursor_[std::to_string(m->partition())] = static_cast<uint64_t>(m->offset()) + 1;
      std::string_view value(static_cast<const char*>(m->payload()), m->len());
      if (IsCheckpointRecord(value)) continue;
      auto envelope = DecodeRecord(value);
      if (!envelope.ok()) {
        return absl::DataLossError(absl::StrCat("undecodable record at partition ",
                                                m->partition(), " offset ", m->offset()));
      }
      // Each stream's chain, from the first of its records this reader met.
      if (absl::Status s = chains_.Check(StreamId{envelope->context(), envelope->facility()},
                                         envelope->sequence(), value);
          !s.ok()) {
        return absl::DataLossError(absl::StrCat("partition ", m->partition(), " offset ",
                                                m->offset(), ": ", s.message()));
      }
      out.push_back(LoggedEvent{std::move(*envelope),
                                Position{std::to_string(m->partition()),
                                         static_cast<uint64_t>(m->offset())}});
    }
    return out;
  }
  const Cursor& cursor() const override { return cursor_; }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  Cursor cursor_;
  StreamChains chains_;
};

class KafkaLog final : public EventLog, private StateSource {
 public:
  KafkaLog(KafkaLogOptions options, crypto::SigningKeys keys)
      : options_(std::move(options)), keys_(std::move(keys)) {}

  ~KafkaLog() override {
    if (queue_) {
      (void)CheckpointAll();
      queue_.reset();
    }
    if (producer_) producer_->flush(1000);
  }

  absl::Status Start() {
    for (const auto& c : options_.contexts) TAKT_RETURN_IF_ERROR(ValidateContextName(c));
    for (const auto& c : options_.read_contexts) TAKT_RETURN_IF_ERROR(ValidateContextName(c));
    if (!options_.contexts.empty() && options_.owner_id.empty()) {
      return absl::InvalidArgumentError("owner_id must be set to write");
    }
    TAKT_RETURN_IF_ERROR(Connect());
    queue_ = std::make_unique<CommitQueue>(
        [this](std::vector<PendingAppend*>& batch) { CommitGroup(batch); }, kMaxGroupBytes,
        kMaxQueuedBytes);
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(AppendRequest request) override {
    if (!Owns(request.context)) return NotOwned(request.context);
    return queue_->Append(std::move(request));
  }

  std::unique_ptr<AppendInProgress> StartAppend(AppendRequest request) override {
    if (!Owns(request.context)) return std::make_unique<AppendDone>(NotOwned(request.context));
    return queue_->Start(std::move(request));
  }

  absl::Status CheckpointAll() override { return queue_->CheckpointAll(); }

  absl::StatusOr<std::vector<LoggedEvent>> ReadStream(const StreamId& stream,
                                                      uint64_t from_sequence,
                                                      size_t max_events) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(stream.context));
    TAKT_RETURN_IF_ERROR(ValidateFacilityId(stream.facility));
    if (!Owns(stream.context)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "context '", stream.context, "' is read here, not owned: use Subscribe"));
    }
    if (from_sequence == 0) from_sequence = 1;
    int32_t partition;
    int64_t start_offset = RdKafka::Topic::OFFSET_BEGINNING;
    int64_t end_offset;
    uint64_t head;
    {
      absl::MutexLock lock(&mu_);
      auto pc = partitions_.find(stream.context);
      if (pc == partitions_.end()) {
        return absl::NotFoundError(absl::StrCat("context ", stream.context, " is not served here"));
      }
      partition = KafkaPartitionFor(stream.facility, pc->second);
      auto h = heads_.find(stream);
      head = h == heads_.end() ? 0 : h->second.head;
      auto idx = index_.find(stream);
      if (idx != index_.end()) {
        auto it = idx->second.upper_bound(from_sequence);
        if (it != idx->second.begin()) start_offset = std::prev(it)->second;
      }
      end_offset = end_offsets_[stream.context][partition];
    }
    std::vector<LoggedEvent> out;
    if (from_sequence > head || max_events == 0) return out;
    uint64_t to = std::min<uint64_t>(head, from_sequence + max_events - 1);
    TAKT_ASSIGN_OR_RETURN(auto consumer, NewConsumer());
    std::vector<RdKafka::TopicPartition*> tps = {
        RdKafka::TopicPartition::create(KafkaTopicFor(stream.context), partition, start_offset)};
    consumer->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    absl::Time deadline = absl::Now() + options_.append_timeout;
    absl::Status status;
    while (out.size() < to - from_sequence + 1) {
      if (absl::Now() > deadline) {
        status = absl::DeadlineExceededError("reading the stream from Kafka timed out");
        break;
      }
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (m->err() == RdKafka::ERR__PARTITION_EOF) {
        if (m->offset() >= end_offset) break;
        continue;
      }
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        ClientErrors().Add();
        status = absl::UnavailableError(absl::StrCat("reading Kafka: ", m->errstr()));
        break;
      }
      if (m->key() == nullptr || *m->key() != stream.facility) continue;
      std::string_view value(static_cast<const char*>(m->payload()), m->len());
      if (IsCheckpointRecord(value)) continue;
      auto envelope = DecodeRecord(value);
      if (!envelope.ok()) {
        status = absl::DataLossError(absl::StrCat("undecodable record at offset ", m->offset()));
        break;
      }
      uint64_t seq = envelope->sequence();
      if (seq < from_sequence + out.size()) continue;  // before the range
      if (seq != from_sequence + out.size()) {
        status = absl::DataLossError(absl::StrCat("stream ", stream.context, "/", stream.facility,
                                                  " is missing sequence ",
                                                  from_sequence + out.size()));
        break;
      }
      out.push_back(LoggedEvent{std::move(*envelope),
                                Position{std::to_string(partition),
                                         static_cast<uint64_t>(m->offset())}});
    }
    consumer->close();
    if (!status.ok()) return status;
    return out;
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(std::string_view context,
                                                          Cursor cursor) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(context));
    TAKT_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(std::string(context)));
    TAKT_ASSIGN_OR_RETURN(auto consumer, NewConsumer());
    std::vector<RdKafka::TopicPartition*> tps;
    for (int32_t p = 0; p < partitions; ++p) {
      auto it = cursor.find(std::to_string(p));
      int64_t offset = it == cursor.end() ? RdKafka::Topic::OFFSET_BEGINNING
                                          : static_cast<int64_t>(it->second);
      tps.push_back(RdKafka::TopicPartition::create(KafkaTopicFor(context), p, offset));
    }
    RdKafka::ErrorCode e = consumer->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    if (e != RdKafka::ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("assigning partitions: ", RdKafka::err2str(e)));
    }
    return std::unique_ptr<Subscription>(new KafkaSubscription(std::move(consumer), cursor));
  }

  absl::StatusOr<std::vector<StreamHead>> Heads(std::string_view context) override {
    std::vector<StreamHead> out;
    absl::MutexLock lock(&mu_);
    for (const auto& [id, st] : heads_) {
      if (!context.empty() && id.context != context) continue;
      out.push_back(StreamHead{id, st.head, st.head_hash});
    }
    std::sort(out.begin(), out.end(),
              [](const StreamHead& a, const StreamHead& b) { return a.stream < b.stream; });
    return out;
  }

  absl::Status ReadRecords(const StreamId& stream, uint64_t from_sequence, size_t max_events,
                           const std::function<void(uint64_t, std::string_view)>& fn) override {
    // Partitions interleave streams: read through ReadStream, re-encoding.
    TAKT_ASSIGN_OR_RETURN(auto events, ReadStream(stream, from_sequence, max_events));
    for (const auto& e : events) fn(e.envelope.sequence(), EncodeRecord(e.envelope));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<v1::Checkpoint>> ReadCheckpoints(const StreamId& stream) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(stream.context));
    TAKT_RETURN_IF_ERROR(ValidateFacilityId(stream.facility));
    std::vector<v1::Checkpoint> out;
    TAKT_RETURN_IF_ERROR(ScanContext(
        stream.context, nullptr, [&](int32_t, int64_t, std::string_view key, std::string_view value) {
          v1::Checkpoint c;
          if (key == stream.facility && ParseCheckpointRecord(value, &c)) out.push_back(std::move(c));
        }));
    return out;
  }

  absl::StatusOr<VerifyReport> Verify(const VerifyOptions& options) override {
    const crypto::KeyRing& keys = options.keys ? *options.keys : keys_.ring;
    struct StreamCheck {
      ChainChecker checker{1, ZeroHash(), nullptr};
      std::vector<v1::Checkpoint> checkpoints;
    };
    std::map<StreamId, StreamCheck> streams;
    for (const std::string& context : AllContexts()) {
      if (!options.context.empty() && context != options.context) continue;
      TAKT_RETURN_IF_ERROR(ScanContext(
          context, nullptr, [&](int32_t, int64_t, std::string_view key, std::string_view value) {
            StreamId id{context, std::string(key)};
            if (!options.facility.empty() && id.facility != options.facility) return;
            StreamCheck& sc = streams[id];
            v1::Checkpoint c;
            if (ParseCheckpointRecord(value, &c)) {
              if (c.sequence() + 1 == sc.checker.next_sequence()) sc.checker.RememberHead();
              sc.checkpoints.push_back(std::move(c));
              return;
            }
            std::string_view hash, body;
            uint64_t seq = 0;
            std::string_view prev;
            if (SplitRecord(value, &hash, &body) && ScanBody(body, &seq, &prev)) {
              sc.checker.Add(seq, value);
            } else {
              sc.checker.Add(sc.checker.next_sequence(), value);  // reports it as altered
            }
          }));
    }
    VerifyReport report;
    for (auto& [id, sc] : streams) {
      ++report.streams_checked;
      report.events_checked += sc.checker.events();
      std::vector<ChainChecker> runs = {sc.checker};
      if (auto f = FinishStream(id, runs, sc.checkpoints, keys, 0,
                                &report.checkpoints_checked)) {
        report.failures.push_back(std::move(*f));
      }
    }
    return report;
  }

  crypto::KeyRing keys() const override { return keys_.ring; }

  absl::Status Backup(const std::string&) override {
    return absl::UnimplementedError(
        "the log is in Kafka: back it up in the cluster (replication, MirrorMaker, tiered storage)");
  }

  absl::StatusOr<Cursor> EndCursor(std::string_view context_view) override {
    const std::string context(context_view);
    TAKT_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(context));
    TAKT_ASSIGN_OR_RETURN(auto consumer, NewConsumer());
    Cursor end;
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t low = 0, high = 0;
      RdKafka::ErrorCode code = consumer->query_watermark_offsets(
          KafkaTopicFor(context), p, &low, &high, ToMillis(options_.append_timeout));
      if (code != RdKafka::ERR_NO_ERROR) {
        consumer->close();
        return absl::UnavailableError(
            absl::StrCat("Kafka watermarks of ", KafkaTopicFor(context), ": ", RdKafka::err2str(code)));
      }
      end[std::to_string(p)] = static_cast<uint64_t>(high);
    }
    consumer->close();
    return end;
  }

 private:
  bool Owns(const std::string& context) const {
    return std::find(options_.contexts.begin(), options_.contexts.end(), context) !=
           options_.contexts.end();
  }
  static absl::Status NotOwned(const std::string& context) {
    return absl::FailedPreconditionError(
        absl::StrCat("this writer does not own context '", context, "'"));
  }
  std::vector<std::string> AllContexts() const {
    std::vector<std::string> all = options_.contexts;
    for (const auto& c : options_.read_contexts) {
      if (!Owns(c)) all.push_back(c);
    }
    return all;
  }

  // --- Clients -----------------------------------------------------------------

  std::map<std::string, std::string> BaseConfig() const {
    std::map<std::string, std::string> c = {
        {"bootstrap.servers", options_.brokers},
        {"client.id", absl::StrCat("takt-", options_.owner_id)},
        {"log_level", "3"},
    };
    for (const auto& [k, v] : options_.client_config) c[k] = v;
    return c;
  }

  absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> NewConsumer() const {
    auto props = BaseConfig();
    props["group.id"] = absl::StrCat("takt-reader-", NewUuid());
    props["enable.auto.commit"] = "false";
    props["enable.auto.offset.store"] = "false";
    props["isolation.level"] = "read_committed";
    props["enable.partition.eof"] = "true";
    props["auto.offset.reset"] = "earliest";
    if (!props.count("fetch.wait.max.ms")) props["fetch.wait.max.ms"] = "50";
    TAKT_ASSIGN_OR_RETURN(auto conf, MakeConf(props));
    std::string err;
    std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!c) return absl::UnavailableError(absl::StrCat("creating a Kafka consumer: ", err));
    return c;
  }

  absl::StatusOr<int32_t> PartitionCount(const std::string& context) {
    {
      absl::MutexLock lock(&mu_);
      auto it = partitions_.find(context);
      if (it != partitions_.end()) return it->second;
    }
    return absl::NotFoundError(absl::StrCat("context ", context, " is not served here"));
  }

  absl::Status CheckWritable(absl::Duration timeout) override {
    if (fenced_) {
      return absl::FailedPreconditionError(
          "this writer was fenced: another owner with the same transactional id took over");
    }
    // Its own client, never the committer's: a plain producer that sends
    // nothing and takes no transactional id.
    absl::MutexLock lock(&probe_mu_);
    if (!probe_) {
      auto props = BaseConfig();
      auto conf = MakeConf(props);
      if (!conf.ok()) return conf.status();
      std::string err;
      probe_.reset(RdKafka::Producer::create(conf->get(), err));
      if (!probe_) return absl::UnavailableError(absl::StrCat("creating a Kafka client: ", err));
    }
    RdKafka::Metadata* md = nullptr;
    const RdKafka::ErrorCode code = probe_->metadata(false, nullptr, &md, std::max(1, ToMillis(timeout)));
    std::unique_ptr<RdKafka::Metadata> holder(md);
    if (code != RdKafka::ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("no Kafka broker of ", options_.brokers, " answers: ",
                                                 RdKafka::err2str(code)));
    }
    return absl::OkStatus();
  }

  // Creates the transactional producer, fences any older owner, learns the
  // partition counts and catches up with the log.
  absl::Status Connect() {
    auto props = BaseConfig();
    // A process that only reads (the rollups service) must not take a
    // transactional id: it would fence the owner that writes.
    const bool writer = !options_.contexts.empty();
    if (writer) {
      props["transactional.id"] = absl::StrCat("takt-", options_.owner_id);
      props["enable.idempotence"] = "true";
    }
    props["acks"] = "all";
    if (!props.count("linger.ms")) props["linger.ms"] = "1";
    props["message.timeout.ms"] = std::to_string(ToMillis(options_.append_timeout));
    props["transaction.timeout.ms"] =
        std::to_string(std::max(60000, 2 * ToMillis(options_.append_timeout)));
    props["queue.buffering.max.kbytes"] = "131072";
    TAKT_ASSIGN_OR_RETURN(auto conf, MakeConf(props));
    std::string err;
    if (conf->set("dr_cb", &reporter_, err) != RdKafka::Conf::CONF_OK) {
      return absl::InternalError(err);
    }
    std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
    if (!producer) return absl::UnavailableError(absl::StrCat("creating Kafka producer: ", err));
    std::unique_ptr<RdKafka::Error> e(
        writer ? producer->init_transactions(ToMillis(options_.append_timeout)) : nullptr);
    if (e) {
      if (e->is_fatal()) {
        return absl::FailedPreconditionError(
            absl::StrCat("Kafka refused the transactional producer: ", e->str()));
      }
      return KafkaError("Kafka unavailable (init_transactions)", e.get());
    }
    for (const std::string& context : AllContexts()) {
      RdKafka::Metadata* md = nullptr;
      std::string topic_name = KafkaTopicFor(context);
      std::unique_ptr<RdKafka::Topic> topic(
          RdKafka::Topic::create(producer.get(), topic_name, nullptr, err));
      RdKafka::ErrorCode code =
          producer->metadata(false, topic.get(), &md, ToMillis(options_.append_timeout));
      std::unique_ptr<RdKafka::Metadata> holder(md);
      if (code != RdKafka::ERR_NO_ERROR || md->topics()->empty()) {
        return absl::UnavailableError(absl::StrCat("Kafka metadata for ", topic_name, ": ",
                                                   RdKafka::err2str(code)));
      }
      const RdKafka::TopicMetadata* tm = md->topics()->at(0);
      if (tm->err() != RdKafka::ERR_NO_ERROR || tm->partitions()->empty()) {
        return absl::NotFoundError(absl::StrCat("Kafka topic ", topic_name,
                                                " does not exist; create it (one partition "
                                                "per group of facilities): ",
                                                RdKafka::err2str(tm->err())));
      }
      absl::MutexLock lock(&mu_);
      partitions_[context] = static_cast<int32_t>(tm->partitions()->size());
      end_offsets_[context].resize(tm->partitions()->size(), 0);
    }
    producer_ = std::move(producer);
    return CatchUp();
  }

  // Reads every owned partition from the last known end to the current end,
  // applying what it finds to heads, dedup and the offset index.
  absl::Status CatchUp() {
    for (const std::string& context : options_.contexts) {
      std::vector<int64_t> from;
      {
        absl::MutexLock lock(&mu_);
        from = end_offsets_[context];
      }
      std::map<StreamId, OpenRequestBatch> open;
      absl::Status s = ScanContext(
          context, &from, [&](int32_t partition, int64_t offset, std::string_view key,
                              std::string_view value) {
            absl::MutexLock lock(&mu_);
            ApplyRecord(context, partition, offset, key, value, open);
            end_offsets_[context][partition] = offset + 1;
          });
      absl::MutexLock lock(&mu_);
      for (auto& [id, batch] : open) FinishRequestBatch(id, batch);
      TAKT_RETURN_IF_ERROR(s);
    }
    return absl::OkStatus();
  }

  // Reads a context's partitions (from `from` offsets, or the beginning) to
  // their current end, calling `fn(partition, offset, key, value)`.
  template <typename Fn>
  absl::Status ScanContext(const std::string& context, const std::vector<int64_t>* from,
                           Fn fn) {
    TAKT_ASSIGN_OR_RETURN(int32_t partitions, PartitionCount(context));
    TAKT_ASSIGN_OR_RETURN(auto consumer, NewConsumer());
    std::vector<RdKafka::TopicPartition*> tps;
    for (int32_t p = 0; p < partitions; ++p) {
      int64_t offset = from ? (*from)[p] : RdKafka::Topic::OFFSET_BEGINNING;
      tps.push_back(RdKafka::TopicPartition::create(KafkaTopicFor(context), p, offset));
    }
    consumer->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    std::set<int32_t> at_end;
    absl::Time deadline = absl::Now() + 3 * options_.append_timeout;
    absl::Status status;
    while (static_cast<int32_t>(at_end.size()) < partitions) {
      if (absl::Now() > deadline) {
        status = absl::UnavailableError(
            absl::StrCat("Kafka: could not read ", KafkaTopicFor(context), " to its end in time"));
        break;
      }
      std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
      if (m->err() == RdKafka::ERR__TIMED_OUT) continue;
      if (m->err() == RdKafka::ERR__PARTITION_EOF) {
        at_end.insert(m->partition());
        continue;
      }
      if (m->err() != RdKafka::ERR_NO_ERROR) {
        ClientErrors().Add();
        status = absl::UnavailableError(absl::StrCat("reading Kafka: ", m->errstr()));
        break;
      }
      at_end.erase(m->partition());
      std::string_view key = m->key() ? std::string_view(*m->key()) : std::string_view();
      fn(m->partition(), m->offset(),
         key, std::string_view(static_cast<const char*>(m->payload()), m->len()));
    }
    consumer->close();
    return status;
  }

  void ApplyRecord(const std::string& context, int32_t partition, int64_t offset,
                   std::string_view key, std::string_view value,
                   std::map<StreamId, OpenRequestBatch>& open)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    StreamId id{context, std::string(key)};
    v1::Checkpoint c;
    if (ParseCheckpointRecord(value, &c)) {
      StreamState& st = heads_[id];
      st.checkpointed = std::max<uint64_t>(st.checkpointed, c.sequence());
      return;
    }
    auto envelope = DecodeRecord(value);
    if (!envelope.ok()) return;  // Verify() reports it
    StreamState& st = heads_[id];
    if (st.head_hash.empty()) st.head_hash = ZeroHash();
    if (envelope->sequence() != st.head + 1 || envelope->prev_hash() != st.head_hash) return;
    st.head = envelope->sequence();
    st.head_hash = envelope->hash();
    if ((st.head - 1) % kIndexEvery == 0) index_[id][st.head] = offset;
    const Envelope& e = *envelope;
    auto ob = open.find(id);
    if (ob != open.end() &&
        (e.request_id().empty() || RequestKey(e.request_id()) != ob->second.key)) {
      FinishRequestBatch(id, ob->second);
      open.erase(ob);
      ob = open.end();
    }
    if (!e.request_id().empty()) {
      if (ob == open.end()) {
        OpenRequestBatch b;
        b.key = RequestKey(e.request_id());
        b.entry = DedupEntry{e.sequence(), 0, static_cast<uint64_t>(offset), ""};
        ob = open.emplace(id, std::move(b)).first;
      }
      ob->second.entry.count++;
      ob->second.digests.append(ContentDigest(e));
    } else if (!e.source_id().empty()) {
      dedup_[{id, ObservationKey(e.source_id(), e.source_sequence())}] =
          DedupEntry{e.sequence(), 1, static_cast<uint64_t>(offset), ContentDigest(e)};
    }
  }

  void FinishRequestBatch(const StreamId& id, OpenRequestBatch& b)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    b.entry.digest = crypto::Sha256::ThreadLocal().Digest(b.digests);
    dedup_[{id, b.key}] = b.entry;
  }

  // --- StateSource (committer thread) ---------------------------------------

  StreamState LoadStream(const StreamId& id) override {
    absl::MutexLock lock(&mu_);
    auto it = heads_.find(id);
    return it == heads_.end() ? StreamState{} : it->second;
  }
  std::optional<DedupEntry> LoadDedup(const StreamId& id, const std::string& key) override {
    absl::MutexLock lock(&mu_);
    auto it = dedup_.find({id, key});
    if (it == dedup_.end()) return std::nullopt;
    return it->second;
  }

  // --- Group commit ------------------------------------------------------------

  void DropProducer() {
    if (producer_) producer_->purge(RdKafka::Producer::PURGE_QUEUE |
                                    RdKafka::Producer::PURGE_INFLIGHT);
    producer_.reset();
  }

  void CommitGroup(const std::vector<PendingAppend*>& batch) {
    if (fenced_) {
      CompleteBatch(batch, absl::FailedPreconditionError(
                               "this writer was fenced: another owner with the same "
                               "transactional id took over; restart it to write again"));
      return;
    }
    if (!producer_) {
      absl::Status s = Connect();
      if (!s.ok()) {
        if (producer_) DropProducer();
        CompleteBatch(batch, s.code() == absl::StatusCode::kFailedPrecondition
                                 ? s
                                 : absl::UnavailableError(s.message()));
        return;
      }
    }
    WriteGroup group(this);
    const bool checkpoint_all = PlanBatch(batch, group);
    if (checkpoint_all) {
      absl::MutexLock lock(&mu_);
      for (const auto& [id, st] : heads_) {
        if (st.head != st.checkpointed) group.LoadForCheckpoint(id, st);
      }
    }
    group.AddDueCheckpoints(keys_.key, checkpoint_all ? 0 : options_.checkpoint_interval,
                            keys_.SigningTime(absl::Now()));
    if (group.empty()) {
      CompleteBatch(batch, absl::OkStatus());
      return;
    }
    std::map<std::pair<StreamId, uint64_t>, int64_t> offsets;
    const absl::Time started = absl::Now();
    absl::Status s = WriteTransaction(group, &offsets);
    stats_.write_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - started));
    if (s.ok()) {
      stats_.writes.Add();
      stats_.events.Add(group.records().size());
      stats_.group_events.Observe(static_cast<double>(group.records().size()));
    } else {
      stats_.failed_writes.Add();
    }
    if (!s.ok()) {
      CompleteBatch(batch, s);
      return;
    }
    // Committed: publish the new state and the Kafka positions.
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [id, st] : group.streams()) heads_[id] = st;
      for (const auto& [id, entries] : group.dedup()) {
        for (const auto& [k, entry] : entries) {
          DedupEntry e = entry;
          auto it = offsets.find({id, e.first_sequence});
          if (it != offsets.end()) e.first_offset = static_cast<uint64_t>(it->second);
          dedup_[{id, k}] = e;
        }
      }
      for (const auto& [k, offset] : offsets) {
        if ((k.second - 1) % kIndexEvery == 0) index_[k.first][k.second] = offset;
        int32_t part = KafkaPartitionFor(k.first.facility, partitions_[k.first.context]);
        int64_t& end = end_offsets_[k.first.context][part];
        end = std::max(end, offset + 1);
      }
    }
    for (PendingAppend* p : batch) {
      if (!p->result.ok() || p->checkpoint_all) continue;
      const StreamId& id = p->prepared.stream;
      int32_t part;
      {
        absl::MutexLock lock(&mu_);
        part = KafkaPartitionFor(id.facility, partitions_[id.context]);
      }
      for (AppendedEvent& e : p->result->events) {
        e.position.partition = std::to_string(part);
        auto it = offsets.find({id, e.sequence});
        if (it != offsets.end()) e.position.offset = static_cast<uint64_t>(it->second);
      }
    }
    CompleteBatch(batch, absl::OkStatus());
  }

  // Produces a group in one transaction and commits it.
  absl::Status WriteTransaction(const WriteGroup& group,
                                std::map<std::pair<StreamId, uint64_t>, int64_t>* offsets) {
    const absl::Time deadline = absl::Now() + options_.append_timeout;
    std::unique_ptr<RdKafka::Error> e(producer_->begin_transaction());
    if (e) {
      DropProducer();
      return KafkaError("Kafka: begin_transaction", e.get());
    }
    std::vector<std::string> checkpoint_values;
    checkpoint_values.reserve(group.checkpoints().size());
    for (const auto& c : group.checkpoints()) checkpoint_values.push_back(FrameCheckpoint(c.checkpoint));
    std::vector<DeliverySlot> slots(group.records().size() + checkpoint_values.size());
    absl::Status produce_status;
    auto produce = [&](const StreamId& stream, std::string_view value, DeliverySlot* slot) {
      int32_t partition;
      {
        absl::MutexLock lock(&mu_);
        partition = KafkaPartitionFor(stream.facility, partitions_[stream.context]);
      }
      for (;;) {
        RdKafka::ErrorCode code = producer_->produce(
            KafkaTopicFor(stream.context), partition, 0, const_cast<char*>(value.data()),
            value.size(), stream.facility.data(), stream.facility.size(), 0, slot);
        if (code == RdKafka::ERR_NO_ERROR) return true;
        if (code == RdKafka::ERR__QUEUE_FULL && absl::Now() < deadline) {
          producer_->poll(10);
          continue;
        }
        produce_status = absl::UnavailableError(
            absl::StrCat("Kafka: produce failed: ", RdKafka::err2str(code)));
        return false;
      }
    };
    size_t i = 0;
    for (const auto& r : group.records()) {
      if (!produce(*r.stream, r.record, &slots[i++])) break;
    }
    for (size_t c = 0; c < checkpoint_values.size() && produce_status.ok(); ++c) {
      if (!produce(group.checkpoints()[c].stream, checkpoint_values[c], &slots[i++])) break;
    }
    if (produce_status.ok()) {
      producer_->flush(ToMillis(deadline - absl::Now()));
      for (const DeliverySlot& slot : slots) {
        if (!slot.delivered || slot.error != RdKafka::ERR_NO_ERROR) {
          produce_status = absl::UnavailableError(absl::StrCat(
              "Kafka did not acknowledge the events in time: ",
              slot.delivered ? RdKafka::err2str(slot.error) : std::string("no delivery report")));
          break;
        }
      }
    }
    if (!produce_status.ok()) {
      if (CheckFenced()) {
        return absl::FailedPreconditionError(
            "this writer was fenced by a newer owner; nothing was committed");
      }
      AbortOrDrop(deadline);
      return absl::UnavailableError(
          absl::StrCat(produce_status.message(), "; nothing was committed"));
    }
    e.reset(producer_->commit_transaction(std::max(1, ToMillis(deadline - absl::Now()))));
    if (e) {
      if (e->code() == RdKafka::ERR__FENCED || e->code() == RdKafka::ERR_PRODUCER_FENCED ||
          e->code() == RdKafka::ERR_INVALID_PRODUCER_EPOCH) {
        fenced_ = true;
        DropProducer();
        return absl::FailedPreconditionError(absl::StrCat(
            "this writer was fenced by a newer owner (", e->str(), "); nothing was committed"));
      }
      if (e->txn_requires_abort()) {
        AbortOrDrop(deadline);
        return absl::UnavailableError(
            absl::StrCat("Kafka aborted the transaction (", e->str(), "); nothing was committed"));
      }
      // Fatal, or retriable (e.g. timed out): the outcome is unknown. Never
      // retry blindly; a new producer and a re-read settle it.
      DropProducer();
      return absl::UnavailableError(absl::StrCat(
          "Kafka commit outcome unknown (", e->str(),
          "); retry with the same request id, which is idempotent"));
    }
    size_t r = 0;
    for (const auto& rec : group.records()) {
      (*offsets)[{*rec.stream, rec.sequence}] = slots[r++].offset;
    }
    return absl::OkStatus();
  }

  // True (and the producer dropped) if the producer has raised a fatal
  // "fenced" error: a newer owner with the same transactional id exists.
  bool CheckFenced() {
    std::string reason;
    RdKafka::ErrorCode code = producer_->fatal_error(reason);
    if (code == RdKafka::ERR__FENCED || code == RdKafka::ERR_PRODUCER_FENCED ||
        code == RdKafka::ERR_INVALID_PRODUCER_EPOCH) {
      fenced_ = true;
      DropProducer();
      return true;
    }
    return false;
  }

  void AbortOrDrop(absl::Time deadline) {
    std::unique_ptr<RdKafka::Error> e(
        producer_->abort_transaction(std::max(1, ToMillis(deadline - absl::Now()))));
    if (e) {
      if (e->code() == RdKafka::ERR__FENCED) fenced_ = true;
      DropProducer();
    }
  }

  const KafkaLogOptions options_;
  const crypto::SigningKeys keys_;
  DeliveryReporter reporter_;
  std::unique_ptr<RdKafka::Producer> producer_;  // committer thread (and Start)
  std::atomic<bool> fenced_{false};              // set by the committer thread
  absl::Mutex probe_mu_;
  std::unique_ptr<RdKafka::Producer> probe_ ABSL_GUARDED_BY(probe_mu_);  // CheckWritable's own client

  absl::Mutex mu_;
  std::map<StreamId, StreamState> heads_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<StreamId, std::string>, DedupEntry> dedup_ ABSL_GUARDED_BY(mu_);
  std::map<StreamId, std::map<uint64_t, int64_t>> index_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int32_t> partitions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<int64_t>> end_offsets_ ABSL_GUARDED_BY(mu_);

  std::unique_ptr<CommitQueue> queue_;  // last: destroyed first
};

}  // namespace

std::string KafkaTopicFor(std::string_view context) {
  return absl::StrCat("takt.", std::string(context), ".v1");
}

int32_t KafkaPartitionFor(std::string_view facility, int32_t partitions) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (char c : facility) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return partitions <= 0 ? 0 : static_cast<int32_t>(h % static_cast<uint32_t>(partitions));
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions& options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("brokers must be set");
  if (options.signing_key_path.empty()) {
    return absl::InvalidArgumentError("signing_key_path must be set");
  }
  TAKT_ASSIGN_OR_RETURN(crypto::SigningKeys keys, crypto::LoadSigningKeys(options.signing_key_path));
  auto log = std::make_unique<KafkaLog>(options, std::move(keys));
  TAKT_RETURN_IF_ERROR(log->Start());
  return std::unique_ptr<EventLog>(std::move(log));
}

const stats::Counter& KafkaClientErrors() { return ClientErrors(); }

}  // namespace takt::eventlog
