// File: health.h
// -----------------------------------------------------------------------------
// A RocksDB store's write health, for metrics and alerts (no RocksDB headers:
// the event log's interface and the metrics library include it).
#ifndef TAKT_LIBS_STORAGE_HEALTH_H_
#define TAKT_LIBS_STORAGE_HEALTH_H_

#include <cstdint>

namespace takt::storage {

struct StorageHealth {
  uint64_t pending_compaction_bytes = 0;  // compaction still to rewrite
  uint64_t delayed_write_rate = 0;        // bytes/s writers are slowed to (0: not slowed)
  bool write_stopped = false;             // a write stall
};

}  // namespace takt::storage

#endif  // TAKT_LIBS_STORAGE_HEALTH_H_
