#include "libs/eventlog/embedded_log.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/ed25519.h"
#include "libs/eventlog/group_commit.h"
#include "libs/eventlog/record.h"
#include "libs/eventlog/sequencer.h"
#include "libs/eventlog/verifier.h"
#include "libs/storage/rocksdb_util.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"

namespace takt::eventlog {
namespace {

constexpr char kEventsCf[] = "events";
constexpr char kCheckpointsCf[] = "checkpoints";
constexpr char kDedupCf[] = "dedup";
constexpr char kHeadsCf[] = "heads";
// Committer groups stop growing past this many bytes of records, and at most
// this many bytes may wait for the committer.
constexpr size_t kMaxGroupBytes = 32 << 20;
constexpr size_t kMaxQueuedBytes = 512 << 20;
// Groups smaller than this wait for the disk to go idle and grow meanwhile.
constexpr size_t kSmallGroupBytes = 256 << 10;
// Chunks (record.h) hold at most this many events or bytes.
constexpr size_t kMaxChunkEvents = 1024;
constexpr size_t kMaxChunkBytes = 1 << 20;
// Verify splits long streams into runs of this many events.
constexpr uint64_t kVerifyRunLength = 1 << 18;

using storage::FromRocks;
using storage::GetBigEndian64;
using storage::PutBigEndian64;

std::string HeadsKey(const StreamId& s) { return absl::StrCat(s.context, std::string(1, '\0'), s.facility); }

std::string EncodeHead(const StreamState& st) {
  std::string v;
  PutBigEndian64(&v, st.head);
  v.append(st.head_hash.empty() ? ZeroHash() : st.head_hash);
  PutBigEndian64(&v, st.checkpointed);
  return v;
}

bool DecodeHead(std::string_view v, StreamState* st) {
  if (v.size() != 8 + kHashSize + 8) return false;
  st->head = GetBigEndian64(v);
  st->head_hash = std::string(v.substr(8, kHashSize));
  st->checkpointed = GetBigEndian64(v.substr(8 + kHashSize));
  return true;
}

// Splits "context \0 facility \0 ..." keys; false if malformed.
bool SplitStreamKey(std::string_view key, StreamId* id, std::string_view* rest) {
  size_t a = key.find('\0');
  if (a == std::string_view::npos) return false;
  size_t b = key.find('\0', a + 1);
  if (b == std::string_view::npos) return false;
  id->context = std::string(key.substr(0, a));
  id->facility = std::string(key.substr(a + 1, b - a - 1));
  *rest = key.substr(b + 1);
  return true;
}

// The stream part of an events key ("context \0 facility \0"). RocksDB
// keeps an insert hint per prefix, so appends to a stream skip the memtable
// skiplist search.
class StreamPrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "takt.StreamPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    std::string_view k = key.ToStringView();
    size_t a = k.find('\0');
    size_t b = k.find('\0', a + 1);
    return rocksdb::Slice(key.data(), b + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    std::string_view k = key.ToStringView();
    size_t a = k.find('\0');
    return a != std::string_view::npos && k.find('\0', a + 1) != std::string_view::npos;
  }
};

rocksdb::Options BaseOptions() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  o.paranoid_checks = true;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  o.recycle_log_file_num = 4;
  return o;
}

rocksdb::ColumnFamilyOptions CfOptions(bool point_lookups) {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 64 << 20;
  o.max_write_buffer_number = 4;
  o.target_file_size_base = 64 << 20;
  o.max_bytes_for_level_base = 256 << 20;
  o.compression_per_level = {rocksdb::kNoCompression, rocksdb::kNoCompression,
                             rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                             rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                             rocksdb::kLZ4Compression};
  rocksdb::BlockBasedTableOptions t;
  t.block_size = 16 << 10;
  if (point_lookups) {
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Most lookups (a new event's dedup key) miss: a bloom filter over the
    // memtable answers them without walking the skip list.
    o.memtable_whole_key_filtering = true;
    o.memtable_prefix_bloom_size_ratio = 0.02;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

rocksdb::ColumnFamilyOptions EventsCfOptions() {
  rocksdb::ColumnFamilyOptions o = CfOptions(false);
  o.memtable_insert_with_hint_prefix_extractor = std::make_shared<StreamPrefix>();
  // Chunks are large and never change: keep them in blob files so that
  // compaction moves small references instead of rewriting event bytes
  // (write amplification ~2x: WAL + blob file, instead of ~3x).
  o.enable_blob_files = true;
  o.min_blob_size = 1024;
  o.blob_file_size = 256 << 20;
  o.enable_blob_garbage_collection = false;  // nothing is ever deleted
  o.write_buffer_size = 128 << 20;
  return o;
}

// The event log's database: the shared handle plus named column families.
struct Db {
  std::unique_ptr<storage::RocksHandle> rocks;
  rocksdb::DB* db = nullptr;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  rocksdb::ColumnFamilyHandle* checkpoints = nullptr;
  rocksdb::ColumnFamilyHandle* dedup = nullptr;
  rocksdb::ColumnFamilyHandle* heads = nullptr;
};

absl::StatusOr<std::unique_ptr<Db>> OpenDb(const std::string& path, bool read_only) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, CfOptions(false)},
      {kEventsCf, EventsCfOptions()},
      {kCheckpointsCf, CfOptions(false)},
      {kDedupCf, CfOptions(true)},
      {kHeadsCf, CfOptions(true)},
  };
  auto out = std::make_unique<Db>();
  auto rocks = storage::OpenRocks(BaseOptions(), path, cfs, read_only);
  if (!rocks.ok()) {
    if (rocks.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(
          absl::StrCat("event log at ", rocks.status().message()));
    }
    return rocks.status();
  }
  out->rocks = std::move(*rocks);
  out->db = out->rocks->db.get();
  out->events = out->rocks->handles[1];
  out->checkpoints = out->rocks->handles[2];
  out->dedup = out->rocks->handles[3];
  out->heads = out->rocks->handles[4];
  return out;
}

