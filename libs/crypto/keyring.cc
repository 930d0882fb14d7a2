#include "libs/crypto/keyring.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"

namespace takt::crypto {
namespace {

constexpr absl::string_view kPublicTag = "takt-ed25519-public-v1";
constexpr absl::string_view kRotationTag = "takt-ed25519-rotation-v1";

std::string FormatRotationTime(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

std::string RotationBytes(std::string_view previous_key, std::string_view next_key,
                          absl::string_view time_text) {
  return absl::StrCat("takt-key-rotation-v1\n", HexEncode(previous_key), "\n",
                      HexEncode(next_key), "\n", time_text);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return absl::NotFoundError(absl::StrCat("no file ", path));
    return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `text` to `path` through a temporary file, fsynced and renamed, so
// that a crash leaves the old file or the new one.
absl::Status WriteFileDurably(const std::string& path, std::string_view text, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot write ", path, ": ", std::strerror(errno)));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace

KeyRing::KeyRing(std::string public_key) {
  Key k;
  k.key_id = KeyIdOf(public_key);
  k.public_key = std::move(public_key);
  keys_.push_back(std::move(k));
}

absl::StatusOr<KeyRing> KeyRing::Parse(std::string_view input) {
  KeyRing ring;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(absl::string_view(input.data(), input.size()), '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    auto where = [&] { return absl::StrCat("key ring line ", line_number, ": "); };
    if (ring.keys_.empty()) {
      auto key = ParsePublicKeyText(std::string_view(line.data(), line.size()));
      if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat(where(), key.status().message()));
      ring = KeyRing(*key);
      continue;
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() != 4 || f[0] != kRotationTag) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "expected \"", kRotationTag, " <time> <next key> <signature>\""));
    }
    absl::Time at;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, f[1], &at, &error) ||
        FormatRotationTime(at) != f[1]) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "time \"", f[1], "\" is not an RFC 3339 UTC time as written by takt"));
    }
    std::string next, signature;
    if (!HexDecode(std::string_view(f[2].data(), f[2].size()), &next) ||
        next.size() != kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "next key: expected 64 hex characters"));
    }
    if (!HexDecode(std::string_view(f[3].data(), f[3].size()), &signature)) {
      return absl::InvalidArgumentError(absl::StrCat(where(), "signature is not hex"));
    }
    Key& previous = ring.keys_.back();
    if (at <= previous.not_before) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), "rotation at ", f[1], " is not later than the previous one"));
    }
    if (!VerifySignature(previous.public_key, RotationBytes(previous.public_key, next, f[1]),
                         signature)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where(), "rotation to key ", KeyIdOf(next), " is not signed by key ", previous.key_id));
    }
    previous.not_after = at;
    Key k;
    k.public_key = std::move(next);
    k.key_id = KeyIdOf(k.public_key);
    k.not_before = at;
    k.rotation_signature = std::move(signature);
    ring.keys_.push_back(std::move(k));
  }
  if (ring.keys_.empty()) return absl::InvalidArgumentError("key ring: no public key");
  return ring;
}

absl::Status KeyRing::Rotate(const SigningKey& current, const std::string& next_public_key,
                             absl::Time not_before) {
  Key& last = keys_.back();
  if (current.public_key() != last.public_key) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", current.key_id(), " is not the ring's current key ", last.key_id));
  }
  if (next_public_key.size() != kEd25519PublicKeySize) {
    return absl::InvalidArgumentError("next public key must be 32 bytes");
  }
  // Whole nanoseconds that survive formatting and parsing unchanged.
  not_before = absl::FromUnixNanos(absl::ToUnixNanos(not_before));
  if (not_before <= last.not_before) {
    return absl::FailedPreconditionError(absl::StrCat(
        "a rotation at ", FormatRotationTime(not_before), " is not later than the last one at ",
        FormatRotationTime(last.not_before)));
  }
  const std::string time_text = FormatRotationTime(not_before);
  Key k;
  k.public_key = next_public_key;
  k.key_id = KeyIdOf(next_public_key);
  k.not_before = not_before;
  k.rotation_signature = current.Sign(RotationBytes(last.public_key, next_public_key, time_text));
  last.not_after = not_before;
  keys_.push_back(std::move(k));
  return absl::OkStatus();
}

absl::Status KeyRing::Verify(std::string_view key_id, absl::Time signed_time,
                             std::string_view message, std::string_view signature) const {
  for (const Key& k : keys_) {
    if (k.key_id != key_id) continue;
    if (signed_time < k.not_before) {
      return absl::PermissionDeniedError(absl::StrCat(
          "key ", k.key_id, " signs from ", FormatRotationTime(k.not_before),
          " on; this signature is dated ", FormatRotationTime(signed_time)));
    }
    if (signed_time >= k.not_after) {
      return absl::PermissionDeniedError(absl::StrCat(
          "key ", k.key_id, " was retired at ", FormatRotationTime(k.not_after),
          "; this signature is dated ", FormatRotationTime(signed_time)));
    }
    if (!VerifySignature(k.public_key, message, signature)) {
      return absl::PermissionDeniedError(
          absl::StrCat("signature does not verify with key ", k.key_id));
    }
    return absl::OkStatus();
  }
  std::string known;
  for (const Key& k : keys_) absl::StrAppend(&known, known.empty() ? "" : ", ", k.key_id);
  return absl::PermissionDeniedError(
      absl::StrCat("key ", absl::string_view(key_id.data(), key_id.size()),
                   " is not in the trusted key ring (", known, ")"));
}

