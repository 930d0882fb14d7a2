// File: event_log.h
// -----------------------------------------------------------------------------
// The EventLog interface: an append-only, hash-chained, idempotent log of
// domain events, one stream per (context, facility). Two backends implement
// it: the embedded RocksDB log (embedded_log.h, the single-machine default)
// and Apache Kafka (kafka_log.h).
//
// Guarantees every backend gives:
//   * An Append is acknowledged only once durable; a failed Append wrote
//     nothing (all or nothing per request).
//   * Sequences are 1-based and gapless per stream; the expected sequence of
//     an append is the stream's current head (0 for a new stream).
//   * hash = SHA-256(prev_hash || stored envelope bytes), chained per stream.
//   * Resends are idempotent: same request id (or same source id and source
//     sequence) and same content return the original positions; the same key
//     with other content is refused. This survives restarts.
#ifndef TAKT_LIBS_EVENTLOG_EVENT_LOG_H_
#define TAKT_LIBS_EVENTLOG_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/common/stats.h"
#include "libs/crypto/keyring.h"
#include "libs/storage/health.h"
#include "absl/time/time.h"
#include "libs/eventlog/verify_report.h"
#include "takt/eventlog/v1/envelope.pb.h"

namespace takt::eventlog {

using v1::Checkpoint;
using v1::Envelope;

// Appends with this expected sequence skip the concurrency check.
inline constexpr int64_t kAnySequence = -1;

// Limits on one append request. Larger requests are refused whole.
inline constexpr size_t kMaxEventsPerAppend = 10000;
inline constexpr size_t kMaxEventBytes = 1 << 20;         // 1 MiB
inline constexpr size_t kMaxAppendBytes = 8 << 20;        // 8 MiB

struct StreamId {
  std::string context;
  std::string facility;
  bool operator==(const StreamId&) const = default;
  auto operator<=>(const StreamId&) const = default;
};

// Where an event sits in the log. Embedded: partition = facility, offset =
// stream sequence. Kafka: partition = partition number, offset = Kafka offset.
struct Position {
  std::string partition;
  uint64_t offset = 0;
};

// A read cursor over a context: for each partition, the next offset to read.
// Projections store it in the same write batch as their state.
using Cursor = std::map<std::string, uint64_t>;

// Events between `cursor` and `end` (another cursor, e.g. EndCursor()):
// what a reader at `cursor` has still to read.
inline uint64_t Lag(const Cursor& cursor, const Cursor& end) {
  uint64_t lag = 0;
  for (const auto& [partition, end_offset] : end) {
    auto it = cursor.find(partition);
    const uint64_t next = it == cursor.end() ? 0 : it->second;
    if (end_offset > next) lag += end_offset - next;
  }
  return lag;
}

struct AppendRequest {
  std::string context;
  std::string facility;
  // kAnySequence, or the sequence of the stream's last event (0 if empty).
  int64_t expected_sequence = kAnySequence;
  // What the caller knows: event_type, schema_version, occurred_time, actor,
  // source_id/source_sequence or request_id, correlation/causation ids,
  // payload, optionally event_id. The log assigns sequence, prev_hash, hash,
  // recorded_time (and event_id when empty); values given for those are
  // ignored. All events of one request that carry a request_id must carry
  // the same one.
  std::vector<Envelope> events;
};

struct AppendedEvent {
  uint64_t sequence = 0;
  Position position;
  std::string event_id;
  // True if this event was a resend of one already in the log.
  bool duplicate = false;
};

struct AppendResult {
  // Stream head after the append.
  uint64_t head_sequence = 0;
  std::vector<AppendedEvent> events;  // one per request event, same order
};

// takt::eventlog::AppendInProgress
//
// An append started with EventLog::StartAppend. Wait() blocks until it is
// durable or failed and returns what Append would have returned; call it
// once. Destroying one that was not waited for still waits (the log may be
// writing it), so an append is never abandoned half-way.
class AppendInProgress {
 public:
  virtual ~AppendInProgress() = default;
  virtual absl::StatusOr<AppendResult> Wait() = 0;
};

// One that is already over (a backend that appends synchronously, or an
// append refused before it was queued).
class AppendDone final : public AppendInProgress {
 public:
  explicit AppendDone(absl::StatusOr<AppendResult> result) : result_(std::move(result)) {}
  absl::StatusOr<AppendResult> Wait() override { return std::move(result_); }

 private:
  absl::StatusOr<AppendResult> result_;
};

// An event as read back, with its hash filled in.
struct LoggedEvent {
  Envelope envelope;
  Position position;
};

struct StreamHead {
  StreamId stream;
  uint64_t sequence = 0;
  std::string hash;  // 32 bytes
};

struct VerifyOptions {
  std::string context;   // empty: all contexts
  std::string facility;  // empty: all facilities
  // Verify checkpoints against this key ring (an auditor's trusted copy).
  // Unset: the log's own ring. Checkpoints signed by a key not in the ring,
  // or dated outside its key's period, fail as bad signatures.
  std::optional<crypto::KeyRing> keys;
  // Heads an auditor kept from an earlier verification: today's log must
  // extend each (same hash at that sequence), else kRolledBack / kForked.
  std::vector<VerifiedHead> trusted_heads;
};

// takt::eventlog::Subscription
//
// Reads a context's events from a cursor, then waits for new ones.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Returns up to `max_events` events after the cursor, waiting up to
  // `timeout` when none are there yet (an empty vector then). Events of one
  // stream come in sequence order.
  virtual absl::StatusOr<std::vector<LoggedEvent>> Poll(size_t max_events,
                                                        absl::Duration timeout) = 0;
  // The same into `events`, whose content is replaced: a reader that hands
  // back the vector of a batch it has applied lets the log decode into its
  // envelopes, reusing their memory (no allocation and no destruction per
  // event). The default calls Poll.
  virtual absl::Status PollInto(size_t max_events, absl::Duration timeout, std::vector<LoggedEvent>* events) {
    absl::StatusOr<std::vector<LoggedEvent>> polled = Poll(max_events, timeout);
    if (!polled.ok()) return polled.status();
    *events = *std::move(polled);
    return absl::OkStatus();
  }
  // The position after the last event returned.
  virtual const Cursor& cursor() const = 0;
};

