// File: sequencer.h
// -----------------------------------------------------------------------------
// The backend-independent write path of the log, as pure functions:
//
//   PrepareAppend  (caller's thread)  validates a request, computes content
//                  digests for idempotency keys, assigns event ids and the
//                  recorded time, serializes everything but the chain fields.
//   PlanAppend     (committer thread) checks the expected sequence and the
//                  dedup index, assigns sequences, chains hashes and frames
//                  records. It reads stream state and dedup entries through
//                  a WriteGroup, which also holds this group's pending
//                  changes so that later requests of a group see earlier ones.
//
// Backends persist the plans (one durable write per group), then apply them.
#ifndef TAKT_LIBS_EVENTLOG_SEQUENCER_H_
#define TAKT_LIBS_EVENTLOG_SEQUENCER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/crypto/ed25519.h"
#include "libs/eventlog/event_log.h"

namespace takt::eventlog {

// What the writer knows about a stream.
struct StreamState {
  uint64_t head = 0;
  std::string head_hash;         // ZeroHash() for an empty stream
  uint64_t checkpointed = 0;     // sequence of the last signed checkpoint
};

// An idempotency key's record: the events it produced.
struct DedupEntry {
  uint64_t first_sequence = 0;
  uint32_t count = 0;
  uint64_t first_offset = 0;  // backend position of the first event
  std::string digest;         // 32 bytes: content of the request/observation
};

std::string EncodeDedupEntry(const DedupEntry& entry);
bool DecodeDedupEntry(std::string_view value, DedupEntry* entry);

// Idempotency keys: "r:<request_id>" for a request, "o:<source_id>:<seq>"
// for an observation.
std::string RequestKey(std::string_view request_id);
std::string ObservationKey(std::string_view source_id, uint64_t source_sequence);

// SHA-256 of an envelope's content: the envelope with the fields the log
// assigns (sequence, prev_hash, hash, recorded_time, event_id) and the actor
// cleared, serialized deterministically. Recomputable from any stored event.
std::string ContentDigest(const Envelope& envelope);
// The same digest from an envelope's serialized bytes (the record body
// PrepareAppend writes), hashing every field but the excluded ones: equal
// to ContentDigest of the parsed envelope, since serialization writes fields
// in number order (the Envelope has no maps). nullopt for bytes it does not
// walk (malformed, or an unknown group field); use ContentDigest then.
std::optional<std::string> ContentDigestOfSerialized(std::string_view bytes);

struct PreparedEvent {
  // kRecordHeadroom bytes of room, then the Envelope serialized without
  // fields 1, 2 and 17; the committer frames the record in place.
  std::string buf;
  std::string event_id;
  std::string dedup_key;   // observation key, or empty
  std::string digest;      // content digest when keyed
};

struct PreparedAppend {
  StreamId stream;
  int64_t expected_sequence = kAnySequence;
  std::string request_key;     // empty if no request id
  std::string request_digest;  // digest over all events' digests
  std::vector<PreparedEvent> events;
  size_t bytes = 0;
};

absl::StatusOr<PreparedAppend> PrepareAppend(AppendRequest request, absl::Time now);

// The lookups PlanAppend needs, backed by the backend's storage.
class StateSource {
 public:
  virtual ~StateSource() = default;
  virtual StreamState LoadStream(const StreamId& stream) = 0;
  virtual std::optional<DedupEntry> LoadDedup(const StreamId& stream, const std::string& key) = 0;
};

struct PlannedRecord {
  const StreamId* stream = nullptr;  // owned by the WriteGroup
  uint64_t sequence = 0;
  std::string_view record;  // framed (record.h), inside the PreparedAppend
};

struct PlannedCheckpoint {
  StreamId stream;
  v1::Checkpoint checkpoint;
};

// takt::eventlog::WriteGroup
//
// One group commit: the plans of several requests against one view of
// stream state. Not thread-safe (the committer thread owns it).
class WriteGroup {
 public:
  explicit WriteGroup(StateSource* source) : source_(source) {}

  // Plans one request. On error nothing of it is in the group. The planned
  // records point into `prepared`, which must outlive the group's write.
  absl::StatusOr<AppendResult> Plan(PreparedAppend& prepared);

  // Adds a signed checkpoint for every stream of this group whose head is
  // `interval` or more events past its last checkpoint (all moved streams if
  // interval is 0).
  void AddDueCheckpoints(const crypto::SigningKey& key, uint64_t interval, absl::Time now);

  // Brings a stream that no request of this group touched into the group, so
  // that AddDueCheckpoints() considers it.
  void LoadForCheckpoint(const StreamId& id, const StreamState& state) {
    streams_.emplace(id, state);
  }

  const std::vector<PlannedRecord>& records() const { return records_; }
  const std::vector<PlannedCheckpoint>& checkpoints() const { return checkpoints_; }
  const std::map<StreamId, StreamState>& streams() const { return streams_; }
  // The dedup entries this group adds, per stream (keys in no order).
  using DedupEntries = absl::flat_hash_map<std::string, DedupEntry>;
  const std::map<StreamId, DedupEntries>& dedup() const { return dedup_; }
  std::map<StreamId, DedupEntries> TakeDedup() { return std::move(dedup_); }
  bool empty() const { return records_.empty() && checkpoints_.empty(); }

 private:
  std::map<StreamId, StreamState>::iterator Stream(const StreamId& id);
  std::optional<DedupEntry> Dedup(const StreamId& id, const DedupEntries& added, const std::string& key);

  StateSource* source_;
  std::map<StreamId, StreamState> streams_;
  std::map<StreamId, DedupEntries> dedup_;
  std::vector<PlannedRecord> records_;
  std::vector<PlannedCheckpoint> checkpoints_;
};

// Signs a checkpoint of (stream, sequence, hash).
v1::Checkpoint SignCheckpoint(const StreamId& stream, uint64_t sequence, const std::string& hash,
                              const crypto::SigningKey& key, absl::Time now);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_SEQUENCER_H_
