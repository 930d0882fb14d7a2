// File: principal.h
// -----------------------------------------------------------------------------
// Who makes a call. Every event and recorded read names its principal as
// the actor ("person:alice", "facility:detroit-1", "service:rollups"), never
// a network address. A principal is authenticated by the transport
// (auth_processor.h): a client certificate for facility systems and
// services (mutual TLS; its subject common name is "facility:<id>" or
// "service:<name>"), a bearer token (JWT, jwt.h) for people. A server
// started with --insecure has no authentication: its callers are
// "insecure:<peer address>", and it says so at start.
#ifndef TAKT_LIBS_AUTH_PRINCIPAL_H_
#define TAKT_LIBS_AUTH_PRINCIPAL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace takt::auth {

enum class PrincipalKind { kPerson, kFacilitySystem, kService, kInsecure };

struct Principal {
  PrincipalKind kind = PrincipalKind::kInsecure;
  std::string name;  // the person's subject, the facility id, the service name, the peer
  // "person:alice", "facility:detroit-1", "service:rollups", "insecure:ipv4:127.0.0.1".
  std::string Actor() const;
  bool operator==(const Principal&) const = default;
};

// The principal a client certificate's common name names:
// "facility:<facility id>" or "service:<name>" (ids per ValidateId);
// INVALID_ARGUMENT otherwise.
absl::StatusOr<Principal> PrincipalOfCertificate(std::string_view common_name);

// A person's subject (a token's `sub`, a role binding's subject): 1 to 128
// of [A-Za-z0-9._@+-]; INVALID_ARGUMENT saying which rule it breaks.
absl::Status ValidateSubject(std::string_view subject);

// Parses an actor string back ("person:alice" -> a person named alice).
absl::StatusOr<Principal> ParseActor(std::string_view actor);

// The auth-context property the server's processor records the principal
// under (its actor string).
inline constexpr char kPrincipalProperty[] = "takt-principal";

// The metadata the HTTP gateway (libs/http) names its authenticated caller
// in when it calls a method in-process. Read only from in-process calls
// (no TLS, no network peer address): a network client cannot set its
// principal with it.
inline constexpr char kGatewayPrincipalMetadata[] = "takt-gateway-principal";

}  // namespace takt::auth

#endif  // TAKT_LIBS_AUTH_PRINCIPAL_H_
