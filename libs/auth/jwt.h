// File: jwt.h
// -----------------------------------------------------------------------------
// Bearer tokens of people: JSON Web Tokens signed by the organisation's
// identity provider, verified with Debian's libjwt against configured
// public keys (PEM: RSA for RS256/RS384/RS512, EC for ES256/ES384/ES512).
// A token is accepted only if a configured key verifies its signature with
// an algorithm of that key's type (never "none", never an HMAC: a public
// key used as an HMAC secret would let anyone sign), it names the
// configured issuer ("iss") and audience ("aud", a string or a list), it
// has a subject ("sub") and an expiry ("exp") that has not passed, and its
// "nbf", when present, has come (both with a leeway for clock skew).
#ifndef TAKT_LIBS_AUTH_JWT_H_
#define TAKT_LIBS_AUTH_JWT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace takt::auth {

struct JwtOptions {
  std::vector<std::string> public_keys;  // PEM texts
  std::string issuer;
  std::string audience;
  absl::Duration leeway = absl::Seconds(30);
};

class JwtVerifier {
 public:
  // INVALID_ARGUMENT when a key is not an RSA or EC public key in PEM, or
  // the issuer or audience is missing.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(JwtOptions options);

  // The token's subject; UNAUTHENTICATED saying why otherwise.
  absl::StatusOr<std::string> Verify(std::string_view token, absl::Time now) const;

 private:
  struct Key {
    std::string pem;
    bool rsa = false;  // else EC
  };
  explicit JwtVerifier(JwtOptions options, std::vector<Key> keys)
      : options_(std::move(options)), keys_(std::move(keys)) {}

  JwtOptions options_;
  std::vector<Key> keys_;
};

}  // namespace takt::auth

#endif  // TAKT_LIBS_AUTH_JWT_H_
