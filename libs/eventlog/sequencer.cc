#include "libs/common/errors.h"
#include "libs/eventlog/sequencer.h"

#include <cstring>
#include <optional>
#include <span>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/record.h"

namespace takt::eventlog {
namespace {

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

absl::Status EventError(size_t index, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("events[", index, "]: ", std::string(what)));
}

}  // namespace

std::string EncodeDedupEntry(const DedupEntry& e) {
  std::string out;
  out.reserve(8 + 4 + 8 + e.digest.size());
  PutFixed64(&out, e.first_sequence);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(e.count >> (8 * i)));
  PutFixed64(&out, e.first_offset);
  out.append(e.digest);
  return out;
}

bool DecodeDedupEntry(std::string_view v, DedupEntry* e) {
  if (v.size() != 8 + 4 + 8 + kHashSize) return false;
  e->first_sequence = GetFixed64(v.data());
  e->count = 0;
  for (int i = 0; i < 4; ++i) {
    e->count |= static_cast<uint32_t>(static_cast<unsigned char>(v[8 + i])) << (8 * i);
  }
  e->first_offset = GetFixed64(v.data() + 12);
  e->digest = std::string(v.substr(20));
  return true;
}

std::string RequestKey(std::string_view request_id) { return absl::StrCat("r:", std::string(request_id)); }

std::string ObservationKey(std::string_view source_id, uint64_t source_sequence) {
  return absl::StrCat("o:", std::string(source_id), ":", source_sequence);
}

std::string ContentDigest(const Envelope& envelope) {
  Envelope content = envelope;
  content.clear_sequence();
  content.clear_prev_hash();
  content.clear_hash();
  content.clear_recorded_time();
  content.clear_event_id();
  // Who relayed it is not part of what happened: a gateway's resend over a
  // new connection (or through another relay) is the same observation.
  content.clear_actor();
  return crypto::Sha256::ThreadLocal().Digest(SerializeDeterministic(content));
}