// --- Verification over a RocksDB log (live or read-only) -------------------

struct StreamPlan {
  StreamId id;
  uint64_t last_stored = 0;
  uint64_t recorded_head = 0;
  std::vector<v1::Checkpoint> checkpoints;
  std::set<uint64_t> wanted;
  std::vector<ChainChecker> runs;
};

// The hash stored with the record at `sequence` of a stream, if present.
std::optional<std::string> StoredHash(Db& db, const StreamId& stream, uint64_t sequence) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.events));
  const std::string prefix = EmbeddedStreamPrefix(stream);
  it->SeekForPrev(EmbeddedEventKey(stream, sequence));
  if (!it->Valid() || !it->key().starts_with(prefix) || it->key().size() != prefix.size() + 8) {
    return std::nullopt;
  }
  uint64_t seq = GetBigEndian64(it->key().ToStringView().substr(prefix.size()));
  ChunkReader chunk;
  if (!chunk.Open(it->value().ToStringView())) return std::nullopt;
  std::string_view record, hash, body;
  while (chunk.Next(&record)) {
    if (seq++ != sequence) continue;
    if (!SplitRecord(record, &hash, &body)) return std::nullopt;
    return std::string(hash);
  }
  return std::nullopt;
}

absl::StatusOr<VerifyReport> VerifyDb(Db& db, const VerifyOptions& options,
                                      const crypto::KeyRing& keys, int threads) {
  std::map<StreamId, StreamPlan> streams;
  auto wanted_stream = [&](const StreamId& id) {
    return (options.context.empty() || id.context == options.context) &&
           (options.facility.empty() || id.facility == options.facility);
  };
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.verify_checksums = true;
  // Streams from the events: jump from stream to stream.
  {
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.events));
    for (it->SeekToFirst(); it->Valid();) {
      StreamId id;
      std::string_view rest;
      if (!SplitStreamKey(it->key().ToStringView(), &id, &rest)) {
        it->Next();
        continue;
      }
      std::string prefix = EmbeddedStreamPrefix(id);
      std::string end = prefix + std::string(8, '\xff');
      it->SeekForPrev(end);
      uint64_t last = 0;
      if (it->Valid() && it->key().starts_with(prefix) && it->key().size() == prefix.size() + 8) {
        last = GetBigEndian64(it->key().ToStringView().substr(prefix.size()));
        ChunkReader chunk;
        if (chunk.Open(it->value().ToStringView()) && chunk.count() > 0) {
          last += chunk.count() - 1;
        }
      }
      if (wanted_stream(id)) {
        streams[id].id = id;
        streams[id].last_stored = last;
      }
      it->Seek(end);
      if (it->Valid() && it->key() == end) it->Next();
    }
    TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "scanning events"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.checkpoints));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      StreamId id;
      std::string_view rest;
      if (!SplitStreamKey(it->key().ToStringView(), &id, &rest) || !wanted_stream(id)) continue;
      v1::Checkpoint c;
      StreamPlan& sp = streams[id];
      sp.id = id;
      if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        c.set_context(id.context);
        c.set_facility(id.facility);
        if (rest.size() == 8) c.set_sequence(GetBigEndian64(rest));
      }
      sp.checkpoints.push_back(std::move(c));
    }
    TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "scanning checkpoints"));
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.heads));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      size_t a = key.find('\0');
      if (a == std::string_view::npos) continue;
      StreamId id{std::string(key.substr(0, a)), std::string(key.substr(a + 1))};
      StreamState st;
      if (!wanted_stream(id) || !DecodeHead(it->value().ToStringView(), &st)) continue;
      streams[id].id = id;
      streams[id].recorded_head = st.head;
    }
    TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "scanning heads"));
  }

  // Cut streams into runs and check the runs on `threads` threads.
  struct Work {
    StreamPlan* stream;
    size_t run;
    uint64_t from;  // the run checks the chunks that start in [from, to]
    uint64_t to;
  };
  std::vector<Work> work;
  for (auto& [id, sp] : streams) {
    sp.wanted = CheckpointSequences(sp.checkpoints);
    for (uint64_t from = 1; from <= std::max<uint64_t>(sp.last_stored, 1);
         from += kVerifyRunLength) {
      sp.runs.emplace_back(from == 1 ? 1 : 0, from == 1 ? ZeroHash() : std::string(),
                           &sp.wanted);
      work.push_back(Work{&sp, sp.runs.size() - 1, from,
                          std::min(sp.last_stored, from + kVerifyRunLength - 1)});
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> io_error{false};
  auto worker = [&] {
    rocksdb::ReadOptions wro;
    wro.fill_cache = false;
    // The SHA-256 chain checks every byte of every record; RocksDB's own
    // CRC over each blob would only repeat that work.
    wro.verify_checksums = false;
    wro.readahead_size = 2 << 20;
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(wro, db.events));
    for (size_t i = next++; i < work.size(); i = next++) {
      Work& w = work[i];
      ChainChecker& checker = w.stream->runs[w.run];
      std::string prefix = EmbeddedStreamPrefix(w.stream->id);
      ChunkReader chunk;
      for (it->Seek(EmbeddedEventKey(w.stream->id, w.from)); it->Valid(); it->Next()) {
        std::string_view key = it->key().ToStringView();
        if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) break;
        const uint64_t first = GetBigEndian64(key.substr(prefix.size()));
        if (first > w.to) break;
        bool more = true;
        if (!chunk.Open(it->value().ToStringView())) {
          more = checker.Add(first, std::string_view());  // reported as altered
        } else {
          std::string_view record;
          uint64_t seq = first;
          while (more && chunk.Next(&record)) more = checker.Add(seq++, record);
          if (more && chunk.malformed()) more = checker.Add(seq, std::string_view());
        }
        if (!more) break;
      }
      if (!it->status().ok()) io_error = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (io_error) return absl::DataLossError("reading events failed (RocksDB checksum or I/O error)");

  VerifyReport report;
  for (auto& [id, sp] : streams) {
    ++report.streams_checked;
    for (const auto& r : sp.runs) report.events_checked += r.events();
    std::optional<VerifyFailure> failure = FinishStream(
        id, sp.runs, sp.checkpoints, keys, sp.recorded_head, &report.checkpoints_checked);
    // Today's log must extend every head the auditor kept.
    for (const VerifiedHead& kept : options.trusted_heads) {
      if (failure || kept.context != id.context || kept.facility != id.facility) continue;
      if (sp.last_stored < kept.sequence) {
        failure = VerifyFailure{id.context, id.facility, sp.last_stored + 1, FailureKind::kRolledBack,
                                absl::StrCat("the stream ends at ", sp.last_stored,
                                             ", before the kept head at ", kept.sequence)};
      } else if (StoredHash(db, id, kept.sequence) != kept.hash) {
        failure = VerifyFailure{id.context, id.facility, kept.sequence, FailureKind::kForked,
                                "the event here has another hash than the kept head"};
      }
    }
    if (failure) report.failures.push_back(std::move(*failure));
    if (sp.last_stored > 0) {
      if (auto hash = StoredHash(db, id, sp.last_stored)) {
        report.heads.push_back(VerifiedHead{id.context, id.facility, sp.last_stored, *hash});
      }
    }
  }
  // A kept head of a stream that no longer exists at all.
  for (const VerifiedHead& kept : options.trusted_heads) {
    if (!wanted_stream(StreamId{kept.context, kept.facility}) ||
        streams.count(StreamId{kept.context, kept.facility})) {
      continue;
    }
    report.failures.push_back(VerifyFailure{kept.context, kept.facility, 1, FailureKind::kRolledBack,
                                            absl::StrCat("the stream is gone; a kept head is at ",
                                                         kept.sequence)});
  }
  return report;
}

// --- The live log ------------------------------------------------------------

class EmbeddedLog;

class EmbeddedSubscription final : public Subscription {
 public:
  EmbeddedSubscription(EmbeddedLog* log, std::string context, Cursor cursor)
      : log_(log), context_(std::move(context)), cursor_(std::move(cursor)) {}
  absl::StatusOr<std::vector<LoggedEvent>> Poll(size_t max_events, absl::Duration timeout) override {
    std::vector<LoggedEvent> out;
    TAKT_RETURN_IF_ERROR(PollInto(max_events, timeout, &out));
    return out;
  }
  absl::Status PollInto(size_t max_events, absl::Duration timeout, std::vector<LoggedEvent>* events) override;
  const Cursor& cursor() const override { return cursor_; }

 private:
  EmbeddedLog* log_;
  std::string context_;
  Cursor cursor_;
  StreamChains chains_;  // what is handed out was checked against its chain
  absl::Status failed_;  // a broken chain met: every later poll says so
};

class EmbeddedLog final : public EventLog, private StateSource {
 public:
  EmbeddedLog(std::unique_ptr<Db> db, crypto::SigningKeys keys, EmbeddedLogOptions options)
      : db_(std::move(db)), keys_(std::move(keys)), options_(std::move(options)) {}

  ~EmbeddedLog() override {
    if (queue_) {
      (void)CheckpointAll();
      queue_.reset();  // drains, then stops the planner
    }
    if (writer_.joinable()) {
      {
        absl::MutexLock lock(&flight_mu_);
        stop_writer_ = true;  // the writer finishes what is queued first
      }
      writer_.join();
    }
  }

  absl::Status Start() {
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->heads));
    absl::MutexLock lock(&heads_mu_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      size_t a = key.find('\0');
      StreamState st;
      if (a == std::string_view::npos || !DecodeHead(it->value().ToStringView(), &st)) {
        return absl::DataLossError("event log heads are corrupt; run `takt log verify`");
      }
      heads_[StreamId{std::string(key.substr(0, a)), std::string(key.substr(a + 1))}] = st;
    }
    TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "loading stream heads"));
    writer_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "takt-log-write");
      WriterLoop();
    });
    queue_ = std::make_unique<CommitQueue>(
        [this](std::vector<PendingAppend*>& batch) { CommitGroup(batch); }, kMaxGroupBytes,
        kMaxQueuedBytes, CommitQueue::CallerCommits::kWhenIdle);
    return absl::OkStatus();
  }

  absl::StatusOr<AppendResult> Append(AppendRequest request) override {
    return queue_->Append(std::move(request));
  }
  std::unique_ptr<AppendInProgress> StartAppend(AppendRequest request) override {
    return queue_->Start(std::move(request));
  }

  absl::Status CheckpointAll() override { return queue_->CheckpointAll(); }

  absl::StatusOr<std::vector<LoggedEvent>> ReadStream(const StreamId& stream,
                                                      uint64_t from_sequence,
                                                      size_t max_events) override {
    std::vector<LoggedEvent> out;
    TAKT_RETURN_IF_ERROR(ScanRecords(
        stream, from_sequence, max_events, [&](uint64_t seq, std::string_view record) {
          if (out.empty()) out.reserve(max_events < 4096 ? max_events : 4096);
          auto envelope = DecodeRecord(record);
          if (!envelope.ok() || envelope->sequence() != seq) return Damaged(stream, seq);
          out.push_back(LoggedEvent{std::move(*envelope), Position{stream.facility, seq}});
          return absl::OkStatus();
        }));
    return out;
  }

  absl::Status ReadRecords(const StreamId& stream, uint64_t from_sequence, size_t max_events,
                           const std::function<void(uint64_t, std::string_view)>& fn) override {
    // These readers check every record's SHA-256 and chain link as they go
    // (event_log.h), so RocksDB's CRC over each blob would repeat that work.
    return ScanRecords(
        stream, from_sequence, max_events,
        [&](uint64_t seq, std::string_view record) {
          fn(seq, record);
          return absl::OkStatus();
        },
        /*verify_checksums=*/false);
  }

  static absl::Status Damaged(const StreamId& stream, uint64_t seq) {
    return absl::DataLossError(absl::StrCat("stream ", stream.context, "/", stream.facility,
                                            " is damaged at sequence ", seq,
                                            "; run `takt log verify`"));
  }

  // Calls `fn` with the stored records of sequences [from, from + max) (up
  // to the head), in order; DATA_LOSS if one is missing or a chunk is bad.
  // Without `verify_checksums`, RocksDB does not check its own CRCs: only
  // for callers that check each record's hash themselves.
  template <typename Fn>
  absl::Status ScanRecords(const StreamId& stream, uint64_t from_sequence, size_t max_events,
                           Fn&& fn, bool verify_checksums = true) {
    TAKT_RETURN_IF_ERROR(ValidateContextName(stream.context));
    TAKT_RETURN_IF_ERROR(ValidateFacilityId(stream.facility));
    uint64_t head = HeadOf(stream).head;
    if (from_sequence == 0) from_sequence = 1;
    if (from_sequence > head || max_events == 0) return absl::OkStatus();
    uint64_t to = std::min<uint64_t>(head, from_sequence + max_events - 1);
    rocksdb::ReadOptions ro;
    ro.verify_checksums = verify_checksums;
    std::string upper = EmbeddedEventKey(stream, to + 1);
    rocksdb::Slice upper_slice(upper);
    ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(ro, db_->events));
    const std::string prefix = EmbeddedStreamPrefix(stream);
    // The chunk holding from_sequence starts at or before it.
    it->SeekForPrev(EmbeddedEventKey(stream, from_sequence));
    if (!it->Valid() || !it->key().starts_with(prefix)) it->Seek(EmbeddedEventKey(stream, from_sequence));
    uint64_t expect = from_sequence;
    ChunkReader chunk;
    for (; it->Valid() && expect <= to; it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (key.size() != prefix.size() + 8 || !it->key().starts_with(prefix)) break;
      uint64_t seq = GetBigEndian64(key.substr(prefix.size()));
      if (seq > expect) break;  // a hole: reported below
      if (!chunk.Open(it->value().ToStringView())) return Damaged(stream, seq);
      std::string_view record;
      for (; expect <= to && chunk.Next(&record); ++seq) {
        if (seq < expect) continue;
        TAKT_RETURN_IF_ERROR(fn(seq, record));
        ++expect;
      }
      if (chunk.malformed()) return Damaged(stream, seq);
    }
    // A damaged blob (RocksDB's CRC) ends the iteration: name where.
    TAKT_RETURN_IF_ERROR(FromRocks(
        it->status(), absl::StrCat("reading stream ", stream.context, "/", stream.facility,
                                   " at sequence ", expect, " (run `takt log verify`)")));
    if (expect != to + 1) {
      return absl::DataLossError(absl::StrCat("stream ", stream.context, "/", stream.facility,
                                              " is missing sequence ", expect,
                                              "; run `takt log verify`"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(std::string_view context,
                                                          Cursor cursor) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(context));
    return std::unique_ptr<Subscription>(
        new EmbeddedSubscription(this, std::string(context), std::move(cursor)));
  }

  absl::StatusOr<std::vector<StreamHead>> Heads(std::string_view context) override {
    std::vector<StreamHead> out;
    absl::MutexLock lock(&heads_mu_);
    for (const auto& [id, st] : heads_) {
      if (!context.empty() && id.context != context) continue;
      out.push_back(StreamHead{id, st.head, st.head_hash});
    }
    return out;
  }

  absl::StatusOr<std::vector<v1::Checkpoint>> ReadCheckpoints(const StreamId& stream) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(stream.context));
    TAKT_RETURN_IF_ERROR(ValidateFacilityId(stream.facility));
    std::vector<v1::Checkpoint> out;
    const std::string prefix = EmbeddedStreamPrefix(stream);
    std::unique_ptr<rocksdb::Iterator> it(db_->db->NewIterator(rocksdb::ReadOptions(), db_->checkpoints));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      v1::Checkpoint c;
      if (!c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat("a checkpoint of ", stream.context, "/",
                                                stream.facility, " does not decode"));
      }
      out.push_back(std::move(c));
    }
    TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "reading checkpoints"));
    return out;
  }

  absl::StatusOr<VerifyReport> Verify(const VerifyOptions& options) override {
    return VerifyDb(*db_, options, options.keys ? *options.keys : keys_.ring,
                    options_.verify_threads);
  }

  crypto::KeyRing keys() const override { return keys_.ring; }

  std::optional<storage::StorageHealth> StoreHealth() const override {
    return storage::ReadStorageHealth(db_->db);
  }

  absl::Status CheckWritable(absl::Duration /*timeout*/) override {
    if (failed_) {
      return absl::UnavailableError("the event log stopped accepting writes after a storage error; restart the server");
    }
    if (storage::ReadStorageHealth(db_->db).write_stopped) {
      return absl::UnavailableError("RocksDB has stopped writes until compaction catches up (takt_rocksdb_write_stopped)");
    }
    return absl::OkStatus();
  }

  absl::Status Backup(const std::string& dir) override { return storage::CheckpointRocks(db_->db, dir); }

  absl::StatusOr<Cursor> EndCursor(std::string_view context) override {
    TAKT_RETURN_IF_ERROR(ValidateContextName(context));
    Cursor end;
    for (const auto& [facility, head] : FacilityHeads(std::string(context))) {
      end[facility] = head + 1;
    }
    return end;
  }

  // Waits until the append counter passes `seen` or the timeout expires.
  uint64_t WaitForAppends(uint64_t seen, absl::Duration timeout) {
    absl::MutexLock lock(&heads_mu_);
    auto moved = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(heads_mu_) { return appends_ != seen; };
    heads_mu_.AwaitWithTimeout(absl::Condition(&moved), timeout);
    return appends_;
  }
  uint64_t appends() {
    absl::MutexLock lock(&heads_mu_);
    return appends_;
  }
  std::vector<std::pair<std::string, uint64_t>> FacilityHeads(const std::string& context) {
    std::vector<std::pair<std::string, uint64_t>> out;
    absl::MutexLock lock(&heads_mu_);
    for (auto it = heads_.lower_bound(StreamId{context, ""});
         it != heads_.end() && it->first.context == context; ++it) {
      out.emplace_back(it->first.facility, it->second.head);
    }
    return out;
  }

 private:
  StreamState HeadOf(const StreamId& id) {
    absl::MutexLock lock(&heads_mu_);
    auto it = heads_.find(id);
    return it == heads_.end() ? StreamState{} : it->second;
  }

  // StateSource, called by the planning thread (one plan at a time).
  StreamState LoadStream(const StreamId& id) override {
    {
      absl::MutexLock lock(&flight_mu_);
      auto it = pending_heads_.find(id);
      if (it != pending_heads_.end()) return it->second;
    }
    return HeadOf(id);
  }
  std::optional<DedupEntry> LoadDedup(const StreamId& id, const std::string& key) override {
    {
      absl::MutexLock lock(&flight_mu_);
      // Entries of groups planned but not yet written (at most two).
      for (const InFlight* f : unwritten_) {
        auto stream = f->dedup.find(id);
        if (stream == f->dedup.end()) continue;
        auto it = stream->second.find(key);
        if (it != stream->second.end()) return it->second;
      }
    }
    std::string value;
    rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), db_->dedup,
                                     absl::StrCat(EmbeddedStreamPrefix(id), key), &value);
    DedupEntry e;
    if (!s.ok() || !DecodeDedupEntry(value, &e)) return std::nullopt;
    // An entry for events beyond the stream's head survived a rollback of
    // the log (events deleted behind its back): those events are gone, so
    // a resend must be recorded again, not acknowledged as a duplicate.
    // Likewise when new events have since taken those sequences: the event
    // an entry points at must carry the entry's key.
    if (e.first_sequence + e.count - 1 > LoadStream(id).head) return std::nullopt;
    auto at = ReadStream(id, e.first_sequence, 1);
    if (!at.ok() || at->empty()) return std::nullopt;
    const Envelope& first = at->front().envelope;
    if (key != RequestKey(first.request_id()) &&
        key != ObservationKey(first.source_id(), first.source_sequence())) {
      return std::nullopt;
    }
    return e;
  }

  // A planned group on its way to disk.
  struct InFlight {
    std::vector<PendingAppend*> batch;
    rocksdb::WriteBatch wb;
    std::map<StreamId, StreamState> streams;
    // Its dedup entries while they are not in RocksDB yet (a group handed
    // to the writer thread).
    std::map<StreamId, WriteGroup::DedupEntries> dedup;
    size_t events = 0;  // records in the write
  };

  // Planner stage (the CommitQueue thread, or a lone appender's own thread):
  // plans a group against the published heads plus everything still in
  // flight and builds its WriteBatch. A large group goes to the writer
  // thread, so that planning group N+1 overlaps writing group N; a small
  // one is written here.
  void CommitGroup(std::vector<PendingAppend*>& batch) {
    // A small group is not worth a sync of its own while the disk is busy:
    // wait for the writer to go idle, then take everything that arrived
    // meanwhile. Large groups go straight on and overlap the running write.
    size_t bytes = 0;
    for (const PendingAppend* p : batch) bytes += p->prepared.bytes;
    // Written here only if still small once it has taken what waited: a
    // group that grew large goes to the writer, so that planning the next
    // one overlaps its write.
    bool write_here = false;
    if (bytes < kSmallGroupBytes) {
      {
        absl::MutexLock lock(&flight_mu_);
        auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(flight_mu_) {
          return next_flight_ == nullptr && !writing_;
        };
        flight_mu_.Await(absl::Condition(&idle));
      }
      const size_t had = batch.size();
      queue_->TakeMore(batch, bytes);
      for (size_t i = had; i < batch.size(); ++i) bytes += batch[i]->prepared.bytes;
      write_here = bytes < kSmallGroupBytes;
    }
    auto flight = std::make_unique<InFlight>();
    flight->batch = batch;
    WriteGroup group(this);
    const bool checkpoint_all = PlanBatch(batch, group);
    if (checkpoint_all) {
      for (const auto& [id, st] : PlannerHeads()) {
        if (st.head != st.checkpointed) group.LoadForCheckpoint(id, st);
      }
    }
    group.AddDueCheckpoints(keys_.key, checkpoint_all ? 0 : options_.checkpoint_interval,
                            keys_.SigningTime(absl::Now()));
    if (!group.empty()) {
      size_t bytes = 0;
      for (const PlannedRecord& r : group.records()) bytes += r.record.size() + 64;
      flight->wb = rocksdb::WriteBatch(bytes + 4096);
      // Each run of consecutive records of one stream becomes one chunk.
      std::string key;
      const StreamId* chunk_stream = nullptr;
      uint64_t chunk_first = 0;
      ChunkBuilder chunk;
      auto put_chunk = [&] {
        if (chunk.count() == 0) return;
        key = EmbeddedEventKey(*chunk_stream, chunk_first);
        std::string_view bytes = chunk.Finish();
        flight->wb.Put(db_->events, key, rocksdb::Slice(bytes.data(), bytes.size()));
        chunk.Reset();
      };
      for (const PlannedRecord& r : group.records()) {
        if (r.stream != chunk_stream || chunk.count() >= kMaxChunkEvents ||
            chunk.bytes() >= kMaxChunkBytes) {
          put_chunk();
          chunk_stream = r.stream;
          chunk_first = r.sequence;
        }
        chunk.Add(r.record);
      }
      put_chunk();
      // In key order: the memtable inserts neighbours cheaply.
      std::vector<const std::pair<const std::string, DedupEntry>*> sorted;
      for (const auto& [id, entries] : group.dedup()) {
        const std::string prefix = EmbeddedStreamPrefix(id);
        sorted.clear();
        for (const auto& e : entries) sorted.push_back(&e);
        std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
        for (const auto* e : sorted) {
          key.assign(prefix).append(e->first);
          flight->wb.Put(db_->dedup, key, EncodeDedupEntry(e->second));
        }
      }
      for (const PlannedCheckpoint& c : group.checkpoints()) {
        flight->wb.Put(db_->checkpoints, EmbeddedEventKey(c.stream, c.checkpoint.sequence()),
                       c.checkpoint.SerializeAsString());
      }
      for (const auto& [id, st] : group.streams()) {
        flight->wb.Put(db_->heads, HeadsKey(id), EncodeHead(st));
      }
      flight->streams = group.streams();
      flight->events = group.records().size();
      // Only a group handed to the writer thread needs its dedup entries
      // overlaid for planning: the next group is planned before it is
      // written. One written here is in RocksDB before the next is planned.
      if (!write_here) flight->dedup = group.TakeDedup();
    }
    {
      absl::MutexLock lock(&flight_mu_);
      for (const auto& [id, st] : flight->streams) pending_heads_[id] = st;
      if (!flight->dedup.empty()) unwritten_.push_back(flight.get());
      if (!write_here) {
        // One group waits while one is written: bounded memory, and backpressure.
        auto slot_free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(flight_mu_) {
          return next_flight_ == nullptr;
        };
        flight_mu_.Await(absl::Condition(&slot_free));
        next_flight_ = std::move(flight);
        return;
      }
      // A small group waited above for the writer to go idle, and only the
      // planning thread hands it work: nothing would overlap this write, so
      // the planning thread does it itself, one thread hand-off less per commit (with a lone
      // appender that commits on its own thread, none at all).
      writing_ = true;
    }
    WriteFlight(*flight);
  }

  // Writer stage: one synced RocksDB write per group, then publish and wake.
  void WriterLoop() {
    for (;;) {
      std::unique_ptr<InFlight> flight;
      {
        absl::MutexLock lock(&flight_mu_);
        auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(flight_mu_) {
          return next_flight_ != nullptr || stop_writer_;
        };
        flight_mu_.Await(absl::Condition(&ready));
        if (!next_flight_) return;
        flight = std::move(next_flight_);
        writing_ = true;
      }
      WriteFlight(*flight);
    }
  }

  // Makes `flight` durable in one synced write, publishes its heads and wakes
  // its callers. The caller set writing_; this clears it.
  void WriteFlight(InFlight& flight) {
    absl::Status status;
    if (failed_) {
      status = absl::UnavailableError(
          "event log stopped accepting writes after a storage error; restart the server");
    } else if (flight.wb.Count() > 0) {
      rocksdb::WriteOptions wo;
      wo.sync = true;
      const absl::Time started = absl::Now();
      status = FromRocks(db_->db->Write(wo, &flight.wb), "writing to the event log");
      stats_.write_seconds.Observe(absl::ToDoubleSeconds(absl::Now() - started));
      if (status.ok()) {
        stats_.writes.Add();
        stats_.events.Add(flight.events);
        stats_.group_events.Observe(static_cast<double>(flight.events));
      } else {
        stats_.failed_writes.Add();
      }
      if (!status.ok()) {
        failed_ = true;
        status = absl::UnavailableError(
            absl::StrCat(status.message(), "; nothing of this write was acknowledged"));
      }
    }
    if (status.ok() && !flight.streams.empty()) {
      absl::MutexLock lock(&heads_mu_);
      for (const auto& [id, st] : flight.streams) heads_[id] = st;
      ++appends_;
    }
    {
      absl::MutexLock lock(&flight_mu_);
      writing_ = false;
      for (const auto& [id, st] : flight.streams) {
        auto it = pending_heads_.find(id);
        if (it != pending_heads_.end() && it->second.head == st.head &&
            it->second.checkpointed == st.checkpointed) {
          pending_heads_.erase(it);
        }
      }
      unwritten_.erase(std::remove(unwritten_.begin(), unwritten_.end(), &flight), unwritten_.end());
    }
    CompleteBatch(flight.batch, status);
  }

  // Stream heads as the planner sees them: published, overlaid by in flight.
  std::map<StreamId, StreamState> PlannerHeads() {
    std::map<StreamId, StreamState> out;
    {
      absl::MutexLock lock(&heads_mu_);
      out = heads_;
    }
    absl::MutexLock lock(&flight_mu_);
    for (const auto& [id, st] : pending_heads_) out[id] = st;
    return out;
  }

  std::unique_ptr<Db> db_;
  const crypto::SigningKeys keys_;
  const EmbeddedLogOptions options_;

  std::atomic<bool> failed_{false};

  absl::Mutex flight_mu_;
  std::unique_ptr<InFlight> next_flight_ ABSL_GUARDED_BY(flight_mu_);
  bool stop_writer_ ABSL_GUARDED_BY(flight_mu_) = false;
  bool writing_ ABSL_GUARDED_BY(flight_mu_) = false;
  std::map<StreamId, StreamState> pending_heads_ ABSL_GUARDED_BY(flight_mu_);
  // Planned groups not yet written that carry dedup entries, oldest first.
  std::vector<const InFlight*> unwritten_ ABSL_GUARDED_BY(flight_mu_);
  std::thread writer_;

  absl::Mutex heads_mu_;
  std::map<StreamId, StreamState> heads_ ABSL_GUARDED_BY(heads_mu_);
  uint64_t appends_ ABSL_GUARDED_BY(heads_mu_) = 0;

  std::unique_ptr<CommitQueue> queue_;  // last: destroyed first
};

