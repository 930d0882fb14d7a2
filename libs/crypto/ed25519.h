// File: ed25519.h
// -----------------------------------------------------------------------------
// Ed25519 signing keys for checkpoints (libsodium). The secret key lives in a
// file (mode 0600) created on first start; the public key can be exported so
// that auditors verify checkpoints without access to the server.
#ifndef TAKT_LIBS_CRYPTO_ED25519_H_
#define TAKT_LIBS_CRYPTO_ED25519_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace takt::crypto {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// takt::crypto::SigningKey
//
// Key file format: one line "takt-ed25519-secret-v1 <hex of 32-byte seed>".
// Public key file format: "takt-ed25519-public-v1 <hex of 32-byte key>".
class SigningKey {
 public:
  // Loads the key at `path`, or creates a new one there (directories must
  // exist) when the file is missing. A malformed file is an error, never
  // silently replaced.
  static absl::StatusOr<SigningKey> LoadOrCreate(const std::string& path);
  // Makes a key from a 32-byte seed (tests and tools).
  static absl::StatusOr<SigningKey> FromSeed(std::string_view seed);

  // 64-byte detached signature of `message`.
  std::string Sign(std::string_view message) const;

  const std::string& public_key() const { return public_key_; }
  // First 8 bytes of SHA-256(public key), hex: names the key in checkpoints.
  const std::string& key_id() const { return key_id_; }
  // The public key file text (see format above).
  std::string PublicKeyText() const;

 private:
  std::string secret_key_;  // 64 bytes (libsodium's seed || public key form)
  std::string public_key_;  // 32 bytes
  std::string key_id_;
};

// Returns true iff `signature` is a valid Ed25519 signature of `message`.
bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// Parses a public key file's text (or a bare 64-character hex string).
absl::StatusOr<std::string> ParsePublicKeyText(std::string_view text);

// The key id for a public key.
std::string KeyIdOf(std::string_view public_key);

}  // namespace takt::crypto

#endif  // TAKT_LIBS_CRYPTO_ED25519_H_
