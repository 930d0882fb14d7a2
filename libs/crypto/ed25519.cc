#include "libs/crypto/ed25519.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/crypto/sha256.h"

namespace takt::crypto {
namespace {

constexpr absl::string_view kSecretTag = "takt-ed25519-secret-v1";
constexpr absl::string_view kPublicTag = "takt-ed25519-public-v1";

bool EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

std::string KeyIdOf(std::string_view public_key) {
  return HexEncode(Sha256().Digest(public_key).substr(0, 8));
}

absl::StatusOr<SigningKey> SigningKey::FromSeed(std::string_view seed) {
  if (!EnsureSodium()) return absl::InternalError("libsodium failed to initialise");
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError("Ed25519 seed must be 32 bytes");
  }
  SigningKey key;
  key.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  key.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(key.public_key_.data()),
                           reinterpret_cast<unsigned char*>(key.secret_key_.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  key.key_id_ = KeyIdOf(key.public_key_);
  return key;
}

absl::StatusOr<SigningKey> SigningKey::LoadOrCreate(const std::string& path) {
  if (!EnsureSodium()) return absl::InternalError("libsodium failed to initialise");
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text(absl::StripAsciiWhitespace(ss.str()));
    std::string seed;
    if (text.size() != kSecretTag.size() + 1 + 64 || !absl::StartsWith(text, kSecretTag) ||
        !HexDecode(std::string_view(text).substr(kSecretTag.size() + 1), &seed)) {
      return absl::DataLossError(absl::StrCat("signing key file ", path,
                                              " is malformed; refusing to replace it"));
    }
    return FromSeed(seed);
  }
  std::string seed(crypto_sign_SEEDBYTES, '\0');
  randombytes_buf(seed.data(), seed.size());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create signing key file ", path, ": ", std::strerror(errno)));
  }
  std::string line = absl::StrCat(kSecretTag, " ", HexEncode(seed), "\n");
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(line.data(), line.size());
  if (!ok) return absl::InternalError(absl::StrCat("cannot write signing key file ", path));
  auto key = FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

std::string SigningKey::Sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_key_.data()));
  return sig;
}

std::string SigningKey::PublicKeyText() const {
  return absl::StrCat(kPublicTag, " ", HexEncode(public_key_), "\n");
}

bool VerifySignature(std::string_view public_key, std::string_view message,
                     std::string_view signature) {
  if (!EnsureSodium()) return false;
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES || signature.size() != crypto_sign_BYTES) {
    return false;
  }
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) == 0;
}

absl::StatusOr<std::string> ParsePublicKeyText(std::string_view input) {
  absl::string_view text = absl::StripAsciiWhitespace(absl::string_view(input.data(), input.size()));
  if (text.substr(0, kPublicTag.size()) == kPublicTag) {
    text = absl::StripAsciiWhitespace(text.substr(kPublicTag.size()));
  }
  std::string key;
  if (!HexDecode(std::string_view(text.data(), text.size()), &key) || key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("public key: expected 64 hex characters");
  }
  return key;
}

}  // namespace takt::crypto