absl::Status EmbeddedSubscription::PollInto(size_t max_events, absl::Duration timeout,
                                            std::vector<LoggedEvent>* events) {
  if (!failed_.ok()) return failed_;
  // Decoded into the envelopes `events` holds (recycled), then cut to the
  // number decoded.
  size_t n = 0;
  struct Cut {
    std::vector<LoggedEvent>* events;
    const size_t& n;
    ~Cut() { events->resize(n); }
  } cut{events, n};
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t seen = log_->appends();
    for (const auto& facility_head : log_->FacilityHeads(context_)) {
      // Named, not a structured binding: lambdas below capture it.
      const std::string& facility = facility_head.first;
      const uint64_t head = facility_head.second;
      if (n >= max_events) break;
      uint64_t& next = cursor_[facility];
      if (next == 0) next = 1;
      if (next > head) continue;
      const StreamId stream{context_, facility};
      if (!chains_.Seeded(stream) && next > 1) {
        // Resuming mid-stream: continue the chain from the last event read,
        // once that event's own hash checks out (ReadRecords skips the
        // storage CRCs; an unchecked seed would leave the link unchecked).
        std::string prev;
        ChainChecker seed(next - 1, std::string(), nullptr);
        TAKT_RETURN_IF_ERROR(log_->ReadRecords(stream, next - 1, 1,
                                               [&](uint64_t seq, std::string_view record) {
          std::string_view hash, body;
          if (seed.Add(seq, record) && !seed.failure() && SplitRecord(record, &hash, &body)) {
            prev = std::string(hash);
          }
        }));
        if (prev.empty()) {
          return absl::DataLossError(absl::StrCat(context_, "/", facility, " sequence ", next - 1,
                                                  ": the event before the resume point does not "
                                                  "verify; run takt log verify"));
        }
        chains_.Seed(stream, next, std::move(prev));
      }
      absl::Status bad;
      uint64_t good = 0;
      TAKT_RETURN_IF_ERROR(log_->ReadRecords(stream, next, max_events - n,
                                             [&](uint64_t seq, std::string_view record) {
        if (!bad.ok()) return;
        bad = chains_.Check(stream, seq, record);
        if (!bad.ok()) return;
        LoggedEvent& slot = n < events->size() ? (*events)[n] : events->emplace_back();
        if (!DecodeRecordInto(record, &slot.envelope).ok() || slot.envelope.sequence() != seq) {
          bad = absl::DataLossError(absl::StrCat(context_, "/", facility, " sequence ", seq,
                                                 ": the event does not decode; run takt log verify"));
          return;
        }
        slot.position.partition = facility;
        slot.position.offset = seq;
        ++n;
        ++good;
      }));
      next += good;
      if (!bad.ok()) {
        // Hand out what came before the bad event; the next poll fails.
        failed_ = bad;
        if (n > 0) return absl::OkStatus();
        return bad;
      }
    }
    if (n > 0 || attempt == 1) break;
    log_->WaitForAppends(seen, timeout);
  }
  return absl::OkStatus();
}

}  // namespace

