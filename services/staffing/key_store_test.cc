#include "services/staffing/key_store.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"

namespace takt::staffing {
namespace {

// Whether any file under `dir` contains `needle`.
bool FoundOnDisk(const std::string& dir, const std::string& needle) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    if (s.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(KeyStoreTest, SealsDeterministicallyPerPersonAndOpens) {
  testing::TempDir dir;
  auto keys = KeyStore::Open(dir.path() + "/keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  auto a1 = Seal(**keys, "plant-1", "p-1", "name", "Ada Lovelace");
  auto a2 = Seal(**keys, "plant-1", "p-1", "name", "Ada Lovelace");
  auto b = Seal(**keys, "plant-1", "p-2", "name", "Ada Lovelace");
  ASSERT_TRUE(a1.ok() && a2.ok() && b.ok());
  // A resend seals to the same bytes (same request fingerprint) ...
  EXPECT_EQ(a1->SerializeAsString(), a2->SerializeAsString());
  // ... but another person's key gives other bytes, and no plaintext shows.
  EXPECT_NE(a1->ciphertext(), b->ciphertext());
  EXPECT_EQ(a1->ciphertext().find("Ada"), std::string::npos);
  auto plain = Unseal(**keys, "plant-1", *a1);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, "Ada Lovelace");
}

TEST(KeyStoreTest, AValueMovedToAnotherPersonOrFieldDoesNotOpen) {
  testing::TempDir dir;
  auto keys = *KeyStore::Open(dir.path() + "/keys");
  v1::Sealed s = *Seal(*keys, "plant-1", "p-1", "name", "Ada");
  ASSERT_TRUE(Seal(*keys, "plant-1", "p-2", "name", "x").ok());
  v1::Sealed moved = s;
  moved.set_field("contact");
  EXPECT_EQ(Unseal(*keys, "plant-1", moved).status().code(), absl::StatusCode::kDataLoss);
  moved = s;
  moved.set_subject("p-2");
  EXPECT_EQ(Unseal(*keys, "plant-1", moved).status().code(), absl::StatusCode::kDataLoss);
  moved = s;
  (*moved.mutable_ciphertext())[0] ^= 1;
  EXPECT_EQ(Unseal(*keys, "plant-1", moved).status().code(), absl::StatusCode::kDataLoss);
  // Another facility's p-1 is another person.
  EXPECT_EQ(Unseal(*keys, "plant-2", s).status().code(), absl::StatusCode::kNotFound);
}

TEST(KeyStoreTest, DestroyedKeysAreGoneFromDiskAndNeverComeBack) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/keys";
  v1::Sealed sealed;
  std::string key_bytes;
  {
    auto keys = *KeyStore::Open(path);
    sealed = *Seal(*keys, "plant-1", "p-1", "name", "Ada");
    ASSERT_TRUE(Seal(*keys, "plant-1", "p-2", "name", "Bob").ok());
    auto key = keys->KeyFor("plant-1", "p-1", false);
    ASSERT_TRUE(key.ok());
    key_bytes.assign(reinterpret_cast<const char*>(key->data()), key->size());
  }
  {
    auto keys = *KeyStore::Open(path);  // keys survive a restart
    ASSERT_EQ(*Unseal(*keys, "plant-1", sealed), "Ada");
    ASSERT_TRUE(FoundOnDisk(path, key_bytes));
    ASSERT_TRUE(keys->Destroy("plant-1", "p-1").ok());
    ASSERT_TRUE(keys->Destroy("plant-1", "p-1").ok());  // idempotent
    auto gone = Unseal(*keys, "plant-1", sealed);
    EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(ShowSealed(*keys, "plant-1", sealed), kErasedText);
    EXPECT_TRUE(keys->Erased("plant-1", "p-1"));
    EXPECT_FALSE(keys->Erased("plant-1", "p-2"));
    // The background purge removes the key's bytes from every file of the
    // store (within kPurgeDelay and a flush and compaction).
    bool purged = false;
    for (int i = 0; i < 100 && !purged; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
      purged = !FoundOnDisk(path, key_bytes);
    }
    EXPECT_TRUE(purged);
  }
  auto keys = *KeyStore::Open(path);
  EXPECT_EQ(ShowSealed(*keys, "plant-1", sealed), kErasedText);
  ASSERT_TRUE(keys->Destroy("plant-1", "p-2").ok());
  ASSERT_TRUE(keys->Purge().ok());  // at once, on demand
  // An erased person's key is never provisioned again.
  EXPECT_EQ(Seal(*keys, "plant-1", "p-1", "name", "Ada").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace takt::staffing
