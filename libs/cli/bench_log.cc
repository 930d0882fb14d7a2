#include "libs/cli/bench_log.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/sample_events.h"

namespace takt::cli {
namespace {

using eventlog::AppendRequest;
using eventlog::EventLog;

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

absl::StatusOr<BenchResult> RunAppends(EventLog& log, const std::string& name, int appenders,
                                       size_t batch, const BenchLogOptions& o) {
  // Requests are built before the clock starts; each appender owns a stream.
  std::vector<AppendRequest> templates;
  for (int a = 0; a < appenders; ++a) {
    templates.push_back(
        eventlog::SampleAppend(absl::StrCat(name, "-", a), batch, o.payload_bytes));
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> appends{0};
  std::vector<std::vector<double>> latencies(appenders);
  absl::Status error;
  absl::Mutex error_mu;
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int a = 0; a < appenders; ++a) {
    threads.emplace_back([&, a] {
      while (!stop.load(std::memory_order_relaxed)) {
        AppendRequest r = templates[a];
        absl::Time t0 = absl::Now();
        auto result = log.Append(std::move(r));
        if (!result.ok()) {
          absl::MutexLock lock(&error_mu);
          error = result.status();
          stop = true;
          return;
        }
        latencies[a].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
        events.fetch_add(batch, std::memory_order_relaxed);
        appends.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(o.duration);
  stop = true;
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!error.ok()) return error;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  BenchResult r;
  r.name = name;
  r.events = events;
  r.seconds = seconds;
  r.events_per_second = static_cast<double>(events) / seconds;
  r.appends_per_second = static_cast<double>(appends) / seconds;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  return r;
}

}  // namespace

absl::StatusOr<std::vector<BenchResult>> RunLogBenchmark(const BenchLogOptions& options) {
  std::string dir = options.data_dir;
  bool temporary = dir.empty();
  if (temporary) {
    dir = (std::filesystem::temp_directory_path() /
           absl::StrCat("takt-bench-log-", ::getpid()))
              .string();
    std::filesystem::remove_all(dir);
  }
  std::vector<BenchResult> results;
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log, eventlog::OpenEmbeddedLog(lo));
    struct Scenario {
      int appenders;
      size_t batch;
    };
    for (Scenario s : {Scenario{1, 1}, Scenario{64, 1}, Scenario{1, 100}, Scenario{64, 100}}) {
      std::string name = absl::StrCat("append_batch", s.batch, "_appenders", s.appenders);
      if (!options.only.empty() && name.find(options.only) == std::string::npos) continue;
      TAKT_ASSIGN_OR_RETURN(BenchResult r, RunAppends(*log, name, s.appenders, s.batch, options));
      results.push_back(r);
    }
    // Read back every stream with full decoding.
    TAKT_ASSIGN_OR_RETURN(auto heads, log->Heads(""));
    absl::Time t0 = absl::Now();
    uint64_t read = 0;
    for (const auto& h : heads) {
      for (uint64_t from = 1; from <= h.sequence;) {
        TAKT_ASSIGN_OR_RETURN(auto events, log->ReadStream(h.stream, from, 10000));
        read += events.size();
        from += events.size();
      }
    }
    double secs = absl::ToDoubleSeconds(absl::Now() - t0);
    results.push_back(BenchResult{"read_decode", read / secs, 0, 0, 0, read, secs});
    // Verify every chain and checkpoint (reads every stored byte).
    t0 = absl::Now();
    TAKT_ASSIGN_OR_RETURN(eventlog::VerifyReport report, log->Verify({}));
    secs = absl::ToDoubleSeconds(absl::Now() - t0);
    if (!report.ok()) return absl::DataLossError("benchmark log failed verification");
    results.push_back(BenchResult{"read_verify", report.events_checked / secs, 0, 0, 0,
                                  report.events_checked, secs});
  }
  if (temporary) std::filesystem::remove_all(dir);
  return results;
}

std::string FormatBenchResult(const BenchResult& r, bool json) {
  if (json) {
    return absl::StrFormat(
        "{\"name\":\"%s\",\"events_per_second\":%.0f,\"appends_per_second\":%.0f,"
        "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"events\":%d,\"seconds\":%.3f}",
        r.name, r.events_per_second, r.appends_per_second, r.p50_ms, r.p99_ms, r.events,
        r.seconds);
  }
  if (r.appends_per_second > 0) {
    return absl::StrFormat("%-28s %12.0f events/s %10.0f appends/s  p50 %.3f ms  p99 %.3f ms",
                           r.name, r.events_per_second, r.appends_per_second, r.p50_ms,
                           r.p99_ms);
  }
  return absl::StrFormat("%-28s %12.0f events/s  (%d events in %.2f s)", r.name,
                         r.events_per_second, r.events, r.seconds);
}

}  // namespace takt::cli
