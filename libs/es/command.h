// File: command.h
// -----------------------------------------------------------------------------
// Idempotent commands (AIP-155 request ids) on an event-sourced stream. The
// first event a request produces carries the request's fingerprint and the
// response it got, so the outcome lives in the log with the events: a
// resend with the same request id gets the original response (after a
// restart too, and whatever the state is now), and the same request id with
// other content is refused with ALREADY_EXISTS. A request that produced no
// event changed nothing; a resend decides again and changes nothing again.
#ifndef TAKT_LIBS_ES_COMMAND_H_
#define TAKT_LIBS_ES_COMMAND_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "absl/time/time.h"
#include "libs/es/event.h"
#include "libs/eventlog/event_log.h"

namespace takt::es {

using eventlog::Envelope;

// The envelope of an event decided from a person's command: type, payload,
// who asked, the request id that makes a resend idempotent, and when.
Envelope CommandEnvelope(const Event& event, const std::string& actor,
                         const std::string& request_id, absl::Time now);

// The client's request id of a command request: its top-level string field
// `request_id`, or "" if it has none or it is empty.
std::string ClientRequestId(const google::protobuf::Message& request);

// SHA-256 of the request's deterministic serialization, without its
// `request_id` field (a top-level string field of that name, if any).
std::string RequestFingerprint(const google::protobuf::Message& request);

// Records the request's fingerprint and its response on `first`, the first
// envelope of what the request appends.
void RecordOutcome(const std::string& fingerprint, const google::protobuf::Message& response,
                   Envelope& first);

// The answer to a resend, from the first envelope recorded under its
// request id: fills `response` with the original one, or ALREADY_EXISTS
// naming the request id when the request differs from the one recorded.
absl::Status ReplayOutcome(const Envelope& first, const std::string& fingerprint,
                           google::protobuf::Message* response);

}  // namespace takt::es

#endif  // TAKT_LIBS_ES_COMMAND_H_
