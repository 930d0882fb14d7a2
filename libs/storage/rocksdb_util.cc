#include "libs/storage/rocksdb_util.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/utilities/checkpoint.h"

namespace takt::storage {

RocksHandle::~RocksHandle() {
  if (db) {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close();
  }
}

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(std::string(what), ": ", s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

absl::StatusOr<std::unique_ptr<RocksHandle>> OpenRocks(
    const rocksdb::Options& options, const std::string& path,
    const std::vector<rocksdb::ColumnFamilyDescriptor>& families, bool read_only) {
  auto out = std::make_unique<RocksHandle>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      read_only ? rocksdb::DB::OpenForReadOnly(options, path, families, &out->handles, &raw)
                : rocksdb::DB::Open(options, path, families, &out->handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is in use by another process: ", s.ToString()));
    }
    return FromRocks(s, absl::StrCat("opening ", path));
  }
  out->db.reset(raw);
  return out;
}

absl::Status CheckpointRocks(rocksdb::DB* db, const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  if (absl::Status s = FromRocks(rocksdb::Checkpoint::Create(db, &raw), "preparing a checkpoint"); !s.ok()) {
    return s;
  }
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flush first when the write-ahead log is large: the copy then holds
  // table files (linked), not a long log to copy and replay.
  return FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/64 << 20), "writing a checkpoint");
}

StorageHealth ReadStorageHealth(rocksdb::DB* db) {
  StorageHealth h;
  uint64_t v = 0;
  if (db->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
    h.pending_compaction_bytes = v;
  }
  if (db->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &v)) h.delayed_write_rate = v;
  if (db->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &v)) h.write_stopped = v != 0;
  return h;
}

}  // namespace takt::storage
