#include "libs/crypto/keyring.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"

namespace takt::crypto {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SigningKey Key(char c) { return *SigningKey::FromSeed(std::string(32, c)); }

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(KeyRingTest, EachKeyVerifiesOnlyInsideItsPeriod) {
  SigningKey a = Key('a'), b = Key('b');
  KeyRing ring(a.public_key());
  ASSERT_TRUE(ring.Rotate(a, b.public_key(), kT0).ok());

  const std::string msg = "checkpoint";
  // Before the rotation: only a.
  EXPECT_TRUE(ring.Verify(a.key_id(), kT0 - absl::Seconds(1), msg, a.Sign(msg)).ok());
  absl::Status early = ring.Verify(b.key_id(), kT0 - absl::Seconds(1), msg, b.Sign(msg));
  EXPECT_FALSE(early.ok());
  EXPECT_NE(early.message().find("signs from"), absl::string_view::npos) << early;
  // From the rotation on: only b. A leaked old key cannot sign anything newer.
  EXPECT_TRUE(ring.Verify(b.key_id(), kT0, msg, b.Sign(msg)).ok());
  absl::Status retired = ring.Verify(a.key_id(), kT0 + absl::Hours(1), msg, a.Sign(msg));
  EXPECT_FALSE(retired.ok());
  EXPECT_NE(retired.message().find("retired"), absl::string_view::npos) << retired;
  // A wrong signature and an unknown key fail with their reason.
  EXPECT_FALSE(ring.Verify(b.key_id(), kT0, msg, b.Sign("other")).ok());
  absl::Status unknown = ring.Verify(Key('c').key_id(), kT0, msg, Key('c').Sign(msg));
  EXPECT_NE(unknown.message().find("not in the trusted key ring"), absl::string_view::npos);
}

TEST(KeyRingTest, TextRoundTripsAndOldSingleKeyFilesParse) {
  SigningKey a = Key('a'), b = Key('b'), c = Key('c');
  KeyRing ring(a.public_key());
  ASSERT_TRUE(ring.Rotate(a, b.public_key(), kT0 + absl::Nanoseconds(123456789)).ok());
  ASSERT_TRUE(ring.Rotate(b, c.public_key(), kT0 + absl::Hours(24)).ok());
  auto parsed = KeyRing::Parse(ring.Text());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->keys().size(), 3u);
  EXPECT_EQ(parsed->current().key_id, c.key_id());
  EXPECT_EQ(parsed->keys()[1].not_before, kT0 + absl::Nanoseconds(123456789));
  EXPECT_EQ(parsed->keys()[1].not_after, kT0 + absl::Hours(24));
  EXPECT_TRUE(ring.IsPrefixOf(*parsed));
  EXPECT_TRUE(CheckExtends(ring, *parsed).ok());
  // A continuation that forks after the first key is named.
  KeyRing fork(a.public_key());
  ASSERT_TRUE(fork.Rotate(a, c.public_key(), kT0).ok());
  absl::Status forked = CheckExtends(ring, fork);
  EXPECT_EQ(forked.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(forked.message().find("key 2 is " + c.key_id()), absl::string_view::npos) << forked;
  EXPECT_FALSE(CheckExtends(*parsed, KeyRing(a.public_key())).ok());  // a ring cut short
  EXPECT_TRUE(KeyRing(a.public_key()).IsPrefixOf(*parsed));
  EXPECT_FALSE(parsed->IsPrefixOf(KeyRing(a.public_key())));

  auto old = KeyRing::Parse(a.PublicKeyText());
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->keys().size(), 1u);
  EXPECT_TRUE(old->Verify(a.key_id(), absl::UnixEpoch(), "m", a.Sign("m")).ok());
}

