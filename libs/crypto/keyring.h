// File: keyring.h
// -----------------------------------------------------------------------------
// The checkpoint keys a log has used, in order, each valid for a period of
// signing time. Each key after the first is introduced by a rotation
// statement signed by the key before it. An auditor keeps the whole ring she
// trusts and accepts a new one only if it extends hers (IsPrefixOf): a
// retired key that leaked could otherwise sign a different continuation. A key signs checkpoints dated from its rotation time
// until the next rotation: once rotated, a leaked old key cannot sign a
// checkpoint that verifiers accept as newer than the rotation.
//
// Key ring file (keys/checkpoint.pub), one statement per line:
//
//   takt-ed25519-public-v1 <hex of the first public key>
//   takt-ed25519-rotation-v1 <RFC 3339 time> <hex of the next key> <hex signature>
//
// The signature is the previous key's Ed25519 signature of
// "takt-key-rotation-v1\n<previous key hex>\n<next key hex>\n<time>". A file
// with only the first line (every log before rotation existed) is a ring of
// one key valid at every time.
#ifndef TAKT_LIBS_CRYPTO_KEYRING_H_
#define TAKT_LIBS_CRYPTO_KEYRING_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/crypto/ed25519.h"

namespace takt::crypto {

// takt::crypto::KeyRing
//
// A value type; copying is cheap (a few keys).
class KeyRing {
 public:
  struct Key {
    std::string public_key;  // 32 bytes
    std::string key_id;
    absl::Time not_before = absl::InfinitePast();  // signs from (inclusive)
    absl::Time not_after = absl::InfiniteFuture();  // until (exclusive)
    std::string rotation_signature;  // by the previous key; empty for the first
  };

  // A ring of one key, valid at every time.
  explicit KeyRing(std::string public_key);

  // Parses a key ring file's text (or one bare 64-character hex key) and
  // checks every rotation's signature and order.
  static absl::StatusOr<KeyRing> Parse(std::string_view text);

  // Adds `next_public_key`, valid from `not_before`, signed by `current`,
  // which must be the ring's last key. `not_before` must be later than the
  // last key's start.
  absl::Status Rotate(const SigningKey& current, const std::string& next_public_key,
                      absl::Time not_before);

  // OK iff `key_id` names a key of the ring that was valid at `signed_time`
  // and `signature` is its signature of `message`; otherwise a message that
  // says which of these failed.
  absl::Status Verify(std::string_view key_id, absl::Time signed_time, std::string_view message,
                      std::string_view signature) const;

  // True iff `other` is this ring or this ring extended by rotations (the
  // same first keys in the same order).
  bool IsPrefixOf(const KeyRing& other) const;

  const std::vector<Key>& keys() const { return keys_; }
  const Key& current() const { return keys_.back(); }

  // The key ring file's text.
  std::string Text() const;

 private:
  KeyRing() = default;

  std::vector<Key> keys_;
};

// The key ring file beside a signing key file: "<dir>/checkpoint.key" ->
// "<dir>/checkpoint.pub" (a path not ending in ".key" gets ".pub" appended).
std::string KeyRingPathFor(const std::string& signing_key_path);

// OK iff `ring` extends `trusted` (the ring an auditor kept from an earlier
// verification): the same keys with the same periods first, then only new
// rotations. Else FAILED_PRECONDITION naming the first key that differs.
absl::Status CheckExtends(const KeyRing& trusted, const KeyRing& ring);

// Reads and parses a key ring file (NOT_FOUND when it is missing); errors
// name the file.
absl::StatusOr<KeyRing> ReadKeyRingFile(const std::string& path);

// An exclusive lock (fcntl) on "<key dir>/LOCK", held by whoever signs with
// the keys there for as long as it does, and by a rotation: a rotation never
// runs beside a server, nor two at once. Per process, as fcntl locks are.
class KeyDirLock {
 public:
  KeyDirLock() = default;
  KeyDirLock(KeyDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  KeyDirLock& operator=(KeyDirLock&& other) noexcept;
  ~KeyDirLock();

  // FAILED_PRECONDITION when another process holds it.
  static absl::StatusOr<KeyDirLock> Acquire(const std::string& key_path);

 private:
  int fd_ = -1;
};

// A signing key with the ring its checkpoints verify under, and the lock
// on their directory.
struct SigningKeys {
  SigningKey key;
  KeyRing ring;
  KeyDirLock lock;

  // The time to date a signature made at `now`: never before the current
  // key's period (a clock set back after a rotation would otherwise date it
  // where only the old key verifies).
  absl::Time SigningTime(absl::Time now) const {
    return now < ring.current().not_before ? ring.current().not_before : now;
  }
};

// Locks the key directory, then loads the signing key at `key_path` and its
// key ring. On first use (neither exists) makes both. Finishes or discards
// a rotation that a crash interrupted. A key with no ring is taken as the
// first key of a new ring only when "<key_path>.imported" exists (a key
// brought in for a new log, e.g. from a deployment's Secret; the marker is
// then removed). Fails, naming what to restore, when one of the two files
// is missing or the ring's last key is not the signing key: never replaces
// a ring, which is the only record of the earlier keys.
absl::StatusOr<SigningKeys> LoadSigningKeys(const std::string& key_path);

// Replaces the signing key at `key_path` by a new one that signs from `now`
// on, and appends the signed rotation to the key ring file. The old key
// file is replaced (its bytes may linger on disk and are in earlier
// backups); its public key stays in the ring. FAILED_PRECONDITION while a
// process signs with the keys (KeyDirLock). Crash-safe: the new key is
// written first (as "<key_path>.next"), then the ring, then the key is
// renamed into place; LoadSigningKeys finishes or discards an interrupted
// rotation. The new files get the old key file's owner.
absl::StatusOr<KeyRing> RotateSigningKey(const std::string& key_path, absl::Time now);

}  // namespace takt::crypto

#endif  // TAKT_LIBS_CRYPTO_KEYRING_H_
