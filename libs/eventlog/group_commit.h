// File: group_commit.h
// -----------------------------------------------------------------------------
// The committer both backends share: callers enqueue prepared appends and
// block; one thread takes everything waiting, plans it as one WriteGroup and
// hands it to the backend to make durable in one write (RocksDB WriteBatch +
// fsync, or one Kafka transaction), then wakes the callers.
//
// With `CallerCommits::kWhenIdle`, a caller that finds nobody committing and
// nothing queued runs the commit function itself, on its own thread: a lone
// appender then pays no thread hand-off on its way to the disk (the path a
// single PostgreSQL backend takes for its own commit). Commits stay one at a
// time either way.
#ifndef TAKT_LIBS_EVENTLOG_GROUP_COMMIT_H_
#define TAKT_LIBS_EVENTLOG_GROUP_COMMIT_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "libs/eventlog/sequencer.h"

namespace takt::eventlog {

// One caller's request, owned by the caller's stack frame.
struct PendingAppend {
  PreparedAppend prepared;
  bool checkpoint_all = false;  // a CheckpointAll() request, no events
  // OK until planning or writing says otherwise, so that a batch failed
  // before planning still gets the batch's error.
  absl::StatusOr<AppendResult> result = AppendResult{};
  absl::Notification done;
};

// takt::eventlog::CommitQueue
class CommitQueue {
 public:
  using CommitFn = std::function<void(std::vector<PendingAppend*>&)>;
  enum class CallerCommits { kNever, kWhenIdle };

  // `commit` runs on the committer thread (or, with kWhenIdle, on a lone
  // caller's thread), one call at a time; it must set every result. Groups
  // stop growing at `max_group_bytes` of prepared events. At most
  // `max_queued_bytes` may wait; beyond that appends fail fast with
  // UNAVAILABLE instead of growing memory.
  CommitQueue(CommitFn commit, size_t max_group_bytes, size_t max_queued_bytes,
              CallerCommits caller_commits = CallerCommits::kNever);
  ~CommitQueue();  // drains the queue, then stops

  // Enqueues `p` (or commits it here, see kWhenIdle) and waits until it is
  // committed or failed.
  absl::StatusOr<AppendResult> Submit(PendingAppend* p);

  // Prepares `request` on the caller's thread, then submits it.
  absl::StatusOr<AppendResult> Append(AppendRequest request);
  // Prepares `request` on the caller's thread and queues it without waiting
  // (never committed on the caller's thread): EventLog::StartAppend.
  std::unique_ptr<AppendInProgress> Start(AppendRequest request);
  // Submits a request to checkpoint every stream head that moved.
  absl::Status CheckpointAll();

  // For the commit function only: moves what has been queued since its batch
  // was taken into `batch` (up to the group size), so that a backend that
  // waited for its disk can commit a fuller group.
  void TakeMore(std::vector<PendingAppend*>& batch, size_t batch_bytes);

 private:
  void Loop();
  // Queues `p`, or with kWhenIdle and an idle committer claims the commit
  // for the caller (`*commit_here`). UNAVAILABLE when closing or saturated.
  absl::Status Enqueue(PendingAppend* p, bool may_commit_here, bool* commit_here);

  const CommitFn commit_;
  const size_t max_group_bytes_;
  const size_t max_queued_bytes_;
  const CallerCommits caller_commits_;
  absl::Mutex mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(mu_);
  bool committing_ ABSL_GUARDED_BY(mu_) = false;  // a commit function is running
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Plans each request of `batch` into `group`, setting per-request results
// (errors stay with their request). Returns true if a CheckpointAll() was
// among them.
bool PlanBatch(const std::vector<PendingAppend*>& batch, WriteGroup& group);

// Completes a batch: a non-OK `write_status` replaces every planned success
// (nothing of the group was acknowledged); then wakes every caller.
void CompleteBatch(const std::vector<PendingAppend*>& batch, const absl::Status& write_status);

}  // namespace takt::eventlog

#endif  // TAKT_LIBS_EVENTLOG_GROUP_COMMIT_H_
