// File: history.h
// -----------------------------------------------------------------------------
// A facility's compliance history for auditors: its streams in every context
// (the shop-floor stream "<facility>" and planning stream "<facility>.plan"
// of the scheduling context, the facility's streams of the other contexts),
// replayed in order with each event's who, what, when and source and its
// payload decoded to readable JSON; filtered by time, sequence and type; as
// it stood at a past time. With proofs, each event carries its stored record
// and each stream its signed checkpoints, so that an export can be verified
// with the key ring alone (VerifyExport).
#ifndef TAKT_SERVICES_AUDIT_HISTORY_H_
#define TAKT_SERVICES_AUDIT_HISTORY_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "libs/es/context.h"
#include "libs/crypto/keyring.h"
#include "libs/eventlog/event_log.h"
#include "libs/eventlog/verify_report.h"
#include "takt/audit/v1/audit.pb.h"

namespace takt::audit {

// The streams of a facility in the `requested` contexts (all of
// `contexts` when empty), as each context lays them out; INVALID_ARGUMENT
// naming a requested context that is not one of `contexts`.
absl::StatusOr<std::vector<eventlog::StreamId>> FacilityStreams(
    const std::string& facility, const std::vector<es::ContextDescriptor>& contexts,
    const std::vector<std::string>& requested);

// Calls `emit` for every matching event (streams in order, each in sequence
// order), then, with proofs, for each stream's checkpoints within the
// replayed range. Each stream's hash chain is checked as it is read: an
// altered, missing or moved event stops the replay with DATA_LOSS naming
// it. Returns the number of events emitted.
// `contexts`: every registered context (services/registry.h).
absl::StatusOr<uint64_t> Replay(eventlog::EventLog& log,
                                const std::vector<es::ContextDescriptor>& contexts,
                                const v1::ReplayRequest& request,
                                const std::function<void(const v1::ReplayItem&)>& emit);

// The readable form of an event (payload as protobuf JSON).
v1::AuditedEvent ToAudited(const eventlog::v1::Envelope& envelope, bool with_record);

// JSON Lines (one ReplayItem per line) and CSV renderings of replay items.
std::string ToJsonLine(const v1::ReplayItem& item);
std::string CsvHeader();
std::string ToCsvLine(const v1::AuditedEvent& event);

// Verifies an export (JSON Lines of ReplayItems) with a trusted public key:
// every stream's chain from its records, the signed checkpoints, and that
// the readable fields of each line say what its record says. Reports per
// stream the first failure (a line edited by hand is "altered").
// With `kept` (heads an auditor kept from an earlier verification), each
// stream of the export must extend its kept head (else rolled_back or
// forked). The report lists the head of every stream exported.
absl::StatusOr<eventlog::VerifyReport> VerifyExport(
    std::string_view jsonl, const crypto::KeyRing& keys,
    const std::vector<eventlog::VerifiedHead>& kept = {});

// Replays streams from their stored records with the chain checked as it
// goes (each record's SHA-256, the links, the signed checkpoints) and each
// event decoded, on `threads` threads (streams are shared out).
struct VerifiedReplayResult {
  uint64_t events = 0;
  eventlog::VerifyReport report;
};
absl::StatusOr<VerifiedReplayResult> VerifiedReplay(
    eventlog::EventLog& log, const std::vector<eventlog::StreamId>& streams, int threads,
    const std::function<void(const eventlog::v1::Envelope&)>& fn = nullptr);

}  // namespace takt::audit

#endif  // TAKT_SERVICES_AUDIT_HISTORY_H_
