// File: embedded_log.h
// -----------------------------------------------------------------------------
// The embedded event log: RocksDB in a data directory, one process, no other
// server. It is the default backend of `takt serve`.
//
// Durability: an append is acknowledged only after its WriteBatch is in the
// WAL and fdatasync'ed. Appends from all threads go through a two-stage
// pipeline: a planner takes every waiting request into one group (sequences,
// hashes, checkpoints, one WriteBatch) while a writer thread makes the
// previous large group durable with one synced write (group commit), so
// concurrent appenders share fsyncs and planning overlaps disk time. Small
// groups wait for the disk to go idle and are written by the planner itself;
// a lone appender plans and writes on its own thread (no hand-off). A crash
// at any point leaves each batch either fully present or absent.
//
// Layout (column families; keys use \0 separators, sequences big-endian):
//   events       context \0 facility \0 seq(8)   -> chunk of records (record.h)
//                (seq = the chunk's first sequence; a chunk holds one stream's
//                consecutive events of one group commit, up to 1024)
//   checkpoints  context \0 facility \0 seq(8)   -> Checkpoint
//   dedup        context \0 facility \0 key      -> DedupEntry
//   heads        context \0 facility             -> seq(8) hash(32) checkpointed(8)
// The signing key is <data_dir>/keys/checkpoint.key (0600), its public key
// <data_dir>/keys/checkpoint.pub.
#ifndef TAKT_LIBS_EVENTLOG_EMBEDDED_LOG_H_
#define TAKT_LIBS_EVENTLOG_EMBEDDED_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/eventlog/event_log.h"

namespace takt::eventlog {

struct EmbeddedLogOptions {
  std::string data_dir;
  // Signing key file; default <data_dir>/keys/checkpoint.key.
  std::string signing_key_path;
  // A signed checkpoint every this many events per stream (and on close).
  uint64_t checkpoint_interval = 1024;
  // Threads for Verify().
  int verify_threads = 2;
};

// Opens (creating if needed) the embedded log in options.data_dir.
absl::StatusOr<std::unique_ptr<EventLog>> OpenEmbeddedLog(const EmbeddedLogOptions& options);

// Verifies an embedded log directory offline, read-only (a running server
// may hold it open). Uses options.keys, else the key ring <data_dir>/keys/checkpoint.pub.
absl::StatusOr<VerifyReport> VerifyEmbeddedLogDirectory(const std::string& data_dir,
                                                        const VerifyOptions& options,
                                                        int threads = 2);

// The latest signed time of any checkpoint in the embedded log at
// `data_dir`, read-only (InfinitePast when it has none, NOT_FOUND when
// there is no log): a key rotation must start after it.
absl::StatusOr<absl::Time> NewestCheckpointTime(const std::string& data_dir);

// Rotates the signing key of a stopped embedded log's data directory
// (crypto::RotateSigningKey) from `now`, or from just after the newest
// checkpoint when the log holds one dated later (a clock behind must not
// retire the old key before checkpoints it signed).
absl::StatusOr<crypto::KeyRing> RotateEmbeddedLogKey(const std::string& data_dir, absl::Time now);

// Key helpers, exposed for tools and tamper tests.
std::string EmbeddedStreamPrefix(const StreamId& stream);
std::string EmbeddedEventKey(const StreamId& stream, uint64_t sequence);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_EMBEDDED_LOG_H_
