#include "libs/common/ids.h"

#include <set>

#include "gtest/gtest.h"

namespace takt {
namespace {

TEST(IdsTest, ContextNames) {
  EXPECT_TRUE(ValidateContextName("scheduling").ok());
  EXPECT_TRUE(ValidateContextName("a1_b").ok());
  EXPECT_FALSE(ValidateContextName("").ok());
  EXPECT_FALSE(ValidateContextName("Scheduling").ok());
  EXPECT_FALSE(ValidateContextName("1abc").ok());
  EXPECT_FALSE(ValidateContextName("a.b").ok());
  EXPECT_FALSE(ValidateContextName(std::string(33, 'a')).ok());
}

TEST(IdsTest, FacilityIds) {
  EXPECT_TRUE(ValidateFacilityId("plant-01.detroit_A").ok());
  EXPECT_FALSE(ValidateFacilityId("").ok());
  EXPECT_FALSE(ValidateFacilityId("-x").ok());
  EXPECT_FALSE(ValidateFacilityId("a/b").ok());
  EXPECT_FALSE(ValidateFacilityId(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ValidateFacilityId(std::string(65, 'a')).ok());
}

TEST(IdsTest, UuidsAreVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IdsTest, HexRoundTrip) {
  std::string raw("\x00\x01\xfe\xff", 4);
  EXPECT_EQ(HexEncode(raw), "0001feff");
  std::string back;
  ASSERT_TRUE(HexDecode("0001FEff", &back));
  EXPECT_EQ(back, raw);
  EXPECT_FALSE(HexDecode("abc", &back));
  EXPECT_FALSE(HexDecode("zz", &back));
}

// Issue 12.3: one grammar and length limit for every id; the message names
// the field and shows the value shortened and escaped.
TEST(IdsTest, EveryIdFollowsOneGrammarAndTheErrorShowsItSafely) {
  EXPECT_TRUE(ValidateId("source_id", "plc-7.line_2").ok());
  const std::string huge(1 << 20, 'a');
  absl::Status s = ValidateId("source_id", huge);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("source_id 'aaaa"), std::string::npos) << s;
  EXPECT_NE(s.message().find("1048576 characters, at most 64"), std::string::npos) << s;
  EXPECT_LT(s.message().size(), 200u);
  s = ValidateId("order_id", std::string("wo\0x", 4));
  EXPECT_NE(s.message().find("order_id 'wo\\x00x'"), std::string::npos) << s;
  EXPECT_FALSE(ValidateId("order_id", "../../etc").ok());
  EXPECT_FALSE(ValidateId("order_id", "a/b").ok());
  EXPECT_FALSE(ValidateId("region", "").ok());
  EXPECT_NE(ValidateId("region", "").message().find("region: must not be empty"), std::string::npos);
  EXPECT_TRUE(ValidateId("request_id", std::string(100, 'r'), kMaxRequestIdLength).ok());
  EXPECT_FALSE(ValidateId("request_id", std::string(129, 'r'), kMaxRequestIdLength).ok());
}

}  // namespace
}  // namespace takt
