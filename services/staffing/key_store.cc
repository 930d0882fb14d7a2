#include "services/staffing/key_store.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "rocksdb/options.h"

namespace takt::staffing {
namespace {

constexpr char kLive = 'K';
constexpr char kTombstone = 'X';

bool SodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::string IdOf(const std::string& facility, const std::string& subject) {
  return absl::StrCat(facility, std::string(1, '\0'), subject);
}

std::string AdditionalData(const std::string& facility, const std::string& subject,
                           const std::string& field) {
  return absl::StrCat(facility, "/", subject, "/", field);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(const std::string& dir) {
  if (!SodiumReady()) return absl::InternalError("libsodium did not initialise");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Erasure must not leave old key bytes in recycled log files.
  options.recycle_log_file_num = 0;
  options.WAL_ttl_seconds = 0;
  options.WAL_size_limit_MB = 0;
  TAKT_ASSIGN_OR_RETURN(
      auto db, storage::OpenRocks(options, dir,
                                  {rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName,
                                                                   rocksdb::ColumnFamilyOptions())},
                                  /*read_only=*/false));
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(db)));
}

KeyStore::KeyStore(std::unique_ptr<storage::RocksHandle> db) : db_(std::move(db)) {
  purger_ = std::thread([this] { PurgeLoop(); });
}

KeyStore::~KeyStore() {
  bool due = false;
  {
    absl::MutexLock lock(&purge_mu_);
    stopping_ = true;
    due = purge_due_;
    purge_cv_.SignalAll();
  }
  purger_.join();
  if (due) (void)Purge();
  absl::MutexLock lock(&mu_);
  for (auto& [id, key] : cache_) sodium_memzero(key.data(), key.size());
}

void KeyStore::PurgeLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&purge_mu_);
      while (!purge_due_ && !stopping_) purge_cv_.Wait(&purge_mu_);
      if (stopping_) return;
      // Let the erasures of the next moment share this purge.
      purge_cv_.WaitWithTimeout(&purge_mu_, kPurgeDelay);
      if (stopping_) return;
    }
    (void)Purge();
  }
}

absl::Status KeyStore::Purge() {
  {
    absl::MutexLock lock(&purge_mu_);
    purge_due_ = false;
  }
  // The tombstones go through every level: flush the memtable (its log
  // file is then deleted), then rewrite every file (the store is small).
  rocksdb::Status s = db_->db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) return storage::FromRocks(s, "flushing the key store");
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  s = db_->db->CompactRange(compact, nullptr, nullptr);
  if (!s.ok()) return storage::FromRocks(s, "compacting the key store");
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::optional<KeyStore::Key>>> KeyStore::Lookup(const std::string& id) {
  auto it = cache_.find(id);
  if (it != cache_.end()) return std::optional<std::optional<Key>>(it->second);
  std::string value;
  rocksdb::Status s = db_->db->Get(rocksdb::ReadOptions(), id, &value);
  if (s.IsNotFound()) return std::optional<std::optional<Key>>();
  if (!s.ok()) return storage::FromRocks(s, "reading the key store");
  if (value.size() == 1 && value[0] == kTombstone) {
    return std::optional<std::optional<Key>>(std::optional<Key>());
  }
  if (value.size() != 1 + sizeof(Key) || value[0] != kLive) {
    return absl::DataLossError("a key store entry is malformed");
  }
  Key key;
  std::copy(value.begin() + 1, value.end(), key.begin());
  sodium_memzero(value.data(), value.size());
  cache_.emplace(id, key);
  return std::optional<std::optional<Key>>(key);
}

absl::StatusOr<KeyStore::Key> KeyStore::KeyFor(const std::string& facility,
                                               const std::string& subject, bool create) {
  const std::string id = IdOf(facility, subject);
  absl::MutexLock lock(&mu_);
  TAKT_ASSIGN_OR_RETURN(auto found, Lookup(id));
  if (found.has_value()) {
    if (!found->has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat(subject, "'s personal data was erased; their key cannot be provisioned again"));
    }
    return **found;
  }
  if (!create) return absl::NotFoundError(absl::StrCat(subject, " has no key"));
  Key key;
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  std::string value(1, kLive);
  value.append(reinterpret_cast<const char*>(key.data()), key.size());
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->db->Put(sync, id, value);
  sodium_memzero(value.data(), value.size());
  if (!s.ok()) return storage::FromRocks(s, "storing a new key");
  cache_.emplace(id, key);
  return key;
}

