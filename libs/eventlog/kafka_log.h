// File: kafka_log.h
// -----------------------------------------------------------------------------
// The Kafka event log (librdkafka). Topic takt.<context>.v1 per context;
// a facility's stream lives in one partition (FNV-1a of the facility id
// modulo the partition count), keyed by facility, in order.
//
// One owner writes a set of contexts through a transactional, idempotent
// producer (acks=all, transactional.id = "takt-<owner_id>"): a restarted
// owner fences the old one. Each group commit is one transaction holding the
// events and any due checkpoints; the append is acknowledged only after
// commit_transaction() succeeds. Readers use isolation.level=read_committed.
//
// Failure handling:
//   * broker unavailable: appends fail with UNAVAILABLE within
//     `append_timeout`; nothing is acknowledged that was not committed; the
//     next append reconnects.
//   * abortable transaction error: abort, fail the group with UNAVAILABLE.
//   * indeterminate commit (timeout): the producer is dropped and re-created
//     and the owner re-reads the log to learn what was committed; callers get
//     UNAVAILABLE and retry with the same request id (idempotent).
//   * fenced by a newer owner: every later append fails with
//     FAILED_PRECONDITION.
// On open the owner reads its partitions to rebuild stream heads, the dedup
// index and a sparse sequence->offset index.
#ifndef TAKT_LIBS_EVENTLOG_KAFKA_LOG_H_
#define TAKT_LIBS_EVENTLOG_KAFKA_LOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/eventlog/event_log.h"

namespace takt::eventlog {

struct KafkaLogOptions {
  std::string brokers;                 // bootstrap.servers
  std::string owner_id;                // transactional.id = "takt-<owner_id>"
  std::vector<std::string> contexts;   // contexts this owner writes
  // Contexts this process only reads (Subscribe, Verify), e.g. the rollups
  // process reading what the scheduling process writes.
  std::vector<std::string> read_contexts;
  std::string signing_key_path;        // created on first use
  uint64_t checkpoint_interval = 1024;
  // Upper bound on how long an append may take when Kafka misbehaves.
  absl::Duration append_timeout = absl::Seconds(10);
  // Extra librdkafka properties for every client (tests tune latency here).
  std::map<std::string, std::string> client_config;
};

std::string KafkaTopicFor(std::string_view context);
int32_t KafkaPartitionFor(std::string_view facility, int32_t partitions);

absl::StatusOr<std::unique_ptr<EventLog>> OpenKafkaLog(const KafkaLogOptions& options);

// Errors librdkafka reported on any of this process's Kafka clients
// (producers and consumers: brokers unreachable, authentication, transport)
// and failed reads, for metrics (takt_kafka_client_errors_total). Each is
// also logged as a warning.
const stats::Counter& KafkaClientErrors();

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_KAFKA_LOG_H_
