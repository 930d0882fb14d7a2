#include "libs/auth/transport.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace takt::auth {
namespace {

constexpr char kHealthPrefix[] = "/grpc.health.v1.Health/";

absl::StatusOr<std::string> ReadFile(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": cannot be read"));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::unique_ptr<BIO, BioFree> Bio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Reads the first certificate of a PEM file.
absl::StatusOr<std::unique_ptr<X509, X509Free>> Certificate(const std::string& what, const std::string& path) {
  auto pem = ReadFile(what, path);
  if (!pem.ok()) return pem.status();
  auto bio = Bio(*pem);
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": no PEM certificate"));
  return cert;
}

grpc::Status Refuse(std::string why) { return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::move(why)); }

}  // namespace

absl::Status CheckTransport(const TransportOptions& o) {
  const bool tls = !o.cert_file.empty() || !o.key_file.empty();
  if (o.insecure) {
    if (tls || !o.client_ca_file.empty() || !o.jwt_public_key_files.empty()) {
      return absl::InvalidArgumentError("--insecure takes no certificates or keys: give either, not both");
    }
    return absl::OkStatus();
  }
  if (o.cert_file.empty() || o.key_file.empty()) {
    return absl::InvalidArgumentError(
        "no transport security: give --tls-cert and --tls-key (and --tls-client-ca for mutual TLS, "
        "--jwt-public-key for people's tokens), or --insecure for plaintext without authentication "
        "(demos and tests on one machine)");
  }
  auto cert = Certificate("--tls-cert", o.cert_file);
  if (!cert.ok()) return cert.status();
  auto key_pem = ReadFile("--tls-key", o.key_file);
  if (!key_pem.ok()) return key_pem.status();
  auto bio = Bio(*key_pem);
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return absl::InvalidArgumentError(absl::StrCat("--tls-key ", o.key_file, ": no PEM private key"));
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", o.key_file, " is not the key of the certificate in ", o.cert_file));
  }
  if (!o.client_ca_file.empty()) {
    auto ca = Certificate("--tls-client-ca", o.client_ca_file);
    if (!ca.ok()) return ca.status();
  } else if (o.require_client_certificate) {
    return absl::InvalidArgumentError("requiring client certificates needs --tls-client-ca");
  }
  if (!o.jwt_public_key_files.empty() && (o.jwt_issuer.empty() || o.jwt_audience.empty())) {
    return absl::InvalidArgumentError("--jwt-public-key needs --jwt-issuer and --jwt-audience");
  }
  if (o.client_ca_file.empty() && o.jwt_public_key_files.empty()) {
    return absl::InvalidArgumentError(
        "TLS without a way to authenticate callers: give --tls-client-ca (certificates of facility systems "
        "and services) and/or --jwt-public-key (people's tokens)");
  }
  return absl::OkStatus();
}

