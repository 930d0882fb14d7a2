#include "libs/eventlog/record.h"

#include "libs/common/status_macros.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "libs/crypto/sha256.h"
#include "libs/common/ids.h"

namespace takt::eventlog {
namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    auto byte = static_cast<unsigned char>((*in)[0]);
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

const std::string& ZeroHash() {
  static const std::string* zero = new std::string(kHashSize, '\0');
  return *zero;
}

std::string BuildBody(uint64_t sequence, std::string_view prev_hash, std::string_view rest) {
  std::string body;
  body.reserve(2 + 10 + 2 + prev_hash.size() + rest.size());
  body.push_back(0x08);  // field 1, varint
  PutVarint(&body, sequence);
  body.push_back(0x12);  // field 2, length-delimited
  PutVarint(&body, prev_hash.size());
  body.append(prev_hash);
  body.append(rest);
  return body;
}

std::string_view FrameInPlace(std::string& buf, uint64_t sequence, std::string_view prev_hash,
                              std::string& hash) {
  char prefix[2 + 10 + 2];
  size_t n = 0;
  prefix[n++] = 0x08;
  uint64_t v = sequence;
  while (v >= 0x80) {
    prefix[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  prefix[n++] = static_cast<char>(v);
  prefix[n++] = 0x12;
  prefix[n++] = static_cast<char>(prev_hash.size());
  const size_t body_start = kRecordHeadroom - prev_hash.size() - n;
  std::memcpy(buf.data() + body_start, prefix, n);
  std::memcpy(buf.data() + body_start + n, prev_hash.data(), prev_hash.size());
  const size_t start = body_start - kRecordHeaderSize;
  hash.resize(kHashSize);
  crypto::Sha256::ThreadLocal().Chain(
      prev_hash, std::string_view(buf.data() + body_start, buf.size() - body_start),
      reinterpret_cast<unsigned char*>(hash.data()));
  buf[start] = kRecordFormatV1;
  std::memcpy(buf.data() + start + 1, hash.data(), kHashSize);
  return std::string_view(buf.data() + start, buf.size() - start);
}

std::string FrameRecord(std::string_view hash, std::string_view body) {
  std::string record;
  record.reserve(kRecordHeaderSize + body.size());
  record.push_back(kRecordFormatV1);
  record.append(hash);
  record.append(body);
  return record;
}

bool SplitRecord(std::string_view record, std::string_view* hash, std::string_view* body) {
  if (record.size() < kRecordHeaderSize || record[0] != kRecordFormatV1) return false;
  *hash = record.substr(1, kHashSize);
  *body = record.substr(kRecordHeaderSize);
  return true;
}

bool ScanBody(std::string_view body, uint64_t* sequence, std::string_view* prev_hash) {
  uint64_t tag = 0;
  uint64_t len = 0;
  if (!GetVarint(&body, &tag) || tag != 0x08 || !GetVarint(&body, sequence)) return false;
  if (!GetVarint(&body, &tag) || tag != 0x12 || !GetVarint(&body, &len) || len != kHashSize ||
      body.size() < len) {
    return false;
  }
  *prev_hash = body.substr(0, len);
  return true;
}

absl::Status DecodeRecordInto(std::string_view record, v1::Envelope* envelope) {
  std::string_view hash;
  std::string_view body;
  if (!SplitRecord(record, &hash, &body)) {
    return absl::DataLossError("stored record has a malformed frame");
  }
  if (!envelope->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("stored envelope does not decode");
  }
  envelope->mutable_hash()->assign(hash.data(), hash.size());
  return absl::OkStatus();
}

absl::StatusOr<v1::Envelope> DecodeRecord(std::string_view record) {
  v1::Envelope envelope;
  TAKT_RETURN_IF_ERROR(DecodeRecordInto(record, &envelope));
  return envelope;
}

std::string FrameCheckpoint(const v1::Checkpoint& checkpoint) {
  std::string out(1, kCheckpointFormatV1);
  checkpoint.AppendToString(&out);
  return out;
}

bool ParseCheckpointRecord(std::string_view record, v1::Checkpoint* checkpoint) {
  if (!IsCheckpointRecord(record)) return false;
  return checkpoint->ParseFromArray(record.data() + 1, static_cast<int>(record.size() - 1));
}

// Room for the header (1 + varint) in front of the records.
constexpr size_t kChunkHeaderRoom = 11;

void ChunkBuilder::Reset() {
  body_.assign(kChunkHeaderRoom, '\0');
  count_ = 0;
}

void ChunkBuilder::Add(std::string_view record) {
  if (body_.empty()) body_.assign(kChunkHeaderRoom, '\0');
  PutVarint(&body_, record.size());
  body_.append(record);
  ++count_;
}

std::string_view ChunkBuilder::Finish() {
  if (body_.empty()) body_.assign(kChunkHeaderRoom, '\0');
  std::string header(1, kChunkFormatV1);
  PutVarint(&header, count_);
  const size_t start = kChunkHeaderRoom - header.size();
  std::memcpy(body_.data() + start, header.data(), header.size());
  return std::string_view(body_).substr(start);
}

bool ChunkReader::Open(std::string_view chunk) {
  read_ = 0;
  malformed_ = false;
  if (chunk.empty() || chunk[0] != kChunkFormatV1) {
    malformed_ = true;
    return false;
  }
  rest_ = chunk.substr(1);
  if (!GetVarint(&rest_, &count_)) {
    malformed_ = true;
    return false;
  }
  return true;
}

bool ChunkReader::Next(std::string_view* record) {
  if (read_ == count_) {
    if (!rest_.empty()) malformed_ = true;
    return false;
  }
  uint64_t len = 0;
  if (!GetVarint(&rest_, &len) || len > rest_.size()) {
    malformed_ = true;
    return false;
  }
  *record = rest_.substr(0, len);
  rest_.remove_prefix(len);
  ++read_;
  return true;
}

std::string CheckpointSigningBytes(const v1::Checkpoint& c) {
  return absl::StrCat("takt-checkpoint-v1\n", c.context(), "\n", c.facility(), "\n", c.sequence(),
                      "\n", HexEncode(c.hash()), "\n", c.signed_time().seconds(), ".",
                      c.signed_time().nanos(), "\n", c.key_id());
}

std::string EncodeRecord(const v1::Envelope& envelope) {
  v1::Envelope rest = envelope;
  rest.clear_sequence();
  rest.clear_prev_hash();
  rest.clear_hash();
  return FrameRecord(envelope.hash(),
                     BuildBody(envelope.sequence(), envelope.prev_hash(), rest.SerializeAsString()));
}

std::string SerializeDeterministic(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream sos(&out);
  google::protobuf::io::CodedOutputStream cos(&sos);
  cos.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&cos);
  cos.Trim();
  return out;
}

}  // namespace takt::eventlog
