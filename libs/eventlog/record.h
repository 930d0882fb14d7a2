// File: record.h
// -----------------------------------------------------------------------------
// The stored form of an event, shared by both backends:
//
//   record = 0x01 | hash (32 bytes) | body
//   body   = Envelope serialized with `hash` empty; fields 1 (sequence) and 2
//            (prev_hash) first, then the rest in field order
//   hash   = SHA-256(prev_hash || body)
//
// Verification needs only the frame, the sequence and the prev_hash, which
// ScanBody() reads without decoding the whole envelope.
#ifndef TAKT_LIBS_EVENTLOG_RECORD_H_
#define TAKT_LIBS_EVENTLOG_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "takt/eventlog/v1/envelope.pb.h"

namespace takt::eventlog {

inline constexpr char kRecordFormatV1 = 0x01;
// Kafka partitions carry checkpoints beside events: 0x02 | Checkpoint bytes.
inline constexpr char kCheckpointFormatV1 = 0x02;
inline constexpr size_t kHashSize = 32;
inline constexpr size_t kRecordHeaderSize = 1 + kHashSize;

// The all-zero prev_hash of a stream's first event.
const std::string& ZeroHash();

// Builds a body from the sequence, prev_hash and the serialized remaining
// fields (`rest`: an Envelope with fields 1, 2 and 17 empty).
std::string BuildBody(uint64_t sequence, std::string_view prev_hash, std::string_view rest);

// The room a prepared event keeps in front of its serialized rest, so that
// FrameInPlace() can write the frame and the chain fields without copying.
inline constexpr size_t kRecordHeadroom = 1 + kHashSize + 1 + 10 + 1 + 1 + kHashSize;

// `buf` holds the rest at offset kRecordHeadroom. Writes body prefix, hash
// and frame in front of it and returns the record (a view into `buf`); the
// hash goes to `hash` (32 bytes). Same bytes as FrameRecord(BuildBody(...)).
std::string_view FrameInPlace(std::string& buf, uint64_t sequence, std::string_view prev_hash,
                              std::string& hash);

// A message's bytes with map entries in key order: the same content gives
// the same bytes (for digests of content).
std::string SerializeDeterministic(const google::protobuf::Message& m);

// Frames a body with its hash into a stored record.
std::string FrameRecord(std::string_view hash, std::string_view body);

// Splits a stored record. False if the frame is malformed.
bool SplitRecord(std::string_view record, std::string_view* hash, std::string_view* body);

// Reads sequence and prev_hash from the start of a body. False if the body
// does not start with them (then it is not a valid stored body).
bool ScanBody(std::string_view body, uint64_t* sequence, std::string_view* prev_hash);

// Decodes a stored record into an envelope with `hash` filled in.
absl::StatusOr<v1::Envelope> DecodeRecord(std::string_view record);
// The same into `envelope`, replacing its content and reusing its strings'
// buffers (readers that decode many records into recycled envelopes).
absl::Status DecodeRecordInto(std::string_view record, v1::Envelope* envelope);

// The stored record of a decoded envelope (the inverse of DecodeRecord):
// what exports carry so that chains can be verified away from the log.
std::string EncodeRecord(const v1::Envelope& envelope);

// Checkpoint records (Kafka backend).
std::string FrameCheckpoint(const v1::Checkpoint& checkpoint);
inline bool IsCheckpointRecord(std::string_view record) {
  return !record.empty() && record[0] == kCheckpointFormatV1;
}
bool ParseCheckpointRecord(std::string_view record, v1::Checkpoint* checkpoint);

// A chunk: consecutive records of one stream stored as one value (the
// embedded log keeps one RocksDB entry per chunk, keyed by its first
// sequence, the way Kafka keeps record batches):
//   chunk = 0x03 | varint count | (varint length | record) * count
inline constexpr char kChunkFormatV1 = 0x03;

// Appends records to a chunk under construction.
class ChunkBuilder {
 public:
  void Reset();
  void Add(std::string_view record);
  // The chunk bytes (valid until the next Reset/Add).
  std::string_view Finish();
  size_t count() const { return count_; }
  size_t bytes() const { return body_.size(); }  // approximate

 private:
  std::string body_;  // header room, then the records
  size_t count_ = 0;
};

// Iterates the records of a chunk.
class ChunkReader {
 public:
  // False if `chunk` does not start with a chunk header.
  bool Open(std::string_view chunk);
  uint64_t count() const { return count_; }
  // Next record; false at the end or if the chunk is malformed (then
  // malformed() is true).
  bool Next(std::string_view* record);
  bool malformed() const { return malformed_; }

 private:
  std::string_view rest_;
  uint64_t count_ = 0;
  uint64_t read_ = 0;
  bool malformed_ = false;
};

// The bytes a checkpoint signature covers.
std::string CheckpointSigningBytes(const v1::Checkpoint& checkpoint);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_RECORD_H_