absl::Status KeyStore::Destroy(const std::string& facility, const std::string& subject) {
  const std::string id = IdOf(facility, subject);
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(id);
  if (it != cache_.end()) {
    sodium_memzero(it->second.data(), it->second.size());
    cache_.erase(it);
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->db->Put(sync, id, std::string(1, kTombstone));
  if (!s.ok()) return storage::FromRocks(s, "erasing a key");
  absl::MutexLock purge(&purge_mu_);
  purge_due_ = true;
  purge_cv_.Signal();
  return absl::OkStatus();
}

bool KeyStore::Erased(const std::string& facility, const std::string& subject) {
  absl::MutexLock lock(&mu_);
  auto found = Lookup(IdOf(facility, subject));
  return found.ok() && found->has_value() && !found->value().has_value();
}

absl::StatusOr<v1::Sealed> Seal(KeyStore& keys, const std::string& facility,
                                const std::string& subject, const std::string& field,
                                const std::string& plaintext) {
  TAKT_ASSIGN_OR_RETURN(KeyStore::Key key, keys.KeyFor(facility, subject, /*create=*/true));
  unsigned char nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
  const std::string material = absl::StrCat(field, std::string(1, '\0'), plaintext);
  crypto_generichash(nonce, sizeof(nonce), reinterpret_cast<const unsigned char*>(material.data()),
                     material.size(), key.data(), key.size());
  const std::string ad = AdditionalData(facility, subject, field);
  std::string ciphertext(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long length = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(ciphertext.data()), &length,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, nonce, key.data());
  sodium_memzero(key.data(), key.size());
  ciphertext.resize(length);
  v1::Sealed sealed;
  sealed.set_subject(subject);
  sealed.set_field(field);
  sealed.set_nonce(reinterpret_cast<const char*>(nonce), sizeof(nonce));
  sealed.set_ciphertext(std::move(ciphertext));
  return sealed;
}

absl::StatusOr<std::string> Unseal(KeyStore& keys, const std::string& facility,
                                   const v1::Sealed& sealed) {
  auto key = keys.KeyFor(facility, sealed.subject(), /*create=*/false);
  if (!key.ok()) {
    if (key.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::NotFoundError("erased");
    }
    return key.status();
  }
  if (sealed.nonce().size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      sealed.ciphertext().size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return absl::DataLossError("a sealed value is malformed");
  }
  const std::string ad = AdditionalData(facility, sealed.subject(), sealed.field());
  std::string plain(sealed.ciphertext().size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long length = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(plain.data()), &length, nullptr,
      reinterpret_cast<const unsigned char*>(sealed.ciphertext().data()), sealed.ciphertext().size(),
      reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
      reinterpret_cast<const unsigned char*>(sealed.nonce().data()), key->data());
  sodium_memzero(key->data(), key->size());
  if (rc != 0) return absl::DataLossError("a sealed value does not open (altered, or moved to another person or field)");
  plain.resize(length);
  return plain;
}

std::string ShowSealed(KeyStore& keys, const std::string& facility, const v1::Sealed& sealed) {
  if (sealed.ciphertext().empty() && sealed.subject().empty()) return "";
  auto plain = Unseal(keys, facility, sealed);
  if (plain.ok()) return *std::move(plain);
  if (plain.status().code() == absl::StatusCode::kNotFound && plain.status().message() == "erased") {
    return kErasedText;
  }
  return absl::StrCat("[unreadable: ", plain.status().message(), "]");
}

absl::Status KeyStore::Backup(const std::string& dir) {
  absl::MutexLock lock(&mu_);
  return storage::CheckpointRocks(db_->db.get(), dir);
}

}  // namespace takt::staffing
