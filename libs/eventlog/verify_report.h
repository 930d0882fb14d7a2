// File: verify_report.h
// -----------------------------------------------------------------------------
// What chain verification reports: counts, and per stream the first failure
// with its sequence and kind.
#ifndef TAKT_LIBS_EVENTLOG_VERIFY_REPORT_H_
#define TAKT_LIBS_EVENTLOG_VERIFY_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace takt::eventlog {

enum class FailureKind {
  // Stored bytes do not match their hash, do not decode, or the chain
  // continues from a different hash (an edit, or a rewritten chain that no
  // longer matches a signed checkpoint).
  kAltered,
  // A sequence is absent while later ones exist.
  kMissing,
  // The event stored at a sequence says it has another sequence (moved).
  kReordered,
  // A signed checkpoint names a head beyond the stream's last event.
  kTruncated,
  // A checkpoint's signature does not verify with the trusted public key.
  kBadSignature,
  // The stream ends before a head the auditor kept (--trusted-heads): the
  // log was rolled back (events deleted with their later checkpoints).
  kRolledBack,
  // The event at a kept head's sequence has another hash: history was
  // rewritten from there (a fork).
  kForked,
};

const char* FailureKindName(FailureKind kind);

struct VerifyFailure {
  std::string context;
  std::string facility;
  uint64_t sequence = 0;
  FailureKind kind = FailureKind::kAltered;
  std::string detail;
};

// The last event of a stream as verified: what an auditor keeps to detect
// a later rollback or fork (a local log alone cannot prove it was not
// rolled back to an earlier state).
struct VerifiedHead {
  std::string context;
  std::string facility;
  uint64_t sequence = 0;
  std::string hash;  // 32 bytes
};

// Reads and writes kept heads as JSON Lines ({"context","facility",
// "sequence","hash" (hex)}), the format of `takt log verify --save-heads`.
std::string HeadsToJsonLines(const std::vector<VerifiedHead>& heads);
bool ParseHeadsJsonLines(std::string_view text, std::vector<VerifiedHead>* heads,
                         std::string* error);

struct VerifyReport {
  uint64_t streams_checked = 0;
  uint64_t events_checked = 0;
  uint64_t checkpoints_checked = 0;
  // The first failure of each failing stream, in stream order.
  std::vector<VerifyFailure> failures;
  // The head of every stream checked, in stream order.
  std::vector<VerifiedHead> heads;

  bool ok() const { return failures.empty(); }
  // Human-readable and JSON renderings (one object).
  std::string ToText() const;
  std::string ToJson() const;
};

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_VERIFY_REPORT_H_
