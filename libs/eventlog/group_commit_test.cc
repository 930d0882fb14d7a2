#include "libs/eventlog/group_commit.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace takt::eventlog {
namespace {

// A commit function that records what it saw and succeeds every request,
// each with its own head so that a lost or doubled request shows.
struct Recorder {
  absl::Mutex mu;
  std::vector<std::thread::id> threads ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> heads ABSL_GUARDED_BY(mu);
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  absl::Duration hold = absl::ZeroDuration();

  CommitQueue::CommitFn Fn() {
    return [this](std::vector<PendingAppend*>& batch) {
      if (running.fetch_add(1) != 0) overlaps.fetch_add(1);
      if (hold > absl::ZeroDuration()) absl::SleepFor(hold);
      {
        absl::MutexLock lock(&mu);
        threads.push_back(std::this_thread::get_id());
        for (PendingAppend* p : batch) {
          AppendResult r;
          r.head_sequence = p->prepared.expected_sequence;
          heads.push_back(r.head_sequence);
          p->result = r;
        }
      }
      running.fetch_sub(1);
      CompleteBatch(batch, absl::OkStatus());
    };
  }
};

absl::StatusOr<AppendResult> SubmitOne(CommitQueue& q, int64_t tag) {
  PendingAppend p;
  p.prepared.expected_sequence = tag;
  p.prepared.bytes = 100;
  return q.Submit(&p);
}

TEST(CommitQueueTest, ALoneCallerCommitsOnItsOwnThreadWhenAllowed) {
  Recorder rec;
  {
    CommitQueue q(rec.Fn(), 1 << 20, 1 << 20, CommitQueue::CallerCommits::kWhenIdle);
    auto r = SubmitOne(q, 7);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->head_sequence, 7u);
  }
  absl::MutexLock lock(&rec.mu);
  ASSERT_EQ(rec.threads.size(), 1u);
  EXPECT_EQ(rec.threads[0], std::this_thread::get_id());
}

TEST(CommitQueueTest, WithoutCallerCommitsTheCommitterThreadCommits) {
  Recorder rec;
  {
    CommitQueue q(rec.Fn(), 1 << 20, 1 << 20);
    ASSERT_TRUE(SubmitOne(q, 1).ok());
  }
  absl::MutexLock lock(&rec.mu);
  ASSERT_EQ(rec.threads.size(), 1u);
  EXPECT_NE(rec.threads[0], std::this_thread::get_id());
}

// Callers that commit themselves and the committer thread never run the
// commit function at the same time, and every request is answered once
// with its own result.
TEST(CommitQueueTest, CallerCommitsAndTheCommitterNeverOverlapAndLoseNothing) {
  Recorder rec;
  rec.hold = absl::Microseconds(200);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::atomic<int> wrong{0};
  {
    CommitQueue q(rec.Fn(), 1 << 20, 1 << 20, CommitQueue::CallerCommits::kWhenIdle);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const int64_t tag = t * kPerThread + i + 1;
          auto r = SubmitOne(q, tag);
          if (!r.ok() || r->head_sequence != static_cast<uint64_t>(tag)) wrong.fetch_add(1);
          // Now and then go quiet, so that callers also find the queue idle.
          if (i % 16 == 0) absl::SleepFor(absl::Milliseconds(1));
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(rec.overlaps.load(), 0);
  absl::MutexLock lock(&rec.mu);
  std::vector<uint64_t> heads = rec.heads;
  std::sort(heads.begin(), heads.end());
  ASSERT_EQ(heads.size(), static_cast<size_t>(kThreads * kPerThread));
  for (size_t i = 0; i < heads.size(); ++i) EXPECT_EQ(heads[i], i + 1);
  // Callers committed on their own threads, not only the committer.
  std::set<std::thread::id> committers(rec.threads.begin(), rec.threads.end());
  EXPECT_GT(committers.size(), 1u);
}

}  // namespace
}  // namespace takt::eventlog
