#include "libs/crypto/ed25519.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace takt::crypto {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("takt_ed25519_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(Ed25519Test, SignAndVerify) {
  auto key = SigningKey::FromSeed(std::string(32, 'k'));
  ASSERT_TRUE(key.ok());
  std::string sig = key->Sign("head 42");
  EXPECT_EQ(sig.size(), kEd25519SignatureSize);
  EXPECT_TRUE(VerifySignature(key->public_key(), "head 42", sig));
  EXPECT_FALSE(VerifySignature(key->public_key(), "head 43", sig));
  sig[5] ^= 1;
  EXPECT_FALSE(VerifySignature(key->public_key(), "head 42", sig));
  EXPECT_FALSE(VerifySignature("short", "head 42", sig));
}

TEST(Ed25519Test, KeyFileIsCreatedOnceAndReloaded) {
  std::string path = TempPath("created.key");
  std::filesystem::remove(path);
  auto first = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(first.ok()) << first.status();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto second = SigningKey::LoadOrCreate(path);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->public_key(), second->public_key());
  EXPECT_EQ(first->key_id().size(), 16u);
  auto parsed = ParsePublicKeyText(first->PublicKeyText());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, first->public_key());
}

TEST(Ed25519Test, MalformedKeyFileIsRefusedNotReplaced) {
  std::string path = TempPath("bad.key");
  { std::ofstream(path) << "garbage\n"; }
  auto key = SigningKey::LoadOrCreate(path);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kDataLoss);
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "garbage");
}

}  // namespace
}  // namespace takt::crypto
