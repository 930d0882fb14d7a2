// File: stats.h
// -----------------------------------------------------------------------------
// Counters and fixed-bucket histograms a component keeps about itself for
// whoever exports them (libs/metrics serves them to Prometheus). Updates are
// lock-free atomics on the hot path; a reader takes a snapshot without
// stopping the writers (a snapshot taken during updates may be off by the
// updates in flight, never torn beyond that).
#ifndef TAKT_LIBS_COMMON_STATS_H_
#define TAKT_LIBS_COMMON_STATS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace takt::stats {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, ascending (an implicit +Inf follows).
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
    for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
  }

  void Observe(double value) {
    size_t i = 0;
    while (i < bounds_.size() && value > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, observations <= it; then the count (+Inf)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const {
    Snapshot s;
    s.bounds = bounds_;
    uint64_t total = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      total += counts_[i].load(std::memory_order_relaxed);
      s.cumulative.push_back(total);
    }
    s.count = total;
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

  // Bounds growing by `factor` from `first`, `n` of them (latencies, sizes).
  static std::vector<double> Exponential(double first, double factor, int n) {
    std::vector<double> out;
    for (double b = first; static_cast<int>(out.size()) < n; b *= factor) out.push_back(b);
    return out;
  }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace takt::stats

#endif  // TAKT_LIBS_COMMON_STATS_H_