TEST(KeyRingTest, ForgedOrReorderedRotationsAreRefused) {
  SigningKey a = Key('a'), b = Key('b'), c = Key('c');
  KeyRing ring(a.public_key());
  ASSERT_TRUE(ring.Rotate(a, b.public_key(), kT0).ok());
  std::string text = ring.Text();

  // Someone without key a appends their own key c with a made-up signature.
  KeyRing forged(c.public_key());
  ASSERT_TRUE(forged.Rotate(c, b.public_key(), kT0).ok());
  std::string forged_line = forged.Text().substr(forged.Text().find('\n') + 1);
  auto swapped = KeyRing::Parse(a.PublicKeyText() + forged_line);
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("is not signed by key " + a.key_id()),
            std::string::npos)
      << swapped.status();

  // The rotation time edited: the signature covers it.
  std::string edited = text;
  size_t at = edited.find("2027");
  ASSERT_NE(at, std::string::npos);
  edited.replace(at, 4, "2026");
  EXPECT_FALSE(KeyRing::Parse(edited).ok());

  // A rotation earlier than the one before it.
  EXPECT_FALSE(ring.Rotate(b, c.public_key(), kT0 - absl::Seconds(1)).ok());
  // Only the current key may rotate.
  EXPECT_EQ(ring.Rotate(a, c.public_key(), kT0 + absl::Hours(1)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(KeyRing::Parse("takt-ed25519-public-v1 zz\n").ok());
  EXPECT_FALSE(KeyRing::Parse("").ok());
}

TEST(KeyRingTest, RotatingAKeyFileKeepsTheOldPublicKeyAndOverwritesTheSecret) {
  testing::TempDir dir;
  const std::string key_path = dir.path() + "/checkpoint.key";
  auto first = LoadSigningKeys(key_path);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ReadAll(dir.path() + "/checkpoint.pub"), first->ring.Text());
  const std::string old_secret = ReadAll(key_path);

  auto ring = RotateSigningKey(key_path, kT0);
  ASSERT_TRUE(ring.ok()) << ring.status();
  ASSERT_EQ(ring->keys().size(), 2u);
  EXPECT_EQ(ring->keys()[0].public_key, first->key.public_key());
  EXPECT_NE(ReadAll(key_path), old_secret);
  EXPECT_FALSE(std::filesystem::exists(key_path + ".next"));

  auto reloaded = LoadSigningKeys(key_path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ(reloaded->key.public_key(), ring->current().public_key);
  EXPECT_EQ(reloaded->ring.Text(), ring->Text());
}

TEST(KeyRingTest, AMissingKeyOrRingIsRefusedNeverReplaced) {
  testing::TempDir dir;
  const std::string key_path = dir.path() + "/checkpoint.key";
  const std::string ring_path = dir.path() + "/checkpoint.pub";
  ASSERT_TRUE(LoadSigningKeys(key_path).ok());
  ASSERT_TRUE(RotateSigningKey(key_path, kT0).ok());
  const std::string ring = ReadAll(ring_path);
  const std::string secret = ReadAll(key_path);

  // The key gone: no fresh key is made beside a ring that would not name it.
  std::filesystem::remove(key_path);
  auto no_key = LoadSigningKeys(key_path);
  EXPECT_EQ(no_key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(no_key.status().message().find("restore it from a backup"), absl::string_view::npos);
  EXPECT_FALSE(std::filesystem::exists(key_path));
  { std::ofstream(key_path) << secret; }

  // The ring gone: it is the only record of the first key; not rewritten.
  std::filesystem::remove(ring_path);
  auto no_ring = LoadSigningKeys(key_path);
  EXPECT_EQ(no_ring.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(ring_path));
  EXPECT_FALSE(RotateSigningKey(key_path, kT0 + absl::Hours(1)).ok());

  // A key brought in for a new log says so with a marker.
  testing::TempDir fresh;
  const std::string imported_key = fresh.path() + "/checkpoint.key";
  { std::ofstream(imported_key) << secret; }
  EXPECT_FALSE(LoadSigningKeys(imported_key).ok());
  { std::ofstream(imported_key + ".imported"); }
  auto imported = LoadSigningKeys(imported_key);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->ring.keys().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(imported_key + ".imported"));

  // A key from another time than the ring (the ring cut to its first line).
  { std::ofstream(ring_path) << ring.substr(0, ring.find('\n') + 1); }
  auto mismatch = LoadSigningKeys(key_path);
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(mismatch.status().message().find("same backup"), absl::string_view::npos);
}

TEST(KeyRingTest, NoRotationWhileAnotherProcessSignsWithTheKeys) {
  testing::TempDir dir;
  const std::string key_path = dir.path() + "/checkpoint.key";
  auto held = LoadSigningKeys(key_path);  // this process signs with them
  ASSERT_TRUE(held.ok());
  const std::string ring = ReadAll(dir.path() + "/checkpoint.pub");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Another process (fcntl locks are not inherited) tries to rotate.
    auto rotated = RotateSigningKey(key_path, kT0);
    ::_exit(rotated.status().code() == absl::StatusCode::kFailedPrecondition ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(ReadAll(dir.path() + "/checkpoint.pub"), ring);
  EXPECT_FALSE(std::filesystem::exists(key_path + ".next"));
}

TEST(KeyRingTest, AnInterruptedRotationIsFinishedOrDiscarded) {
  testing::TempDir dir;
  const std::string key_path = dir.path() + "/checkpoint.key";
  auto first = LoadSigningKeys(key_path);
  ASSERT_TRUE(first.ok());
  const std::string old_ring = ReadAll(dir.path() + "/checkpoint.pub");
  const std::string old_secret = ReadAll(key_path);

  // Crash after writing the next key, before the ring: the rotation never
  // happened. Also when the crash left the next key half written.
  for (const std::string& next : {"takt-ed25519-secret-v1 " + std::string(64, '7') + "\n", std::string()}) {
    { std::ofstream(key_path + ".next") << next; }
    auto discarded = LoadSigningKeys(key_path);
    ASSERT_TRUE(discarded.ok()) << discarded.status();
    EXPECT_EQ(discarded->key.public_key(), first->key.public_key());
    EXPECT_FALSE(std::filesystem::exists(key_path + ".next"));
  }

  // Crash after the ring, before the rename: the rotation is finished.
  auto rotated = RotateSigningKey(key_path, kT0);
  ASSERT_TRUE(rotated.ok());
  const std::string new_secret = ReadAll(key_path);
  { std::ofstream(key_path) << old_secret; }
  { std::ofstream(key_path + ".next") << new_secret; }
  auto finished = LoadSigningKeys(key_path);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->key.public_key(), rotated->current().public_key);
  EXPECT_EQ(ReadAll(key_path), new_secret);
  EXPECT_NE(old_ring, ReadAll(dir.path() + "/checkpoint.pub"));
}

}  // namespace
}  // namespace takt::crypto
