#include "libs/eventlog/verifier.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "libs/common/ids.h"
#include "libs/common/proto_time.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/record.h"

namespace takt::eventlog {

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kAltered: return "altered";
    case FailureKind::kMissing: return "missing";
    case FailureKind::kReordered: return "reordered";
    case FailureKind::kTruncated: return "truncated";
    case FailureKind::kBadSignature: return "bad_signature";
    case FailureKind::kRolledBack: return "rolled_back";
    case FailureKind::kForked: return "forked";
  }
  return "unknown";
}

ChainChecker::ChainChecker(uint64_t first_sequence, std::string expected_prev_hash,
                           const std::set<uint64_t>* wanted)
    : first_sequence_(first_sequence),
      next_(first_sequence),
      last_hash_(std::move(expected_prev_hash)),
      wanted_(wanted) {}

void ChainChecker::Fail(uint64_t sequence, FailureKind kind, std::string detail) {
  failure_ = VerifyFailure{"", "", sequence, kind, std::move(detail)};
}

std::optional<VerifyFailure> ChainChecker::failure() const {
  if (failure_ || !suspect_) return failure_;
  const Suspect& s = *suspect_;
  if (s.body > s.at) {
    return VerifyFailure{"", "", s.at, FailureKind::kMissing,
                         absl::StrCat("sequences ", s.at, "..", s.body - 1,
                                      " are absent; the stream continues with ", s.body)};
  }
  return VerifyFailure{"", "", s.at, FailureKind::kReordered,
                       absl::StrCat("the event stored at sequence ", s.at, " is sequence ",
                                    s.body)};
}

bool ChainChecker::Add(uint64_t stored_sequence, std::string_view record) {
  if (failure_) return false;
  if (first_sequence_ == 0) first_sequence_ = next_ = stored_sequence;
  if (suspect_) {
    // One record of lookahead decides between "missing" and "moved".
    std::string_view h, b, p;
    uint64_t seq = 0;
    const Suspect s = *suspect_;
    suspect_.reset();
    if (s.body > s.at && SplitRecord(record, &h, &b) && ScanBody(b, &seq, &p) &&
        seq == s.body + 1) {
      Fail(s.at, FailureKind::kMissing,
           absl::StrCat("sequences ", s.at, "..", s.body - 1,
                        " are absent; the stream continues with ", s.body));
    } else {
      Fail(s.at, FailureKind::kReordered,
           absl::StrCat("the event stored at sequence ", s.at, " is sequence ", s.body));
    }
    return false;
  }
  if (stored_sequence > next_) {
    Fail(next_, FailureKind::kMissing,
         absl::StrCat("sequence ", next_, " is absent; the next stored event is ",
                      stored_sequence));
    return false;
  }
  if (stored_sequence < next_) {
    Fail(stored_sequence, FailureKind::kReordered,
         absl::StrCat("event filed as sequence ", stored_sequence, " appears after ", next_ - 1));
    return false;
  }
  std::string_view hash;
  std::string_view body;
  uint64_t body_sequence = 0;
  std::string_view prev_hash;
  if (!SplitRecord(record, &hash, &body) || !ScanBody(body, &body_sequence, &prev_hash)) {
    Fail(stored_sequence, FailureKind::kAltered, "stored record is malformed");
    return false;
  }
  // The hash first: it covers the body whatever sequence it claims, so a
  // damaged record is "altered" before it can pass for a moved one.
  unsigned char computed[crypto::kSha256Size];
  crypto::Sha256::ThreadLocal().Chain(prev_hash, body, computed);
  if (std::string_view(reinterpret_cast<const char*>(computed), kHashSize) != hash) {
    Fail(stored_sequence, FailureKind::kAltered, "stored bytes do not match their hash");
    return false;
  }
  if (body_sequence != stored_sequence) {
    // An intact event filed under another sequence: the next record tells
    // "missing" from "moved" (failure() already reports it).
    suspect_ = Suspect{stored_sequence, body_sequence};
    return true;
  }
  if (events_ == 0 && first_prev_hash_.empty()) first_prev_hash_ = std::string(prev_hash);
  if (!last_hash_.empty() && prev_hash != last_hash_) {
    Fail(stored_sequence > 1 ? stored_sequence - 1 : 1, FailureKind::kAltered,
         absl::StrCat("chain broken: sequence ", stored_sequence,
                      " continues from a different hash than sequence ", stored_sequence - 1,
                      " has"));
    return false;
  }
  last_hash_.assign(hash.data(), hash.size());
  if (wanted_ != nullptr && wanted_->count(stored_sequence)) {
    hashes_[stored_sequence] = last_hash_;
  }
  ++events_;
  ++next_;
  return true;
}

