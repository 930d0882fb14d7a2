// File: transport.h
// -----------------------------------------------------------------------------
// The server's transport security and authentication.
//
// TLS: the server's certificate chain and key (PEM files) are watched and
// reloaded when they change (gRPC's FileWatcherCertificateProvider), so a
// renewed certificate needs no restart. With a client CA, client
// certificates are verified against it (mutual TLS): facility systems and
// services present one naming them (principal.h); people present a bearer
// token instead (jwt.h) unless every client must present a certificate.
//
// Every call is then authenticated by AuthProcessor before any handler
// runs: a valid bearer token makes the caller a person, a verified client
// certificate a facility system or a service; a call with neither, or with
// a bad token, ends UNAUTHENTICATED (health checks excepted). A facility
// system may call only the methods the modules open to it (their streamed
// ingest), and each batch it sends must be its own facility's
// (host::ServeBatches). Plaintext needs `insecure` (`takt serve
// --insecure`): no authentication at all, said at start.
#ifndef TAKT_LIBS_AUTH_TRANSPORT_H_
#define TAKT_LIBS_AUTH_TRANSPORT_H_

#include <grpcpp/security/auth_metadata_processor.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "libs/auth/jwt.h"
#include "libs/auth/principal.h"

namespace takt::auth {

struct TransportOptions {
  bool insecure = false;
  std::string cert_file;       // the server's certificate chain (PEM)
  std::string key_file;        // its private key (PEM)
  std::string client_ca_file;  // verify client certificates against it (mutual TLS)
  bool require_client_certificate = false;
  std::vector<std::string> jwt_public_key_files;  // people's bearer tokens
  std::string jwt_issuer;
  std::string jwt_audience;
  unsigned reload_interval_seconds = 10;
};

// Checks the options and the files (readable, PEM, key matching the
// certificate): INVALID_ARGUMENT naming the file and what is wrong.
absl::Status CheckTransport(const TransportOptions& options);

// The verifier of people's bearer tokens the options configure, or null
// when they configure none; INVALID_ARGUMENT naming a bad key file.
absl::StatusOr<std::unique_ptr<JwtVerifier>> MakeJwtVerifier(const TransportOptions& options);

class AuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit AuthProcessor(std::unique_ptr<JwtVerifier> jwt) : jwt_(std::move(jwt)) {}
  // The methods ("/package.Service/Method") facility systems may call; set
  // before the server starts.
  void AllowFacilitySystems(std::set<std::string> methods) { facility_methods_ = std::move(methods); }

  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext* context, OutputMetadata* consumed,
                       OutputMetadata* response) override;

 private:
  std::unique_ptr<JwtVerifier> jwt_;
  std::set<std::string> facility_methods_;
};

// The server credentials, with `processor` authenticating each call.
// Insecure credentials when options.insecure. An in-process call (the
// HTTP gateway's) has no transport: its principal is the one the gateway
// names (kGatewayPrincipalMetadata).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TransportOptions& options, std::shared_ptr<AuthProcessor>* processor);

// The caller of a call: its authenticated principal, or on an insecure
// server "insecure:<peer address without port>".
Principal PrincipalOf(const grpc::ServerContext* ctx);

// Client side: TLS with `ca_file` as the roots, a client certificate when
// `cert_file` and `key_file` are given, a bearer token when `token` is; all
// empty: plaintext. Errors name the file.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const std::string& ca_file,
                                                                                  const std::string& cert_file,
                                                                                  const std::string& key_file,
                                                                                  const std::string& token);

}  // namespace takt::auth

#endif  // TAKT_LIBS_AUTH_TRANSPORT_H_
