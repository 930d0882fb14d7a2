#include "libs/crypto/sha256.h"

#include "gtest/gtest.h"
#include "libs/common/ids.h"

namespace takt::crypto {
namespace {

TEST(Sha256Test, KnownVectors) {
  Sha256 h;
  EXPECT_EQ(HexEncode(h.Digest("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(h.Digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, ChainIsDigestOfConcatenation) {
  Sha256& h = Sha256::ThreadLocal();
  EXPECT_EQ(h.Chain("ab", "c"), h.Digest("abc"));
  EXPECT_NE(h.Chain("ab", "c"), h.Chain("a", "bd"));
}

}  // namespace
}  // namespace takt::crypto