std::set<uint64_t> CheckpointSequences(const std::vector<v1::Checkpoint>& checkpoints) {
  std::set<uint64_t> out;
  for (const auto& c : checkpoints) out.insert(c.sequence());
  return out;
}

std::optional<VerifyFailure> FinishStream(const StreamId& stream,
                                          const std::vector<ChainChecker>& runs,
                                          const std::vector<v1::Checkpoint>& checkpoints,
                                          const crypto::KeyRing& keys, uint64_t recorded_head,
                                          uint64_t* checkpoints_checked) {
  std::vector<VerifyFailure> failures;
  uint64_t last = 0;  // last good sequence of the contiguous verified prefix
  std::map<uint64_t, std::string> hashes;
  bool chain_failed = false;
  const ChainChecker* prev = nullptr;  // the last run that had events
  for (size_t i = 0; i < runs.size() && !chain_failed; ++i) {
    const ChainChecker& run = runs[i];
    if (run.events() == 0 && !run.failure()) continue;
    if (prev != nullptr && run.events() > 0) {
      if (run.first_sequence() != prev->next_sequence()) {
        failures.push_back(VerifyFailure{
            "", "", prev->next_sequence(), FailureKind::kMissing,
            absl::StrCat("sequence ", prev->next_sequence(), " is absent; the next stored event is ",
                         run.first_sequence())});
        chain_failed = true;
        break;
      }
      if (run.first_prev_hash() != prev->last_hash()) {
        failures.push_back(VerifyFailure{
            "", "", run.first_sequence() - 1, FailureKind::kAltered,
            absl::StrCat("chain broken: sequence ", run.first_sequence(),
                         " continues from a different hash than sequence ",
                         run.first_sequence() - 1, " has")});
        chain_failed = true;
        break;
      }
    }
    hashes.insert(run.hashes().begin(), run.hashes().end());
    if (auto f = run.failure()) {
      failures.push_back(*f);
      chain_failed = true;
      last = f->sequence > 0 ? f->sequence - 1 : 0;
      break;
    }
    last = run.next_sequence() - 1;
    prev = &run;
  }

  for (const v1::Checkpoint& c : checkpoints) {
    ++*checkpoints_checked;
    absl::Status signed_ok = keys.Verify(c.key_id(), ToTime(c.signed_time()),
                                         CheckpointSigningBytes(c), c.signature());
    if (!signed_ok.ok()) {
      failures.push_back(VerifyFailure{"", "", c.sequence(), FailureKind::kBadSignature,
                                       absl::StrCat("checkpoint at sequence ", c.sequence(),
                                                    ": ", signed_ok.message())});
      continue;
    }
    if (c.sequence() > last && !chain_failed) {
      failures.push_back(VerifyFailure{
          "", "", last + 1, FailureKind::kTruncated,
          absl::StrCat("a signed checkpoint names head ", c.sequence(), " but the stream ends at ",
                       last)});
      continue;
    }
    auto it = hashes.find(c.sequence());
    if (it != hashes.end() && it->second != c.hash()) {
      failures.push_back(VerifyFailure{
          "", "", c.sequence(), FailureKind::kAltered,
          absl::StrCat("hash at sequence ", c.sequence(),
                       " differs from the signed checkpoint: the chain was rewritten")});
    }
  }
  if (!chain_failed && recorded_head > last) {
    failures.push_back(VerifyFailure{
        "", "", last + 1, FailureKind::kTruncated,
        absl::StrCat("the log recorded head ", recorded_head, " but the stream ends at ", last)});
  }
  if (failures.empty()) return std::nullopt;
  auto first = std::min_element(failures.begin(), failures.end(),
                                [](const VerifyFailure& a, const VerifyFailure& b) {
                                  return a.sequence < b.sequence;
                                });
  VerifyFailure f = *first;
  f.context = stream.context;
  f.facility = stream.facility;
  return f;
}

void StreamChains::Seed(const StreamId& stream, uint64_t next_sequence, std::string prev_hash) {
  chains_.erase(stream);
  chains_.emplace(stream, ChainChecker(next_sequence, std::move(prev_hash), nullptr));
}

absl::Status StreamChains::Check(const StreamId& stream, uint64_t sequence,
                                 std::string_view record) {
  auto it = chains_.find(stream);
  if (it == chains_.end()) {
    it = chains_.emplace(stream, ChainChecker(sequence, sequence == 1 ? ZeroHash() : std::string(),
                                              nullptr)).first;
  }
  ChainChecker& chain = it->second;
  const bool sound = chain.Add(sequence, record);
  std::optional<VerifyFailure> f = chain.failure();
  // A moved event is judged with one record of lookahead; a reader cannot
  // wait for it: an event that is not the one expected is a failure now.
  if (sound && !f && chain.next_sequence() == sequence + 1) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      stream.context, "/", stream.facility, " sequence ", f ? f->sequence : sequence, ": ",
      FailureKindName(f ? f->kind : FailureKind::kReordered), ": ",
      f ? f->detail : "the event stored here is another one",
      "; nothing after it is applied; run takt log verify"));
}

