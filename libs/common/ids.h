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

// takt::ValidateId
//
// The one grammar of every id Takt stores (facility, region, area, work
// center, work unit, product, work order, routing step, source id): 1 to 64
// characters of [A-Za-z0-9._-], not starting with '.' or '-'. Ids are
// stream keys, Kafka message keys and parts of resource names, so they are
// kept plain: no '/', no NUL, no spaces, nothing a path could climb with.
// Request ids (AIP-155) follow it too, up to kMaxRequestIdLength. The error
// names `field` and shows the value (shortened, escaped).
inline constexpr size_t kMaxIdLength = 64;
inline constexpr size_t kMaxRequestIdLength = 128;
absl::Status ValidateId(std::string_view field, std::string_view id,
                        size_t max_length = kMaxIdLength);

// ValidateId("facility", facility).
absl::Status ValidateFacilityId(std::string_view facility);

// Returns a random version-4 UUID in its 36-character text form. Thread-safe;
// uses a per-thread generator seeded from the OS.
std::string NewUuid();

// Lower-case hex of `bytes`, and its inverse (false on malformed input).
std::string HexEncode(std::string_view bytes);
bool HexDecode(std::string_view hex, std::string* out);

}  // namespace takt

#endif  // TAKT_LIBS_COMMON_IDS_H_
