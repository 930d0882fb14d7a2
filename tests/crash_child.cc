// Child process for crash_durability_test: appends batches to the embedded
// log from several threads and prints one line per acknowledged append,
//   ACK <facility> <first_sequence> <count> <batch_id>
// until it is killed. Usage: takt_crash_child DATA_DIR RUN_ID
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/sample_events.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR RUN_ID\n", argv[0]);
    return 2;
  }
  takt::eventlog::EmbeddedLogOptions options;
  options.data_dir = argv[1];
  options.checkpoint_interval = 64;
  auto log = takt::eventlog::OpenEmbeddedLog(options);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", std::string(log.status().message()).c_str());
    return 1;
  }
  std::printf("READY\n");
  std::fflush(stdout);
  const std::string run = argv[2];
  absl::Mutex out_mu;
  std::vector<std::thread> threads;
  const char* facilities[] = {"crash-a", "crash-b", "crash-shared", "crash-shared"};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(std::random_device()()));
      for (int n = 0;; ++n) {
        const int count = 1 + static_cast<int>(rng() % 40);
        const std::string batch = absl::StrCat(run, "-", t, "-", n);
        takt::eventlog::AppendRequest r;
        r.context = "scheduling";
        r.facility = facilities[t];
        for (int i = 0; i < count; ++i) {
          r.events.push_back(takt::eventlog::SampleEvent(
              absl::StrCat(batch, "|", i, "|", count, "|", std::string(rng() % 300, 'x'))));
          r.events.back().set_request_id(batch);
        }
        auto result = (*log)->Append(std::move(r));
        if (!result.ok()) {
          std::fprintf(stderr, "append: %s\n", std::string(result.status().message()).c_str());
          std::_Exit(1);
        }
        absl::MutexLock lock(&out_mu);
        std::printf("ACK %s %llu %d %s\n", facilities[t],
                    static_cast<unsigned long long>(result->events[0].sequence), count,
                    batch.c_str());
        std::fflush(stdout);
        // Paced so that 25 runs stay small enough to re-read in full.
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
      }
    });
  }
  for (auto& t : threads) t.join();
}