std::string VerifyReport::ToText() const {
  std::string out = absl::StrCat(ok() ? "OK" : "FAILED", ": ", streams_checked, " streams, ",
                                 events_checked, " events, ", checkpoints_checked,
                                 " signed checkpoints checked\n");
  for (const auto& f : failures) {
    absl::StrAppend(&out, "  ", f.context, "/", f.facility, " sequence ", f.sequence, ": ",
                    FailureKindName(f.kind), ": ", f.detail, "\n");
  }
  for (const auto& h : heads) {
    absl::StrAppend(&out, "  head ", h.context, "/", h.facility, " sequence ", h.sequence,
                    " hash ", HexEncode(h.hash), "\n");
  }
  return out;
}

std::string VerifyReport::ToJson() const {
  nlohmann::json failures_json = nlohmann::json::array();
  for (const auto& f : failures) {
    failures_json.push_back({{"context", f.context},
                             {"facility", f.facility},
                             {"sequence", f.sequence},
                             {"kind", FailureKindName(f.kind)},
                             {"detail", f.detail}});
  }
  nlohmann::json heads_json = nlohmann::json::array();
  for (const auto& h : heads) {
    heads_json.push_back({{"context", h.context},
                          {"facility", h.facility},
                          {"sequence", h.sequence},
                          {"hash", HexEncode(h.hash)}});
  }
  nlohmann::json j = {{"ok", ok()},
                      {"streams_checked", streams_checked},
                      {"events_checked", events_checked},
                      {"checkpoints_checked", checkpoints_checked},
                      {"failures", failures_json},
                      {"heads", heads_json}};
  // Replaces bytes that are not UTF-8 (ids are checked, details may quote).
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HeadsToJsonLines(const std::vector<VerifiedHead>& heads) {
  std::string out;
  for (const VerifiedHead& h : heads) {
    nlohmann::json j = {{"context", h.context},
                        {"facility", h.facility},
                        {"sequence", h.sequence},
                        {"hash", HexEncode(h.hash)}};
    absl::StrAppend(&out, j.dump(), "\n");
  }
  return out;
}

bool ParseHeadsJsonLines(std::string_view text, std::vector<VerifiedHead>* heads,
                         std::string* error) {
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end(), nullptr,
                                             /*allow_exceptions=*/false);
    VerifiedHead h;
    if (j.is_discarded() || !j.is_object() || !j["context"].is_string() ||
        !j["facility"].is_string() || !j["sequence"].is_number_unsigned() ||
        !j["hash"].is_string() || !HexDecode(j["hash"].get<std::string>(), &h.hash) ||
        h.hash.size() != 32) {
      *error = absl::StrCat("line ", line_no,
                            ": expected {\"context\", \"facility\", \"sequence\", \"hash\" "
                            "(64 hex digits)}");
      return false;
    }
    h.context = j["context"].get<std::string>();
    h.facility = j["facility"].get<std::string>();
    h.sequence = j["sequence"].get<uint64_t>();
    heads->push_back(std::move(h));
  }
  return true;
}

absl::Status ReadVerified(EventLog& log, const StreamId& stream, uint64_t upto,
                          const std::function<void(const v1::Envelope&)>& fn) {
  StreamChains chains;
  for (uint64_t from = 1; from <= upto;) {
    absl::Status bad;
    const uint64_t before = from;
    TAKT_RETURN_IF_ERROR(log.ReadRecords(stream, from, std::min<uint64_t>(8192, upto - from + 1),
                                         [&](uint64_t seq, std::string_view record) {
      if (!bad.ok()) return;
      bad = chains.Check(stream, seq, record);
      if (!bad.ok()) return;
      auto envelope = DecodeRecord(record);
      if (!envelope.ok()) {
        bad = absl::DataLossError(absl::StrCat(stream.context, "/", stream.facility, " sequence ",
                                               seq, ": the event does not decode"));
        return;
      }
      fn(*envelope);
      from = seq + 1;
    }));
    TAKT_RETURN_IF_ERROR(bad);
    if (from == before) {
      return absl::DataLossError(absl::StrCat("stream ", stream.context, "/", stream.facility,
                                              " ends before sequence ", upto));
    }
  }
  return absl::OkStatus();
}


}  // namespace takt::eventlog