std::string EmbeddedStreamPrefix(const StreamId& stream) {
  std::string key;
  key.reserve(stream.context.size() + stream.facility.size() + 2);
  key.append(stream.context);
  key.push_back('\0');
  key.append(stream.facility);
  key.push_back('\0');
  return key;
}

std::string EmbeddedEventKey(const StreamId& stream, uint64_t sequence) {
  std::string key = EmbeddedStreamPrefix(stream);
  PutBigEndian64(&key, sequence);
  return key;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir must be set");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir + "/keys", ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", options.data_dir, "/keys: ", ec.message()));
  }
  std::string key_path = options.signing_key_path.empty()
                             ? options.data_dir + "/keys/checkpoint.key"
                             : options.signing_key_path;
  TAKT_ASSIGN_OR_RETURN(crypto::SigningKeys keys, crypto::LoadSigningKeys(key_path));
  TAKT_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenDb(options.data_dir + "/log", false));
  auto log = std::make_unique<EmbeddedLog>(std::move(db), std::move(keys), options);
  TAKT_RETURN_IF_ERROR(log->Start());
  return std::unique_ptr<EventLog>(std::move(log));
}

absl::StatusOr<absl::Time> NewestCheckpointTime(const std::string& data_dir) {
  if (!std::filesystem::exists(data_dir + "/log/CURRENT")) {
    return absl::NotFoundError(absl::StrCat("no event log in ", data_dir));
  }
  TAKT_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenDb(data_dir + "/log", true));
  absl::Time newest = absl::InfinitePast();
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->db->NewIterator(ro, db->checkpoints));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::Checkpoint c;
    if (c.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      newest = std::max(newest, ToTime(c.signed_time()));
    }
  }
  TAKT_RETURN_IF_ERROR(FromRocks(it->status(), "reading checkpoints"));
  return newest;
}

