// File: errors.h
// -----------------------------------------------------------------------------
// What an error says to a program, beside its message: a reason and the
// request field it is about, carried as absl::Status payloads so domain
// code needs no protos. host::ToGrpc turns them into the google.rpc
// details of the answer (ErrorInfo.reason, BadRequest.field_violations;
// AIP-193).
//
// Most errors need neither: an INVALID_ARGUMENT message of the form
// "field.path: what is wrong" names its field already (the convention of
// every validator here), and the reason defaults to the code's name. Set
// them where a client must tell one error from another of the same code:
//
//   return takt::WithReason(absl::AbortedError("..."), "STREAM_VERSION_CONFLICT");
#ifndef TAKT_LIBS_COMMON_ERRORS_H_
#define TAKT_LIBS_COMMON_ERRORS_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace takt {

// `s` with its reason: UPPER_SNAKE_CASE, at most 63 characters, stable
// (clients branch on it). OK statuses are returned as they are.
absl::Status WithReason(absl::Status s, absl::string_view reason);
std::optional<std::string> ReasonOf(const absl::Status& s);

// `s` naming the request field it is about ("observations[3].unit"),
// where the message does not begin with it.
absl::Status WithField(absl::Status s, absl::string_view field);
std::optional<std::string> FieldOf(const absl::Status& s);

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_ERRORS_H_
