#include "libs/auth/jwt.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/auth/test_certs.h"

namespace takt::auth {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rsa_ = testing::MakeRsaKey();
    ec_ = testing::MakeEcKey();
    JwtOptions o;
    o.public_keys = {rsa_.public_key, ec_.public_key};
    o.issuer = "https://id.example.com";
    o.audience = "takt";
    auto v = JwtVerifier::Create(o);
    ASSERT_TRUE(v.ok()) << v.status();
    verifier_ = *std::move(v);
  }
  std::string Token(const std::string& alg, const std::string& key, std::map<std::string, std::string> claims = {},
                    std::map<std::string, long> ints = {}) {
    std::map<std::string, std::string> c = {{"iss", "https://id.example.com"}, {"aud", "takt"}, {"sub", "alice"}};
    for (auto& [k, v] : claims) c[k] = v;
    std::map<std::string, long> i = {{"exp", absl::ToUnixSeconds(kNow) + 600}};
    for (auto& [k, v] : ints) i[k] = v;
    return testing::MakeJwt(alg, key, c, i);
  }
  void Refused(const std::string& token, const std::string& says) {
    auto r = verifier_->Verify(token, kNow);
    ASSERT_FALSE(r.ok()) << says;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_TRUE(absl::StrContains(r.status().message(), says)) << r.status();
  }

  testing::Pem rsa_, ec_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtTest, ValidTokensNameTheirSubject) {
  auto r = verifier_->Verify(Token("RS256", rsa_.key), kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "alice");
  r = verifier_->Verify(Token("ES256", ec_.key, {{"sub", "bob@example.com"}}), kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "bob@example.com");
}

TEST_F(JwtTest, ForgedExpiredAndMisdirectedTokensAreRefused) {
  const testing::Pem other = testing::MakeRsaKey();
  Refused(Token("RS256", other.key), "signature");                     // another key
  Refused(Token("none", ""), "signature");                             // alg none
  Refused(Token("HS256", rsa_.public_key), "signature");               // the public key as an HMAC secret
  Refused(Token("RS256", rsa_.key, {}, {{"exp", 1'700'000'000}}), "expired");
  Refused(Token("RS256", rsa_.key, {{"aud", "other"}}), "audience");
  Refused(Token("RS256", rsa_.key, {{"iss", "https://evil.example.com"}}), "issuer");
  Refused(Token("RS256", rsa_.key, {{"sub", "alice/../root"}}), "subject");
  Refused(Token("RS256", rsa_.key, {}, {{"nbf", absl::ToUnixSeconds(kNow) + 3600}}), "not valid yet");
  Refused("not.a.token", "signature");
  Refused("", "empty");
  Refused(std::string(9000, 'a'), "longer");
  // A token signed then altered: the signature no longer verifies.
  std::string t = Token("RS256", rsa_.key);
  const size_t dot = t.find('.');
  t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
  Refused(t, "signature");
}

TEST_F(JwtTest, BadConfigurationIsNamed) {
  JwtOptions o;
  o.public_keys = {"not a key"};
  o.issuer = "i";
  o.audience = "a";
  EXPECT_EQ(JwtVerifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.public_keys = {rsa_.public_key};
  o.audience.clear();
  EXPECT_EQ(JwtVerifier::Create(o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace takt::auth
