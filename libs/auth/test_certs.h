// File: test_certs.h
// -----------------------------------------------------------------------------
// Test credentials made with OpenSSL: certificate authorities, server and
// client certificates (valid, expired, of another CA), key pairs and
// signed JSON Web Tokens. For tests only.
#ifndef TAKT_LIBS_AUTH_TEST_CERTS_H_
#define TAKT_LIBS_AUTH_TEST_CERTS_H_

#include <map>
#include <string>

#include "absl/time/time.h"

namespace takt::auth::testing {

struct Pem {
  std::string cert;  // empty for a bare key pair
  std::string key;   // private key
  std::string public_key;
};

// A self-signed CA.
Pem MakeCa(const std::string& common_name);
// A certificate signed by `ca`, valid from now + not_before to now +
// not_after, for 127.0.0.1 and localhost.
Pem MakeCertificate(const Pem& ca, const std::string& common_name, absl::Duration not_before = -absl::Hours(1),
                    absl::Duration not_after = absl::Hours(24));
Pem MakeRsaKey();
Pem MakeEcKey();

// A token signed with `private_key_pem` by `alg` ("RS256", "ES256", "HS256",
// or "none": unsigned), with the string and integer claims given.
std::string MakeJwt(const std::string& alg, const std::string& private_key_pem,
                    const std::map<std::string, std::string>& claims,
                    const std::map<std::string, long>& int_claims);

// Writes `text` to `path` (replacing it).
void WriteFile(const std::string& path, const std::string& text);

}  // namespace takt::auth::testing

#endif  // TAKT_LIBS_AUTH_TEST_CERTS_H_