grpc::Status AuthProcessor::Process(const InputMetadata& metadata, grpc::AuthContext* context,
                                    OutputMetadata* consumed, OutputMetadata* response) {
  std::string path;
  if (auto it = metadata.find(":path"); it != metadata.end()) path.assign(it->second.data(), it->second.size());
  Principal principal;
  bool known = false;
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    const std::string value(it->second.data(), it->second.size());
    if (!absl::StartsWith(value, "Bearer ")) return Refuse("the authorization header is not a Bearer token");
    if (jwt_ == nullptr) return Refuse("this server accepts no bearer tokens (started without --jwt-public-key)");
    auto subject = jwt_->Verify(value.substr(7), absl::Now());
    if (!subject.ok()) return Refuse(std::string(subject.status().message()));
    consumed->insert({"authorization", value});
    principal = {PrincipalKind::kPerson, *subject};
    known = true;
  } else {
    std::vector<grpc::string_ref> names = context->FindPropertyValues("x509_common_name");
    if (!names.empty()) {
      auto p = PrincipalOfCertificate(std::string_view(names[0].data(), names[0].size()));
      if (!p.ok()) return Refuse(std::string(p.status().message()));
      principal = *p;
      known = true;
    }
  }
  if (!known) {
    if (absl::StartsWith(path, kHealthPrefix)) return grpc::Status::OK;
    return Refuse("no client certificate and no bearer token: say who you are");
  }
  if (principal.kind == PrincipalKind::kFacilitySystem && !absl::StartsWith(path, kHealthPrefix) &&
      !facility_methods_.contains(path)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat(principal.Actor(), " is a facility system: it may only stream its own "
                                                        "facility's data, not call ",
                                     path.empty() ? std::string("this method") : path));
  }
  context->AddProperty(kPrincipalProperty, principal.Actor());
  (void)response;
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<JwtVerifier>> MakeJwtVerifier(const TransportOptions& o) {
  if (o.jwt_public_key_files.empty()) return std::unique_ptr<JwtVerifier>();
  JwtOptions jo;
  for (const std::string& f : o.jwt_public_key_files) {
    auto pem = ReadFile("--jwt-public-key", f);
    if (!pem.ok()) return pem.status();
    jo.public_keys.push_back(*pem);
  }
  jo.issuer = o.jwt_issuer;
  jo.audience = o.jwt_audience;
  return JwtVerifier::Create(std::move(jo));
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TransportOptions& o, std::shared_ptr<AuthProcessor>* processor) {
  if (absl::Status s = CheckTransport(o); !s.ok()) return s;
  if (o.insecure) return grpc::InsecureServerCredentials();
  auto jwt = MakeJwtVerifier(o);
  if (!jwt.ok()) return jwt.status();
  auto provider = o.client_ca_file.empty()
                      ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            o.key_file, o.cert_file, o.reload_interval_seconds)
                      : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                            o.key_file, o.cert_file, o.client_ca_file, o.reload_interval_seconds);
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  if (!o.client_ca_file.empty()) {
    options.watch_root_certs();
    options.set_cert_request_type(o.require_client_certificate
                                      ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::experimental::TlsServerCredentials(options);
  *processor = std::make_shared<AuthProcessor>(*std::move(jwt));
  creds->SetAuthMetadataProcessor(*processor);
  return creds;
}

Principal PrincipalOf(const grpc::ServerContext* ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx->auth_context();
  if (auth != nullptr) {
    std::vector<grpc::string_ref> values = auth->FindPropertyValues(kPrincipalProperty);
    if (!values.empty()) {
      auto p = ParseActor(std::string_view(values[0].data(), values[0].size()));
      if (p.ok()) return *p;
    }
  }
  std::string peer = ctx->peer();
  // A call over the network names its peer by address ("ipv4:", "ipv6:",
  // "unix:"); an in-process call does not ("unknown", "inproc") and has no
  // transport security of its own.
  bool tls = false;
  if (auth != nullptr) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
      tls = tls || std::string_view(v.data(), v.size()) == GRPC_SSL_TRANSPORT_SECURITY_TYPE;
    }
  }
  const bool networked = peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0 || peer.rfind("unix:", 0) == 0;
  if (!tls && !networked) {
    auto it = ctx->client_metadata().find(kGatewayPrincipalMetadata);
    if (it != ctx->client_metadata().end()) {
      auto p = ParseActor(std::string_view(it->second.data(), it->second.size()));
      if (p.ok()) return *p;
    }
    // An in-process call naming nobody: a person no binding can name (a
    // subject never has a space), so it is allowed nothing.
    return {PrincipalKind::kPerson, "in-process caller without a principal"};
  }
  size_t colon = peer.rfind(':');
  if (colon != std::string::npos && colon > peer.find(':')) peer.resize(colon);
  return {PrincipalKind::kInsecure, peer};
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const std::string& ca_file,
                                                                                  const std::string& cert_file,
                                                                                  const std::string& key_file,
                                                                                  const std::string& token) {
  if (ca_file.empty()) {
    if (!cert_file.empty() || !key_file.empty() || !token.empty()) {
      return absl::InvalidArgumentError(
          "a client certificate or a token needs TLS: set TAKT_TLS_CA to the server's CA certificate");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  auto ca = ReadFile("TAKT_TLS_CA", ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate needs both TAKT_TLS_CERT and TAKT_TLS_KEY");
  }
  if (!cert_file.empty()) {
    auto cert = ReadFile("TAKT_TLS_CERT", cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile("TAKT_TLS_KEY", key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(ssl);
  if (!token.empty()) {
    creds = grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(token));
  }
  return creds;
}

}  // namespace takt::auth
