// File: verifier.h
// -----------------------------------------------------------------------------
// Backend-independent chain verification. A backend scans a stream's stored
// records (in one run, or in several ranges on several threads) through
// ChainCheckers, then FinishStream() stitches the runs together and checks
// the stream's signed checkpoints.
#ifndef TAKT_LIBS_EVENTLOG_VERIFIER_H_
#define TAKT_LIBS_EVENTLOG_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libs/eventlog/event_log.h"
#include "libs/eventlog/verify_report.h"

namespace takt::eventlog {

// takt::eventlog::ChainChecker
//
// Checks a contiguous run of a stream's records that should start at
// `first_sequence`. Records are fed in storage order with the sequence the
// storage files them under.
class ChainChecker {
 public:
  // `expected_prev_hash`: the hash the run must continue from; empty when the
  // run starts mid-stream (FinishStream checks the seam). `first_sequence` 0:
  // the run starts wherever its first record is.
  // `wanted`: sequences whose hashes checkpoints will need.
  ChainChecker(uint64_t first_sequence, std::string expected_prev_hash,
               const std::set<uint64_t>* wanted);

  // Checks one record. Returns false once the run has failed.
  bool Add(uint64_t stored_sequence, std::string_view record);

  // Remembers the current head's hash for checkpoint checks (for readers
  // that meet checkpoints after the events they sign).
  void RememberHead() {
    if (next_ > first_sequence_) hashes_[next_ - 1] = last_hash_;
  }

  uint64_t first_sequence() const { return first_sequence_; }
  // The sequence after the last record checked.
  uint64_t next_sequence() const { return next_; }
  uint64_t events() const { return events_; }
  const std::string& last_hash() const { return last_hash_; }
  const std::string& first_prev_hash() const { return first_prev_hash_; }
  // The run's first failure. An event found where another should be is
  // judged with one record of lookahead: if the sequence continues from it,
  // the skipped events are missing; otherwise events were moved.
  std::optional<VerifyFailure> failure() const;
  const std::map<uint64_t, std::string>& hashes() const { return hashes_; }

 private:
  void Fail(uint64_t sequence, FailureKind kind, std::string detail);

  uint64_t first_sequence_;
  uint64_t next_;
  uint64_t events_ = 0;
  std::string last_hash_;
  std::string first_prev_hash_;
  const std::set<uint64_t>* wanted_;
  std::map<uint64_t, std::string> hashes_;
  std::optional<VerifyFailure> failure_;
  struct Suspect {
    uint64_t at;    // where it was stored
    uint64_t body;  // what it says it is
  };
  std::optional<Suspect> suspect_;
};

// takt::eventlog::StreamChains
//
// Chain checks for readers that read streams piece by piece and act on what
// they read (subscriptions feeding projections, KPI explain): every record
// must match its hash and continue the previous one, so an event edited in
// storage stops the reader instead of reaching a KPI. A stream read from
// the middle is checked from the first record on, and from the hash given
// to Seed() when the reader knows the previous one.
class StreamChains {
 public:
  // The hash the next record of `stream` must continue from.
  void Seed(const StreamId& stream, uint64_t next_sequence, std::string prev_hash);
  bool Seeded(const StreamId& stream) const { return chains_.count(stream) > 0; }
  // Checks one record stored under `sequence`: DATA_LOSS naming stream,
  // sequence and what is wrong, otherwise OK.
  absl::Status Check(const StreamId& stream, uint64_t sequence, std::string_view record);
  // Forgets a stream (its reader moved elsewhere).
  void Forget(const StreamId& stream) { chains_.erase(stream); }

 private:
  std::map<StreamId, ChainChecker> chains_;
};

// Stitches the runs of a stream (in sequence order; each run after the first
// starts where the previous one was meant to end), checks checkpoints with
// `keys`, and returns the stream's first failure, if any.
// `recorded_head`: the head the storage's own metadata claims (0 if none).
std::optional<VerifyFailure> FinishStream(const StreamId& stream,
                                          const std::vector<ChainChecker>& runs,
                                          const std::vector<v1::Checkpoint>& checkpoints,
                                          const crypto::KeyRing& keys, uint64_t recorded_head,
                                          uint64_t* checkpoints_checked);

// The sequences the checkpoints of a stream refer to.
std::set<uint64_t> CheckpointSequences(const std::vector<v1::Checkpoint>& checkpoints);

// Reads a stream from its start through `upto` (inclusive), checking its
// chain as it goes: an event edited in storage stops the reader (DATA_LOSS
// with stream and sequence) instead of reaching what it computes. For
// auditors' recomputations, which must not trust what they read.
absl::Status ReadVerified(EventLog& log, const StreamId& stream, uint64_t upto,
                          const std::function<void(const v1::Envelope&)>& fn);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_VERIFIER_H_
