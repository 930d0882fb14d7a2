#include "libs/auth/jwt.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/str_cat.h"
#include "libs/auth/principal.h"
#include "nlohmann/json.hpp"

namespace takt::auth {
namespace {

constexpr size_t kMaxToken = 8192;

absl::Status Unauthenticated(std::string why) {
  return absl::UnauthenticatedError(absl::StrCat("bearer token refused: ", why));
}

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};

bool RsaAlg(jwt_alg_t a) { return a == JWT_ALG_RS256 || a == JWT_ALG_RS384 || a == JWT_ALG_RS512; }
bool EcAlg(jwt_alg_t a) { return a == JWT_ALG_ES256 || a == JWT_ALG_ES384 || a == JWT_ALG_ES512; }

}  // namespace

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(JwtOptions options) {
  if (options.public_keys.empty()) return absl::InvalidArgumentError("JWT: no public key configured");
  if (options.issuer.empty()) return absl::InvalidArgumentError("JWT: the issuer (iss) to accept is required");
  if (options.audience.empty()) return absl::InvalidArgumentError("JWT: the audience (aud) to accept is required");
  std::vector<Key> keys;
  for (size_t i = 0; i < options.public_keys.size(); ++i) {
    const std::string& pem = options.public_keys[i];
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = bio == nullptr ? nullptr : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("JWT public key ", i + 1, " is not a PEM public key"));
    }
    const int type = EVP_PKEY_base_id(key);
    EVP_PKEY_free(key);
    if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
      return absl::InvalidArgumentError(absl::StrCat("JWT public key ", i + 1, " is neither RSA nor EC"));
    }
    keys.push_back({pem, type == EVP_PKEY_RSA});
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(std::move(options), std::move(keys)));
}

absl::StatusOr<std::string> JwtVerifier::Verify(std::string_view token, absl::Time now) const {
  if (token.empty()) return Unauthenticated("empty");
  if (token.size() > kMaxToken) return Unauthenticated(absl::StrCat("longer than ", kMaxToken, " bytes"));
  const std::string text(token);
  std::unique_ptr<jwt_t, JwtFree> jwt;
  for (const Key& k : keys_) {
    jwt_t* decoded = nullptr;
    if (jwt_decode(&decoded, text.c_str(), reinterpret_cast<const unsigned char*>(k.pem.data()),
                   static_cast<int>(k.pem.size())) != 0 ||
        decoded == nullptr) {
      continue;
    }
    std::unique_ptr<jwt_t, JwtFree> owned(decoded);
    // Only an algorithm of the key's own type: not "none", not an HMAC keyed
    // with the public key's text.
    const jwt_alg_t alg = jwt_get_alg(decoded);
    if (k.rsa ? RsaAlg(alg) : EcAlg(alg)) {
      jwt = std::move(owned);
      break;
    }
  }
  if (jwt == nullptr) {
    return Unauthenticated("its signature does not verify with a configured key and algorithm (RS256/384/512 "
                           "for RSA keys, ES256/384/512 for EC keys)");
  }
  const int64_t unix_now = absl::ToUnixSeconds(now);
  const int64_t leeway = absl::ToInt64Seconds(options_.leeway);
  errno = 0;
  const long exp = jwt_get_grant_int(jwt.get(), "exp");
  if (errno != 0 || exp <= 0) return Unauthenticated("it has no expiry (exp)");
  if (exp + leeway < unix_now) return Unauthenticated(absl::StrCat("it expired at ", exp, " (unix seconds)"));
  errno = 0;
  const long nbf = jwt_get_grant_int(jwt.get(), "nbf");
  if (errno == 0 && nbf > unix_now + leeway) return Unauthenticated("it is not valid yet (nbf)");
  const char* iss = jwt_get_grant(jwt.get(), "iss");
  if (iss == nullptr || options_.issuer != iss) return Unauthenticated("another issuer (iss)");
  bool audience = false;
  if (const char* aud = jwt_get_grant(jwt.get(), "aud"); aud != nullptr) {
    audience = options_.audience == aud;
  } else if (char* json = jwt_get_grants_json(jwt.get(), "aud"); json != nullptr) {
    const nlohmann::json list = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    free(json);
    if (list.is_array()) {
      for (const auto& a : list) audience = audience || (a.is_string() && a.get<std::string>() == options_.audience);
    }
  }
  if (!audience) return Unauthenticated("not for this audience (aud)");
  const char* sub = jwt_get_grant(jwt.get(), "sub");
  if (sub == nullptr || *sub == '\0') return Unauthenticated("it has no subject (sub)");
  const std::string subject(sub);
  if (absl::Status s = ValidateSubject(subject); !s.ok()) return Unauthenticated(std::string(s.message()));
  return subject;
}

}  // namespace takt::auth
