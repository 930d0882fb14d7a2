// Bearer tokens as anyone can send them: refused with a reason or accepted
// only when signed by the configured key (a fuzzer cannot sign).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/time/time.h"
#include "libs/auth/jwt.h"
#include "libs/auth/test_certs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const takt::auth::JwtVerifier* verifier = [] {
    takt::auth::JwtOptions o;
    o.public_keys = {takt::auth::testing::MakeEcKey().public_key};
    o.issuer = "https://id.example.com";
    o.audience = "takt";
    return takt::auth::JwtVerifier::Create(o)->release();
  }();
  auto subject = verifier->Verify(std::string_view(reinterpret_cast<const char*>(data), size),
                                  absl::FromUnixSeconds(1'800'000'000));
  if (subject.ok()) std::abort();  // nothing the fuzzer makes is signed by the key
  return 0;
}