bool KeyRing::IsPrefixOf(const KeyRing& other) const {
  if (keys_.size() > other.keys_.size()) return false;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].public_key != other.keys_[i].public_key ||
        keys_[i].not_before != other.keys_[i].not_before) {
      return false;
    }
  }
  return true;
}

std::string KeyRing::Text() const {
  std::string out = absl::StrCat(kPublicTag, " ", HexEncode(keys_.front().public_key), "\n");
  for (size_t i = 1; i < keys_.size(); ++i) {
    absl::StrAppend(&out, kRotationTag, " ", FormatRotationTime(keys_[i].not_before), " ",
                    HexEncode(keys_[i].public_key), " ", HexEncode(keys_[i].rotation_signature),
                    "\n");
  }
  return out;
}

std::string KeyRingPathFor(const std::string& signing_key_path) {
  if (absl::EndsWith(signing_key_path, ".key")) {
    return signing_key_path.substr(0, signing_key_path.size() - 4) + ".pub";
  }
  return signing_key_path + ".pub";
}

absl::Status CheckExtends(const KeyRing& trusted, const KeyRing& ring) {
  if (trusted.IsPrefixOf(ring)) return absl::OkStatus();
  const auto& t = trusted.keys();
  const auto& r = ring.keys();
  for (size_t i = 0; i < t.size(); ++i) {
    if (i >= r.size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the key ring has ", r.size(), " keys, fewer than the ", t.size(), " of the trusted ring"));
    }
    if (t[i].public_key != r[i].public_key || t[i].not_before != r[i].not_before) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the key ring does not extend the trusted ring: key ", i + 1, " is ", r[i].key_id,
          " where the trusted ring has ", t[i].key_id,
          (t[i].public_key == r[i].public_key ? " with another rotation time" : ""),
          " (a continuation signed by a retired key, or another log's ring)"));
    }
  }
  return absl::FailedPreconditionError("the key ring does not extend the trusted ring");
}

absl::StatusOr<KeyRing> ReadKeyRingFile(const std::string& path) {
  TAKT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto ring = KeyRing::Parse(text);
  if (!ring.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", ring.status().message()));
  return ring;
}

KeyDirLock::~KeyDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

KeyDirLock& KeyDirLock::operator=(KeyDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

absl::StatusOr<KeyDirLock> KeyDirLock::Acquire(const std::string& key_path) {
  std::string dir = std::filesystem::path(key_path).parent_path().string();
  const std::string path = (dir.empty() ? std::string(".") : dir) + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct flock fl = {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd, F_SETLK, &fl) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EACCES || err == EAGAIN) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is locked by another process (a server signing with these keys): stop it first"));
    }
    return absl::InternalError(absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
  }
  KeyDirLock lock;
  lock.fd_ = fd;
  return lock;
}

namespace {

// A readable file's text; NOT_FOUND only when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadIfExists(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot look for ", path, ": ", ec.message()));
    return std::optional<std::string>();
  }
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  return std::optional<std::string>(ss.str());
}

absl::StatusOr<SigningKey> LoadExistingKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  return SigningKey::LoadOrCreate(path);
}

// Finishes or discards a rotation interrupted after "<key>.next" was
// created: the ring decides whether it took effect.
absl::Status RecoverRotation(const std::string& key_path, const std::string& ring_path) {
  const std::string next_path = key_path + ".next";
  TAKT_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadIfExists(ring_path));
  absl::StatusOr<KeyRing> ring = text ? KeyRing::Parse(*text)
                                      : absl::StatusOr<KeyRing>(absl::NotFoundError("no key ring"));
  absl::StatusOr<SigningKey> next = LoadExistingKey(next_path);
  if (next.ok() && ring.ok() && ring->current().public_key == next->public_key()) {
    if (std::rename(next_path.c_str(), key_path.c_str()) != 0) {
      return absl::InternalError(absl::StrCat("cannot finish the key rotation: rename ", next_path, ": ",
                                              std::strerror(errno)));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<SigningKey> key = LoadExistingKey(key_path);
  if (key.ok() && ring.ok() && ring->current().public_key == key->public_key()) {
    // The ring was never written: the rotation did not happen (a partial
    // "<key>.next" is possible here, the ring is written only after it).
    std::remove(next_path.c_str());
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "an interrupted key rotation (", next_path, ") cannot be finished: neither it nor ", key_path,
      " is the last key of ", ring_path, " (",
      !ring.ok() ? ring.status().message() : absl::string_view("another key"),
      "); restore the keys directory from a backup"));
}

