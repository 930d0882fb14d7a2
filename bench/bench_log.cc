#include "bench/bench_log.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "nlohmann/json.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/status_macros.h"
#include "libs/eventlog/embedded_log.h"
#include "libs/eventlog/sample_events.h"

namespace takt::cli {
namespace {

using eventlog::AppendRequest;
using eventlog::EventLog;

// A payload of random bytes: as incompressible as it gets.
std::string RandomPayload(std::mt19937_64& rng, size_t bytes) {
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, bytes - i));
  }
  return out;
}

absl::StatusOr<BenchResult> RunAppends(EventLog& log, const std::string& name, int appenders,
                                       size_t batch, size_t appends_per_appender,
                                       const BenchLogOptions& o) {
  // Requests are generated before the clock starts (the log is measured, not
  // the generator); each appender owns a stream.
  std::vector<std::vector<AppendRequest>> requests(appenders);
  std::mt19937_64 rng(42);
  for (int a = 0; a < appenders; ++a) {
    requests[a].reserve(appends_per_appender);
    for (size_t i = 0; i < appends_per_appender; ++i) {
      AppendRequest r;
      r.context = "scheduling";
      r.facility = absl::StrCat(name, "-", a);
      r.events.reserve(batch);
      for (size_t e = 0; e < batch; ++e) {
        r.events.push_back(eventlog::SampleEvent(RandomPayload(rng, o.payload_bytes)));
      }
      requests[a].push_back(std::move(r));
    }
  }
  std::vector<std::vector<double>> latencies(appenders);
  absl::Status error;
  absl::Mutex error_mu;
  std::vector<std::thread> threads;
  absl::Time start = absl::Now();
  for (int a = 0; a < appenders; ++a) {
    threads.emplace_back([&, a] {
      latencies[a].reserve(appends_per_appender);
      for (AppendRequest& r : requests[a]) {
        absl::Time t0 = absl::Now();
        auto result = log.Append(std::move(r));
        if (!result.ok()) {
          absl::MutexLock lock(&error_mu);
          error = result.status();
          return;
        }
        latencies[a].push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (!error.ok()) return error;
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const uint64_t appends = static_cast<uint64_t>(appenders) * appends_per_appender;
  BenchResult r;
  r.name = name;
  r.events = appends * batch;
  r.seconds = seconds;
  r.events_per_second = static_cast<double>(r.events) / seconds;
  r.appends_per_second = static_cast<double>(appends) / seconds;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  return r;
}

}  // namespace

absl::StatusOr<std::vector<BenchResult>> RunLogBenchmark(const BenchLogOptions& options) {
  std::string dir = options.data_dir;
  bool temporary = dir.empty();
  if (temporary) dir = BenchTempDir("log");
  std::vector<BenchResult> results;
  {
    eventlog::EmbeddedLogOptions lo;
    lo.data_dir = dir;
    TAKT_ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log, eventlog::OpenEmbeddedLog(lo));
    struct Scenario {
      int appenders;
      size_t batch;
      size_t appends;  // per appender, at scale 1
    };
    for (Scenario s : {Scenario{1, 1, 20000}, Scenario{64, 1, 3125}, Scenario{1, 100, 6000},
                       Scenario{64, 100, 250}}) {
      std::string name = absl::StrCat("append_batch", s.batch, "_appenders", s.appenders);
      if (!options.only.empty() && name.find(options.only) == std::string::npos) continue;
      size_t appends = std::max<size_t>(1, static_cast<size_t>(s.appends * options.scale));
      TAKT_ASSIGN_OR_RETURN(BenchResult r,
                            RunAppends(*log, name, s.appenders, s.batch, appends, options));
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

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

std::string BenchTempDir(const char* name) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     absl::StrCat("takt-bench-", name, "-", ::getpid()))
                        .string();
  std::filesystem::remove_all(dir);
  return dir;
}

std::string FormatBenchResult(const BenchResult& r, bool json) {
  if (json) {
    return nlohmann::json{{"name", r.name},
                          {"events_per_second", std::llround(r.events_per_second)},
                          {"appends_per_second", std::llround(r.appends_per_second)},
                          {"p50_ms", r.p50_ms},
                          {"p99_ms", r.p99_ms},
                          {"events", r.events},
                          {"seconds", r.seconds}}
        .dump();
  }
  if (r.appends_per_second > 0) {
    return absl::StrFormat("%-28s %12.0f events/s %10.0f appends/s  p50 %.3f ms  p99 %.3f ms",
                           r.name, r.events_per_second, r.appends_per_second, r.p50_ms,
                           r.p99_ms);
  }
  if (r.events_per_second == 0 && r.p99_ms > 0) {  // a query: its latency
    return absl::StrFormat("%-40s p50 %.3f ms  p99 %.3f ms  (%d queries)", r.name, r.p50_ms,
                           r.p99_ms, r.events);
  }
  return absl::StrFormat("%-28s %12.0f events/s  (%d events in %.2f s)", r.name,
                         r.events_per_second, r.events, r.seconds);
}

}  // namespace takt::cli
