#include "libs/eventlog/group_commit.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"

namespace takt::eventlog {

CommitQueue::CommitQueue(CommitFn commit, size_t max_group_bytes, size_t max_queued_bytes,
                         CallerCommits caller_commits)
    : commit_(std::move(commit)),
      max_group_bytes_(max_group_bytes),
      max_queued_bytes_(max_queued_bytes),
      caller_commits_(caller_commits) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "takt-log-plan");
    Loop();
  });
}

CommitQueue::~CommitQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

absl::Status CommitQueue::Enqueue(PendingAppend* p, bool may_commit_here, bool* commit_here) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("event log is closing");
  if (may_commit_here && !committing_ && queue_.empty()) {
    committing_ = true;  // the committer thread waits until this commit is done
    *commit_here = true;
    return absl::OkStatus();
  }
  if (queued_bytes_ > 0 && queued_bytes_ + p->prepared.bytes > max_queued_bytes_) {
    return absl::UnavailableError(absl::StrCat(
        "event log is saturated (", queued_bytes_, " bytes waiting to be made durable); retry"));
  }
  queued_bytes_ += p->prepared.bytes;
  queue_.push_back(p);
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> CommitQueue::Submit(PendingAppend* p) {
  bool commit_here = false;
  if (absl::Status s = Enqueue(p, caller_commits_ == CallerCommits::kWhenIdle, &commit_here); !s.ok()) {
    return s;
  }
  if (commit_here) {
    std::vector<PendingAppend*> batch = {p};
    commit_(batch);  // may take more from the queue (TakeMore)
    absl::MutexLock lock(&mu_);
    committing_ = false;
  }
  p->done.WaitForNotification();
  return std::move(p->result);
}

absl::StatusOr<AppendResult> CommitQueue::Append(AppendRequest request) {
  absl::StatusOr<PreparedAppend> prepared = PrepareAppend(std::move(request), absl::Now());
  if (!prepared.ok()) return prepared.status();
  PendingAppend p;
  p.prepared = std::move(*prepared);
  return Submit(&p);
}

namespace {

// A queued append owned by its starter; the committer holds a pointer to
// `pending` until it notifies `done`, so destruction waits for that.
class QueuedAppend final : public AppendInProgress {
 public:
  ~QueuedAppend() override {
    if (queued_) pending_.done.WaitForNotification();
  }
  absl::StatusOr<AppendResult> Wait() override {
    if (queued_) pending_.done.WaitForNotification();
    return std::move(pending_.result);
  }

  PendingAppend& pending() { return pending_; }
  void set_queued() { queued_ = true; }

 private:
  PendingAppend pending_;
  bool queued_ = false;
};

}  // namespace

std::unique_ptr<AppendInProgress> CommitQueue::Start(AppendRequest request) {
  absl::StatusOr<PreparedAppend> prepared = PrepareAppend(std::move(request), absl::Now());
  if (!prepared.ok()) return std::make_unique<AppendDone>(prepared.status());
  auto queued = std::make_unique<QueuedAppend>();
  queued->pending().prepared = std::move(*prepared);
  bool commit_here = false;
  if (absl::Status s = Enqueue(&queued->pending(), /*may_commit_here=*/false, &commit_here); !s.ok()) {
    return std::make_unique<AppendDone>(s);
  }
  queued->set_queued();
  return queued;
}

absl::Status CommitQueue::CheckpointAll() {
  PendingAppend p;
  p.checkpoint_all = true;
  return Submit(&p).status();
}

void CommitQueue::Loop() {
  for (;;) {
    std::vector<PendingAppend*> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return (!queue_.empty() && !committing_) || (stopping_ && !committing_);
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, drained
      size_t bytes = 0;
      while (!queue_.empty() && (batch.empty() || bytes < max_group_bytes_)) {
        bytes += queue_.front()->prepared.bytes;
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      queued_bytes_ -= bytes;
      committing_ = true;
    }
    commit_(batch);
    absl::MutexLock lock(&mu_);
    committing_ = false;
  }
}

void CommitQueue::TakeMore(std::vector<PendingAppend*>& batch, size_t batch_bytes) {
  absl::MutexLock lock(&mu_);
  size_t taken = 0;
  while (!queue_.empty() && batch_bytes + taken < max_group_bytes_) {
    taken += queue_.front()->prepared.bytes;
    batch.push_back(queue_.front());
    queue_.pop_front();
  }
  queued_bytes_ -= taken;
}

bool PlanBatch(const std::vector<PendingAppend*>& batch, WriteGroup& group) {
  bool checkpoint_all = false;
  for (PendingAppend* p : batch) {
    if (p->checkpoint_all) {
      checkpoint_all = true;
      p->result = AppendResult{};
      continue;
    }
    p->result = group.Plan(p->prepared);
  }
  return checkpoint_all;
}

void CompleteBatch(const std::vector<PendingAppend*>& batch, const absl::Status& write_status) {
  for (PendingAppend* p : batch) {
    if (!write_status.ok() && p->result.ok()) p->result = write_status;
    p->done.Notify();
  }
}

}  // namespace takt::eventlog