// What a log counts about its durable writes, for metrics (libs/metrics):
// one write is one group commit, a synced RocksDB WriteBatch (embedded) or
// one Kafka transaction.
struct LogStats {
  stats::Counter writes;         // durable writes that succeeded
  stats::Counter failed_writes;  // writes that failed (nothing acknowledged)
  stats::Counter events;         // events made durable
  // Events per durable write (group-commit size), 1 to 16,384.
  stats::Histogram group_events{stats::Histogram::Exponential(1, 2, 15)};
  // Seconds one durable write took (the write and its fsync, or the
  // transaction's produce, flush and commit), 50 us to 3.3 s.
  stats::Histogram write_seconds{stats::Histogram::Exponential(0.00005, 2, 17)};
};

// takt::eventlog::EventLog
class EventLog {
 public:
  virtual ~EventLog() = default;

  // Its write statistics (read by metrics; updated by the writer).
  const LogStats& stats() const { return stats_; }

  // Appends `request.events` to the stream. Thread-safe; concurrent appends
  // share durability work (group commit). Errors:
  //   INVALID_ARGUMENT     bad context/facility, empty/oversized batch, mixed
  //                        request ids;
  //   FAILED_PRECONDITION  expected_sequence is not the stream head (details
  //                        name the actual head); nothing written;
  //   ALREADY_EXISTS       an idempotency key reused with different content;
  //   UNAVAILABLE          the log cannot make the events durable now (Kafka
  //                        broker down, closed log); nothing acknowledged.
  virtual absl::StatusOr<AppendResult> Append(AppendRequest request) = 0;

  // Starts the same append without waiting for it to be durable, so that a
  // caller can prepare its next one meanwhile (a gateway stream with several
  // batches in flight). Appends started one after the other by one thread
  // are sequenced in that order, as if appended one by one; each one's
  // result comes from Wait(). The default appends here and now.
  virtual std::unique_ptr<AppendInProgress> StartAppend(AppendRequest request) {
    return std::make_unique<AppendDone>(Append(std::move(request)));
  }

  // Reads up to `max_events` events of a stream from `from_sequence` on.
  virtual absl::StatusOr<std::vector<LoggedEvent>> ReadStream(const StreamId& stream,
                                                              uint64_t from_sequence,
                                                              size_t max_events) = 0;

  // The stored records of a stream (see record.h) from `from_sequence` on,
  // at most `max_events`, undecoded: for readers that verify chains as
  // they go. `fn` sees each record with the sequence it is stored under.
  // Callers must check every record's hash and chain link (ChainChecker,
  // StreamChains): the embedded log skips its storage CRCs here, since the
  // SHA-256 covers the same bytes.
  virtual absl::Status ReadRecords(const StreamId& stream, uint64_t from_sequence,
                                   size_t max_events,
                                   const std::function<void(uint64_t, std::string_view)>& fn) = 0;

  // Subscribes to a context's events after `cursor` (empty: from the start).
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(std::string_view context,
                                                                  Cursor cursor) = 0;

  // Heads of all streams of a context (empty context: all contexts).
  virtual absl::StatusOr<std::vector<StreamHead>> Heads(std::string_view context) = 0;

  // Signs and stores a checkpoint of every stream head that moved since its
  // last checkpoint. Appends also checkpoint every N events per stream.
  virtual absl::Status CheckpointAll() = 0;

  // The signed checkpoints of a stream, in sequence order.
  virtual absl::StatusOr<std::vector<v1::Checkpoint>> ReadCheckpoints(const StreamId& stream) = 0;

  // Verifies hash chains and signed checkpoints (see verify_report.h).
  virtual absl::StatusOr<VerifyReport> Verify(const VerifyOptions& options) = 0;

  // The position after the last event of every partition of a context, in
  // the same terms as a subscription's cursor: a cursor equal to it has
  // read everything (lag = sum of the differences).
  virtual absl::StatusOr<Cursor> EndCursor(std::string_view context) = 0;

  // Whether appends can be made durable now: OK, or why not. UNAVAILABLE
  // after a storage error or while the store has stopped writes (embedded
  // log), or when no Kafka broker answers within `timeout`;
  // FAILED_PRECONDITION when a newer writer with the same owner fenced this
  // one. Thread-safe; on Kafka it asks the cluster (at most `timeout`).
  virtual absl::Status CheckWritable(absl::Duration timeout) { return absl::OkStatus(); }

  // The write health of the log's own storage (the embedded log's RocksDB);
  // none where a cluster keeps the log (Kafka).
  virtual std::optional<storage::StorageHealth> StoreHealth() const { return std::nullopt; }

  // The keys that verify this log's checkpoints: every key it has signed
  // with, the current one last (see libs/crypto/keyring.h).
  virtual crypto::KeyRing keys() const = 0;

  // A consistent copy of the log's own storage in `dir` (which must not
  // exist), taken while appends go on: the embedded log's RocksDB
  // checkpoint. UNIMPLEMENTED on Kafka, whose cluster keeps the log (back it
  // up there: replication, MirrorMaker, tiered storage).
  virtual absl::Status Backup(const std::string& dir) = 0;

 protected:
  // Writers count their durable writes here.
  LogStats stats_;
};

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_EVENT_LOG_H_
