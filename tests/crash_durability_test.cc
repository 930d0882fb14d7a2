// Crash durability of the embedded log: a child process appends with
// acknowledgements and is killed with SIGKILL at random moments, 25 times
// over the same data directory. After each kill the log is reopened and:
// every acknowledged batch is present exactly once, at the acknowledged
// sequences, in order; no batch is partly visible; every chain verifies.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/testing/temp_dir.h"

namespace takt::eventlog {
namespace {

struct Ack {
  std::string facility;
  uint64_t first = 0;
  int count = 0;
  std::string batch;
};

// Runs the child for `run_for`, then SIGKILLs it; returns its acks.
std::vector<Ack> RunAndKill(const std::string& dir, int run, absl::Duration run_for) {
  int pipefd[2];
  EXPECT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    close(pipefd[0]);
    close(pipefd[1]);
    std::string run_id = "r" + std::to_string(run);
    execl(TAKT_CRASH_CHILD, TAKT_CRASH_CHILD, dir.c_str(), run_id.c_str(), nullptr);
    _exit(127);
  }
  close(pipefd[1]);
  std::string output;
  absl::Mutex mu;
  std::thread reader([&] {
    char buf[65536];
    ssize_t n;
    while ((n = read(pipefd[0], buf, sizeof buf)) > 0) {
      absl::MutexLock lock(&mu);
      output.append(buf, static_cast<size_t>(n));
    }
  });
  // The kill timer starts once the child has opened the log (slow under
  // sanitizers), so every run is killed while appending.
  {
    absl::MutexLock lock(&mu);
    auto ready = [&]() { return output.find("READY\n") != std::string::npos; };
    mu.AwaitWithTimeout(absl::Condition(&ready), absl::Seconds(60));
  }
  absl::SleepFor(run_for);
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  reader.join();
  close(pipefd[0]);
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child stopped by itself (status " << status << ")";
  std::vector<Ack> acks;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() != 5 || f[0] != "ACK") continue;  // the last line may be cut
    acks.push_back(Ack{f[1], std::stoull(f[2]), std::stoi(f[3]), f[4]});
  }
  return acks;
}

TEST(CrashDurabilityTest, AcknowledgedEventsSurviveSigkillExactlyOnce) {
  testing::TempDir dir;
  std::mt19937 rng(20261126);
  std::map<std::string, Ack> acked;  // batch id -> ack, over all runs
  size_t total_events_checked = 0;
  for (int run = 0; run < 25; ++run) {
    // 150 ms to 600 ms: long enough to open and append, killed mid-flight.
    absl::Duration run_for = absl::Milliseconds(150 + static_cast<int>(rng() % 450));
    std::vector<Ack> acks = RunAndKill(dir.path(), run, run_for);
    ASSERT_FALSE(acks.empty()) << "run " << run << " acknowledged nothing";
    for (const Ack& a : acks) ASSERT_TRUE(acked.emplace(a.batch, a).second) << a.batch;

    EmbeddedLogOptions options;
    options.data_dir = dir.path();
    auto log = OpenEmbeddedLog(options);
    ASSERT_TRUE(log.ok()) << "run " << run << ": " << log.status();
    auto heads = (*log)->Heads("scheduling");
    ASSERT_TRUE(heads.ok());
    // Every stored event belongs to a whole batch, and batches appear once.
    std::map<std::string, std::pair<std::string, uint64_t>> stored;  // batch -> (facility, first)
    total_events_checked = 0;
    for (const StreamHead& h : *heads) {
      auto events = (*log)->ReadStream(h.stream, 1, 10'000'000);
      ASSERT_TRUE(events.ok()) << events.status();
      ASSERT_EQ(events->size(), h.sequence);
      total_events_checked += events->size();
      for (size_t i = 0; i < events->size();) {
        const Envelope& e = (*events)[i].envelope;
        std::vector<std::string> parts = absl::StrSplit(e.payload(), '|');
        ASSERT_GE(parts.size(), 3u);
        const int count = std::stoi(parts[2]);
        ASSERT_EQ(parts[1], "0") << "batch " << parts[0] << " starts mid-way at " << e.sequence();
        ASSERT_LE(i + count, events->size()) << "batch " << parts[0] << " is cut short";
        for (int k = 0; k < count; ++k) {
          const Envelope& ek = (*events)[i + k].envelope;
          ASSERT_EQ(ek.request_id(), parts[0]);
          ASSERT_EQ(ek.payload().substr(0, parts[0].size() + 1 + std::to_string(k).size() + 1),
                    parts[0] + "|" + std::to_string(k) + "|");
        }
        ASSERT_TRUE(stored.emplace(parts[0], std::make_pair(h.stream.facility, e.sequence())).second)
            << "batch " << parts[0] << " stored twice";
        i += count;
      }
    }
    // Every acknowledged batch is there, where it was acknowledged.
    for (const auto& [batch, ack] : acked) {
      auto it = stored.find(batch);
      ASSERT_NE(it, stored.end()) << "acknowledged batch " << batch << " was lost";
      EXPECT_EQ(it->second.first, ack.facility);
      EXPECT_EQ(it->second.second, ack.first) << batch;
    }
    auto report = (*log)->Verify({});
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(report->ok()) << "run " << run << ": " << report->ToText();
  }
  std::printf("25 kills: %zu acknowledged batches, %zu events checked after the last\n",
              acked.size(), total_events_checked);
}

}  // namespace
}  // namespace takt::eventlog
