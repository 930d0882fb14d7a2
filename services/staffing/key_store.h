// File: key_store.h
// -----------------------------------------------------------------------------
// Crypto-shredding of personal data. Every personal field (a name, a
// contact, evaluation comments, an incident narrative) is recorded only as a
// v1::Sealed value: XChaCha20-Poly1305 (libsodium's IETF AEAD) under a
// 256-bit key of its subject, a person. The keys live here, in a RocksDB
// database of their own (DATA_DIR/personal-keys), outside the event log and apart
// from its backups. Destroying a subject's key erases every copy of the
// subject's personal data at once (the log, Kafka topics, snapshots,
// exports, backups of the log) while every hash chain and checkpoint
// signature still verifies: they are computed over the ciphertext.
//
//   KeyStore::Open(dir)          opens or creates the store
//   Seal(keys, f, subject, field, plaintext)   -> v1::Sealed (creates the key)
//   Unseal(keys, f, sealed)      -> plaintext, or NOT_FOUND once erased
//   keys.Destroy(f, subject)     erases: the key is replaced by a durable
//                                tombstone at once, and purged from the
//                                store's files in the background (Purge())
//
// Sealing is deterministic per key: the nonce is a keyed BLAKE2b hash of the
// field and the plaintext, so the same value of the same person seals to
// the same bytes (a resent request has the same fingerprint) and reveals
// only that equality, only within one person's values. The additional data
// bound into the tag is "facility/subject/field": a sealed value moved to
// another person or field does not open.
//
// A destroyed key is never provisioned again (its tombstone stays): sealing
// for an erased subject is FAILED_PRECONDITION. Key creation is synced to
// disk before the sealed value is returned, so no event can be durable with
// a key that is not. Thread-safe.
//
// Backups: back this directory up on its own, with a retention no longer
// than the erasure deadline you promise (an old backup still holds erased
// keys); losing it makes every sealed value unreadable (pseudonymous
// records, rosters, attendance and KPIs stay intact).
#ifndef TAKT_SERVICES_STAFFING_KEY_STORE_H_
#define TAKT_SERVICES_STAFFING_KEY_STORE_H_

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/storage/rocksdb_util.h"
#include "takt/staffing/v1/events.pb.h"

namespace takt::staffing {

inline constexpr char kErasedText[] = "[erased]";
// How long after an erasure the background purge runs (erasures in that
// time share one flush and compaction).
inline constexpr absl::Duration kPurgeDelay = absl::Milliseconds(200);

class KeyStore {
 public:
  using Key = std::array<unsigned char, 32>;

  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(const std::string& dir);
  ~KeyStore();

  // The subject's key; created (and synced) when it has none and `create`.
  // NOT_FOUND without one (and !create); FAILED_PRECONDITION once erased.
  absl::StatusOr<Key> KeyFor(const std::string& facility, const std::string& subject, bool create)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Destroys the subject's key for good (idempotent). When this returns OK
  // the key opens nothing any more (its tombstone is synced, the memory
  // copy wiped); a background purge, within kPurgeDelay, flushes and
  // compacts the store so that no file keeps the key's bytes.
  absl::Status Destroy(const std::string& facility, const std::string& subject)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Purges destroyed keys from the store's files now (flush, then a forced
  // compaction): when it returns OK no file holds a destroyed key.
  absl::Status Purge() ABSL_LOCKS_EXCLUDED(purge_mu_);
  // A consistent copy of the store in `dir` (which must not exist). It
  // holds the keys of people erased since the copy was made: see the
  // README on backups and erasure.
  absl::Status Backup(const std::string& dir) ABSL_LOCKS_EXCLUDED(mu_);
  bool Erased(const std::string& facility, const std::string& subject) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit KeyStore(std::unique_ptr<storage::RocksHandle> db);
  void PurgeLoop() ABSL_LOCKS_EXCLUDED(purge_mu_);
  // nullopt: no entry; an empty optional key inside: erased.
  absl::StatusOr<std::optional<std::optional<Key>>> Lookup(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<storage::RocksHandle> db_;
  // Keys in use (never an erased one).
  std::map<std::string, Key> cache_ ABSL_GUARDED_BY(mu_);
  // The background purge: Destroy marks it due, PurgeLoop runs it.
  absl::Mutex purge_mu_;
  bool purge_due_ ABSL_GUARDED_BY(purge_mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(purge_mu_) = false;
  absl::CondVar purge_cv_;
  std::thread purger_;
};

absl::StatusOr<v1::Sealed> Seal(KeyStore& keys, const std::string& facility,
                                const std::string& subject, const std::string& field,
                                const std::string& plaintext);
// The plaintext; NOT_FOUND (message "erased") when the subject's key is
// destroyed; DATA_LOSS when the value does not open (tampered, moved).
absl::StatusOr<std::string> Unseal(KeyStore& keys, const std::string& facility,
                                   const v1::Sealed& sealed);
// Unseal for display: the plaintext, kErasedText once erased, or
// "[unreadable: ...]".
std::string ShowSealed(KeyStore& keys, const std::string& facility, const v1::Sealed& sealed);

}  // namespace takt::staffing

#endif  // TAKT_SERVICES_STAFFING_KEY_STORE_H_