namespace {

// Reads a varint at `*pos` of `b`; false past the end or over 10 bytes.
bool ReadVarint(std::string_view b, size_t* pos, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *pos < b.size(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(b[(*pos)++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

// The Envelope fields ContentDigest clears.
bool ExcludedFromContent(uint64_t field) {
  return field == Envelope::kSequenceFieldNumber || field == Envelope::kPrevHashFieldNumber ||
         field == Envelope::kEventIdFieldNumber || field == Envelope::kRecordedTimeFieldNumber ||
         field == Envelope::kActorFieldNumber || field == Envelope::kHashFieldNumber;
}

}  // namespace

std::optional<std::string> ContentDigestOfSerialized(std::string_view bytes) {
  // Runs of included fields, as views of `bytes` (at most one per excluded
  // field plus one).
  std::string_view parts[8];
  size_t n = 0;
  size_t run_start = 0;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t field_start = pos;
    uint64_t tag = 0;
    if (!ReadVarint(bytes, &pos, &tag)) return std::nullopt;
    switch (tag & 7) {
      case 0: {
        uint64_t ignored = 0;
        if (!ReadVarint(bytes, &pos, &ignored)) return std::nullopt;
        break;
      }
      case 1: pos += 8; break;
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(bytes, &pos, &len) || len > bytes.size() - pos) return std::nullopt;
        pos += len;
        break;
      }
      case 5: pos += 4; break;
      default: return std::nullopt;  // groups: not in a proto3 envelope
    }
    if (pos > bytes.size()) return std::nullopt;
    if (ExcludedFromContent(tag >> 3)) {
      if (field_start > run_start) {
        if (n == std::size(parts)) return std::nullopt;
        parts[n++] = bytes.substr(run_start, field_start - run_start);
      }
      run_start = pos;
    }
  }
  if (bytes.size() > run_start) {
    if (n == std::size(parts)) return std::nullopt;
    parts[n++] = bytes.substr(run_start);
  }
  return crypto::Sha256::ThreadLocal().DigestOfParts(std::span<const std::string_view>(parts, n));
}

absl::StatusOr<PreparedAppend> PrepareAppend(AppendRequest request, absl::Time now) {
  TAKT_RETURN_IF_ERROR(ValidateContextName(request.context));
  TAKT_RETURN_IF_ERROR(ValidateFacilityId(request.facility));
  if (request.events.empty()) {
    return absl::InvalidArgumentError("events: an append needs at least one event");
  }
  if (request.events.size() > kMaxEventsPerAppend) {
    return absl::InvalidArgumentError(absl::StrCat("events: ", request.events.size(),
                                                   " events in one append; the limit is ",
                                                   kMaxEventsPerAppend));
  }
  if (request.expected_sequence < kAnySequence) {
    return absl::InvalidArgumentError("expected_sequence: must be -1 (any) or >= 0");
  }
  PreparedAppend out;
  out.stream = StreamId{request.context, request.facility};
  out.expected_sequence = request.expected_sequence;
  out.events.reserve(request.events.size());

  std::string request_id;
  const google::protobuf::Timestamp recorded = ToProto(now);
  std::string request_digest_input;

  for (size_t i = 0; i < request.events.size(); ++i) {
    Envelope& e = request.events[i];
    if (e.event_type().empty()) return EventError(i, "event_type must not be empty");
    if (e.payload().size() > kMaxEventBytes) {
      return EventError(i, absl::StrCat("payload of ", e.payload().size(),
                                        " bytes exceeds the limit of ", kMaxEventBytes));
    }
    if (!e.context().empty() && e.context() != request.context) {
      return EventError(i, "context differs from the request's");
    }
    if (!e.facility().empty() && e.facility() != request.facility) {
      return EventError(i, "facility differs from the request's");
    }
    if (!e.source_id().empty()) {
      if (absl::Status id = ValidateId("source_id", e.source_id()); !id.ok()) {
        return EventError(i, std::string(id.message()));
      }
    }
    if (!e.request_id().empty()) {
      if (absl::Status id = ValidateId("request_id", e.request_id(), kMaxRequestIdLength); !id.ok()) {
        return EventError(i, std::string(id.message()));
      }
      if (request_id.empty() && i == 0) request_id = e.request_id();
      if (e.request_id() != request_id) {
        return EventError(i, "all events of an append must carry the same request_id");
      }
    } else if (!request_id.empty()) {
      return EventError(i, "all events of an append must carry the same request_id");
    }
    e.set_context(request.context);
    e.set_facility(request.facility);

    PreparedEvent pe;
    const bool keyed = !e.request_id().empty() || !e.source_id().empty();
    if (!e.source_id().empty() && e.request_id().empty()) {
      pe.dedup_key = ObservationKey(e.source_id(), e.source_sequence());
    }

    if (e.event_id().empty()) e.set_event_id(NewUuid());
    *e.mutable_recorded_time() = recorded;
    e.clear_sequence();
    e.clear_prev_hash();
    e.clear_hash();
    pe.event_id = e.event_id();
    const size_t size = e.ByteSizeLong();
    if (size > kMaxEventBytes + 4096) {
      return EventError(i, "event exceeds the size limit");
    }
    pe.buf.resize(kRecordHeadroom + size);
    e.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(pe.buf.data() + kRecordHeadroom));
    if (keyed) {
      // From the bytes just written: the envelope is serialized once.
      std::optional<std::string> digest =
          ContentDigestOfSerialized(std::string_view(pe.buf).substr(kRecordHeadroom));
      pe.digest = digest.has_value() ? *std::move(digest) : ContentDigest(e);
    }
    if (!request_id.empty()) request_digest_input.append(pe.digest);
    out.bytes += size;
    out.events.push_back(std::move(pe));
  }
  if (out.bytes > kMaxAppendBytes) {
    return absl::InvalidArgumentError(absl::StrCat("events: ", out.bytes,
                                                   " bytes in one append; the limit is ",
                                                   kMaxAppendBytes));
  }
  if (!request_id.empty()) {
    out.request_key = RequestKey(request_id);
    out.request_digest = crypto::Sha256::ThreadLocal().Digest(request_digest_input);
  }
  return out;
}

std::map<StreamId, StreamState>::iterator WriteGroup::Stream(const StreamId& id) {
  auto it = streams_.find(id);
  if (it == streams_.end()) {
    it = streams_.emplace(id, source_->LoadStream(id)).first;
  }
  return it;
}

std::optional<DedupEntry> WriteGroup::Dedup(const StreamId& id, const DedupEntries& added,
                                            const std::string& key) {
  auto it = added.find(key);
  if (it != added.end()) return it->second;
  return source_->LoadDedup(id, key);
}

