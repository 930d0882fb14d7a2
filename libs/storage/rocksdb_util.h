// File: rocksdb_util.h
// -----------------------------------------------------------------------------
// What every RocksDB user in Takt shares: a handle that owns the DB and its
// column families, the mapping of rocksdb::Status to absl::Status, and the
// big-endian integer keys that keep numeric order in byte order.
#ifndef TAKT_LIBS_STORAGE_ROCKSDB_UTIL_H_
#define TAKT_LIBS_STORAGE_ROCKSDB_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/storage/health.h"
#include "rocksdb/db.h"

namespace takt::storage {

// Owns a DB and its column-family handles; closes them in order.
struct RocksHandle {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // in descriptor order

  RocksHandle() = default;
  RocksHandle(const RocksHandle&) = delete;
  RocksHandle& operator=(const RocksHandle&) = delete;
  ~RocksHandle();
};

// Opens `path` with the given column families (read-only if asked). A
// database locked by another process is FAILED_PRECONDITION.
absl::StatusOr<std::unique_ptr<RocksHandle>> OpenRocks(
    const rocksdb::Options& options, const std::string& path,
    const std::vector<rocksdb::ColumnFamilyDescriptor>& families, bool read_only);

// A consistent copy of the open `db` in `dir` (which must not exist): a
// RocksDB checkpoint, hard links of its table files where `dir` is on the
// same filesystem, copies otherwise; the writers keep going meanwhile.
absl::Status CheckpointRocks(rocksdb::DB* db, const std::string& dir);

// Pending compaction, write slow-down and stall of `db`, all column families.
StorageHealth ReadStorageHealth(rocksdb::DB* db);

// Corruption -> DATA_LOSS; I/O errors, busy, try-again -> UNAVAILABLE;
// anything else -> INTERNAL. `what` says what was being done.
absl::Status FromRocks(const rocksdb::Status& s, std::string_view what);

inline void PutBigEndian64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// Reads 8 big-endian bytes; `s` must hold at least 8.
inline uint64_t GetBigEndian64(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

}  // namespace takt::storage

#endif  // TAKT_LIBS_STORAGE_ROCKSDB_UTIL_H_
