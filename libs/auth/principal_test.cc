#include "libs/auth/principal.h"

#include "gtest/gtest.h"

namespace takt::auth {
namespace {

TEST(PrincipalTest, CertificatesNameAFacilitySystemOrAService) {
  auto f = PrincipalOfCertificate("facility:detroit-1");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->kind, PrincipalKind::kFacilitySystem);
  EXPECT_EQ(f->name, "detroit-1");
  EXPECT_EQ(f->Actor(), "facility:detroit-1");
  auto s = PrincipalOfCertificate("service:rollups");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, PrincipalKind::kService);
  // A certificate cannot make its holder a person, nor carry a bad id.
  for (const char* bad : {"person:alice", "detroit-1", "facility:", "facility:../x", "insecure:x", ""}) {
    EXPECT_EQ(PrincipalOfCertificate(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  auto back = ParseActor("person:alice@example.com");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->kind, PrincipalKind::kPerson);
  EXPECT_EQ(back->name, "alice@example.com");
}

}  // namespace
}  // namespace takt::auth
