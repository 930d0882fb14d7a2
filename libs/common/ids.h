// File: ids.h
// -----------------------------------------------------------------------------
// Identifier rules shared by every Takt service: which context and facility
// names are valid, and generation of event ids.
#ifndef TAKT_LIBS_COMMON_IDS_H_
#define TAKT_LIBS_COMMON_IDS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace takt {

// Returns OK iff `context` is a bounded-context name: 1 to 32 characters of
// [a-z0-9_], starting with a letter ("scheduling", "quality", ...).
absl::Status ValidateContextName(std::string_view context);

// Returns OK iff `facility` is a facility id: 1 to 64 characters of
// [A-Za-z0-9._-], not starting with '.' or '-'. Facility ids are stream keys,
// Kafka message keys and parts of resource names, so they are kept plain.
absl::Status ValidateFacilityId(std::string_view facility);

// Returns a random version-4 UUID in its 36-character text form. Thread-safe;
// uses a per-thread generator seeded from the OS.
std::string NewUuid();

// Lower-case hex of `bytes`, and its inverse (false on malformed input).
std::string HexEncode(std::string_view bytes);
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_IDS_H_