absl::StatusOr<crypto::KeyRing> RotateEmbeddedLogKey(const std::string& data_dir, absl::Time now) {
  absl::Time from = now;
  auto newest = NewestCheckpointTime(data_dir);
  if (newest.ok() && *newest >= from) {
    from = *newest + absl::Nanoseconds(1);
  } else if (!newest.ok() && !absl::IsNotFound(newest.status())) {
    return newest.status();
  }
  return crypto::RotateSigningKey(data_dir + "/keys/checkpoint.key", from);
}

absl::StatusOr<VerifyReport> VerifyEmbeddedLogDirectory(const std::string& data_dir,
                                                        const VerifyOptions& options,
                                                        int threads) {
  std::optional<crypto::KeyRing> keys = options.keys;
  if (!keys) {
    auto ring = crypto::ReadKeyRingFile(data_dir + "/keys/checkpoint.pub");
    if (absl::IsNotFound(ring.status())) {
      return absl::NotFoundError(absl::StrCat("no public key given and ", data_dir,
                                              "/keys/checkpoint.pub is missing"));
    }
    TAKT_ASSIGN_OR_RETURN(keys, std::move(ring));
  }
  if (!std::filesystem::exists(data_dir + "/log/CURRENT")) {
    return absl::NotFoundError(absl::StrCat("no event log in ", data_dir));
  }
  TAKT_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, OpenDb(data_dir + "/log", true));
  return VerifyDb(*db, options, *keys, threads);
}

}  // namespace takt::eventlog