// Gives `path` the owner of `like` (a rotation run as root on a directory
// the server's user owns must leave files that user can read).
void ChownLike(const std::string& path, const std::string& like) {
  struct stat st;
  if (::stat(like.c_str(), &st) == 0) (void)::chown(path.c_str(), st.st_uid, st.st_gid);
}

absl::StatusOr<SigningKeys> LoadLocked(const std::string& key_path) {
  const std::string ring_path = KeyRingPathFor(key_path);
  std::error_code ec;
  const bool had_key = std::filesystem::exists(key_path, ec);
  if (had_key && std::filesystem::exists(key_path + ".next", ec)) {
    TAKT_RETURN_IF_ERROR(RecoverRotation(key_path, ring_path));
  }
  TAKT_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadIfExists(ring_path));
  if (had_key) {
    TAKT_ASSIGN_OR_RETURN(SigningKey key, LoadExistingKey(key_path));
    if (!text) {
      // A key brought in for a new log (a deployment's Secret) says so.
      const std::string imported = key_path + ".imported";
      if (std::filesystem::exists(imported, ec)) {
        KeyRing ring(key.public_key());
        TAKT_RETURN_IF_ERROR(WriteFileDurably(ring_path, ring.Text(), 0644));
        std::remove(imported.c_str());
        return SigningKeys{std::move(key), std::move(ring), KeyDirLock()};
      }
      // The ring is the only record of the keys used before this one: never
      // replace it by a ring of one key (older checkpoints would stop
      // verifying and this key would seem valid at every time).
      return absl::FailedPreconditionError(absl::StrCat(
          ring_path, " is missing beside the signing key ", key_path,
          ": restore it from a backup (takt log public-key of the backup, or an auditor's copy); "
          "for a key brought in for a new log, create ", imported));
    }
    auto ring = KeyRing::Parse(*text);
    if (!ring.ok()) return absl::DataLossError(absl::StrCat(ring_path, ": ", ring.status().message()));
    if (ring->current().public_key != key.public_key()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the signing key ", key_path, " (key ", key.key_id(), ") is not the last key of ", ring_path,
          " (key ", ring->current().key_id,
          "): the two come from different points in time (a key file replaced by hand, or one file "
          "restored without the other); restore both from the same backup"));
    }
    return SigningKeys{std::move(key), *std::move(ring), KeyDirLock()};
  }
  if (text) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the signing key ", key_path, " is missing beside its key ring ", ring_path,
        ": restore it from a backup (a new key would sign nothing the ring lets auditors verify)"));
  }
  TAKT_ASSIGN_OR_RETURN(SigningKey key, SigningKey::LoadOrCreate(key_path));
  KeyRing ring(key.public_key());
  TAKT_RETURN_IF_ERROR(WriteFileDurably(ring_path, ring.Text(), 0644));
  std::remove((key_path + ".imported").c_str());
  return SigningKeys{std::move(key), std::move(ring), KeyDirLock()};
}

}  // namespace

absl::StatusOr<SigningKeys> LoadSigningKeys(const std::string& key_path) {
  TAKT_ASSIGN_OR_RETURN(KeyDirLock lock, KeyDirLock::Acquire(key_path));
  TAKT_ASSIGN_OR_RETURN(SigningKeys keys, LoadLocked(key_path));
  keys.lock = std::move(lock);
  return keys;
}

absl::StatusOr<KeyRing> RotateSigningKey(const std::string& key_path, absl::Time now) {
  std::error_code ec;
  if (!std::filesystem::exists(key_path, ec)) {
    return absl::NotFoundError(absl::StrCat("no signing key at ", key_path));
  }
  TAKT_ASSIGN_OR_RETURN(KeyDirLock lock, KeyDirLock::Acquire(key_path));
  TAKT_ASSIGN_OR_RETURN(SigningKeys current, LoadLocked(key_path));
  const std::string next_path = key_path + ".next";
  const std::string ring_path = KeyRingPathFor(key_path);
  std::remove(next_path.c_str());
  TAKT_ASSIGN_OR_RETURN(SigningKey next, SigningKey::LoadOrCreate(next_path));
  ChownLike(next_path, key_path);
  KeyRing ring = current.ring;
  TAKT_RETURN_IF_ERROR(ring.Rotate(current.key, next.public_key(), now));
  TAKT_RETURN_IF_ERROR(WriteFileDurably(ring_path, ring.Text(), 0644));
  ChownLike(ring_path, key_path);
  if (std::rename(next_path.c_str(), key_path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", next_path, " to ", key_path, ": ",
                                            std::strerror(errno),
                                            " (the next start finishes the rotation)"));
  }
  return ring;
}

}  // namespace takt::crypto
