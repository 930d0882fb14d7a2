#include "libs/eventlog/record.h"

#include "absl/strings/str_cat.h"
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

absl::StatusOr<v1::Envelope> DecodeRecord(std::string_view record) {
  std::string_view hash;
  std::string_view body;
  if (!SplitRecord(record, &hash, &body)) {
    return absl::DataLossError("stored record has a malformed frame");
  }
  v1::Envelope envelope;
  if (!envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("stored envelope does not decode");
  }
  envelope.set_hash(std::string(hash));
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

std::string CheckpointSigningBytes(const v1::Checkpoint& c) {
  return absl::StrCat("takt-checkpoint-v1\n", c.context(), "\n", c.facility(), "\n", c.sequence(),
                      "\n", HexEncode(c.hash()), "\n", c.signed_time().seconds(), ".",
                      c.signed_time().nanos(), "\n", c.key_id());
}

}  // namespace takt::eventlog