absl::StatusOr<AppendResult> WriteGroup::Plan(PreparedAppend& p) {
  auto stream_it = Stream(p.stream);
  const StreamId* stream_id = &stream_it->first;
  StreamState& state = stream_it->second;
  AppendResult result;
  result.events.resize(p.events.size());
  auto position = [&](uint64_t seq) { return Position{p.stream.facility, seq}; };
  DedupEntries& added = dedup_[p.stream];  // this group's entries of the stream

  // A resent request: acknowledge with the original positions.
  if (!p.request_key.empty()) {
    if (auto prior = Dedup(p.stream, added, p.request_key)) {
      if (prior->digest != p.request_digest || prior->count != p.events.size()) {
        return WithReason(absl::AlreadyExistsError(absl::StrCat(
                              "request_id '", p.request_key.substr(2),
                              "' was already used for a different request on stream ", p.stream.context, "/",
                              p.stream.facility, " (sequences ", prior->first_sequence, "..",
                              prior->first_sequence + prior->count - 1, ")")),
                          "REQUEST_ID_REUSED");
      }
      for (size_t i = 0; i < p.events.size(); ++i) {
        result.events[i].sequence = prior->first_sequence + i;
        result.events[i].position = Position{p.stream.facility, prior->first_offset + i};
        result.events[i].duplicate = true;
      }
      result.head_sequence = state.head;
      return result;
    }
  }

  // Observations already in the log (or earlier in this request).
  absl::flat_hash_map<std::string_view, size_t> seen_in_request;  // views of dedup keys in `p`
  bool repeated_in_request = false;
  size_t fresh = 0;
  for (size_t i = 0; i < p.events.size(); ++i) {
    const PreparedEvent& e = p.events[i];
    if (e.dedup_key.empty()) {
      ++fresh;
      continue;
    }
    if (auto prior = Dedup(p.stream, added, e.dedup_key)) {
      if (prior->digest != e.digest) {
        return WithReason(absl::AlreadyExistsError(absl::StrCat(
                              "events[", i, "]: source sequence ", e.dedup_key.substr(2),
                              " was already recorded with different content (sequence ",
                              prior->first_sequence, ")")),
                          "SOURCE_SEQUENCE_CONFLICT");
      }
      result.events[i].sequence = prior->first_sequence;
      result.events[i].position = Position{p.stream.facility, prior->first_offset};
      result.events[i].duplicate = true;
      continue;
    }
    auto [it, inserted] = seen_in_request.emplace(e.dedup_key, i);
    if (!inserted) {
      if (p.events[it->second].digest != e.digest) {
        return WithReason(absl::AlreadyExistsError(absl::StrCat("events[", i, "]: source sequence ",
                                                                e.dedup_key.substr(2),
                                                                " appears twice with different content")),
                          "SOURCE_SEQUENCE_CONFLICT");
      }
      result.events[i].duplicate = true;  // sequence filled below
      repeated_in_request = true;
      continue;
    }
    ++fresh;
  }

  if (fresh > 0 && p.expected_sequence != kAnySequence &&
      static_cast<uint64_t>(p.expected_sequence) != state.head) {
    return WithReason(absl::FailedPreconditionError(absl::StrCat(
                          "expected sequence ", p.expected_sequence, " but stream ", p.stream.context, "/",
                          p.stream.facility, " is at ", state.head)),
                      "STREAM_VERSION_MISMATCH");
  }

  // Assign sequences and chain.
  StreamState next = state;
  if (next.head_hash.empty()) next.head_hash = ZeroHash();
  const size_t first_record = records_.size();
  std::string hash;
  for (size_t i = 0; i < p.events.size(); ++i) {
    PreparedEvent& e = p.events[i];
    if (result.events[i].duplicate) continue;
    const uint64_t seq = next.head + 1;
    records_.push_back(
        PlannedRecord{stream_id, seq, FrameInPlace(e.buf, seq, next.head_hash, hash)});
    next.head = seq;
    next.head_hash.swap(hash);
    result.events[i].sequence = seq;
    result.events[i].position = position(seq);
    result.events[i].event_id = e.event_id;
    if (!e.dedup_key.empty()) added[e.dedup_key] = DedupEntry{seq, 1, seq, e.digest};
  }
  // A key repeated in the request takes the sequence of its first event.
  for (size_t i = 0; repeated_in_request && i < p.events.size(); ++i) {
    if (result.events[i].duplicate && result.events[i].sequence == 0) {
      const uint64_t seq = added.at(p.events[i].dedup_key).first_sequence;
      result.events[i].sequence = seq;
      result.events[i].position = position(seq);
    }
  }
  if (!p.request_key.empty() && records_.size() > first_record) {
    uint64_t first = records_[first_record].sequence;
    added[p.request_key] = DedupEntry{first, static_cast<uint32_t>(p.events.size()), first, p.request_digest};
  }
  state = std::move(next);
  result.head_sequence = state.head;
  return result;
}

v1::Checkpoint SignCheckpoint(const StreamId& stream, uint64_t sequence, const std::string& hash,
                              const crypto::SigningKey& key, absl::Time now) {
  v1::Checkpoint c;
  c.set_context(stream.context);
  c.set_facility(stream.facility);
  c.set_sequence(sequence);
  c.set_hash(hash);
  *c.mutable_signed_time() = ToProto(now);
  c.set_key_id(key.key_id());
  c.set_signature(key.Sign(CheckpointSigningBytes(c)));
  return c;
}

void WriteGroup::AddDueCheckpoints(const crypto::SigningKey& key, uint64_t interval,
                                   absl::Time now) {
  for (auto& [id, state] : streams_) {
    if (state.head == state.checkpointed) continue;
    if (interval != 0 && state.head - state.checkpointed < interval) continue;
    checkpoints_.push_back(
        PlannedCheckpoint{id, SignCheckpoint(id, state.head, state.head_hash, key, now)});
    state.checkpointed = state.head;
  }
}

}  // namespace takt::eventlog
