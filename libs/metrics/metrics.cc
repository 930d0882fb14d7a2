#include "libs/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <limits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace takt::metrics {
namespace {

struct Sources {
  absl::Mutex mu;
  uint64_t next_id ABSL_GUARDED_BY(mu) = 1;
  std::map<uint64_t, Source> by_id ABSL_GUARDED_BY(mu);
};

Sources& TheSources() {
  static auto* sources = new Sources();
  return *sources;
}

}  // namespace

prometheus::ClientMetric& Families::Add(const std::string& name, const std::string& help,
                                        prometheus::MetricType type, const Labels& labels) {
  prometheus::MetricFamily* family = nullptr;
  for (prometheus::MetricFamily& f : families_) {
    if (f.name == name) family = &f;
  }
  if (family == nullptr) {
    families_.push_back({name, help, type, {}});
    family = &families_.back();
  }
  prometheus::ClientMetric& m = family->metric.emplace_back();
  for (const auto& [key, value] : labels) m.label.push_back({key, value});
  return m;
}

void Families::Counter(const std::string& name, const std::string& help, const Labels& labels, double value) {
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value = value;
}

void Families::Gauge(const std::string& name, const std::string& help, const Labels& labels, double value) {
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void Families::Histogram(const std::string& name, const std::string& help, const Labels& labels,
                         const stats::Histogram::Snapshot& s) {
  prometheus::ClientMetric& m = Add(name, help, prometheus::MetricType::Histogram, labels);
  m.histogram.sample_count = s.count;
  m.histogram.sample_sum = s.sum;
  for (size_t i = 0; i < s.bounds.size(); ++i) m.histogram.bucket.push_back({s.cumulative[i], s.bounds[i]});
  m.histogram.bucket.push_back({s.count, std::numeric_limits<double>::infinity()});
}

std::vector<prometheus::MetricFamily> Families::Take() { return std::move(families_); }

Registration& Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    Registration dropped(id_);
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

Registration::~Registration() {
  if (id_ == 0) return;
  Sources& sources = TheSources();
  absl::MutexLock lock(&sources.mu);
  sources.by_id.erase(id_);
}

prometheus::Registry& Registry() {
  static auto* registry = new prometheus::Registry();
  return *registry;
}

Registration AddSource(Source source) {
  Sources& sources = TheSources();
  absl::MutexLock lock(&sources.mu);
  const uint64_t id = sources.next_id++;
  sources.by_id.emplace(id, std::move(source));
  return Registration(id);
}

std::string Scrape() {
  std::vector<prometheus::MetricFamily> all = Registry().Collect();
  Families pulled;
  {
    // Sources run under the lock: a Registration being destroyed waits for
    // the scrape that reads its source.
    Sources& sources = TheSources();
    absl::MutexLock lock(&sources.mu);
    for (const auto& [id, source] : sources.by_id) source(pulled);
  }
  for (prometheus::MetricFamily& f : pulled.Take()) {
    // Two sources of the same family (two servers in one process) share it.
    bool merged = false;
    for (prometheus::MetricFamily& existing : all) {
      if (existing.name == f.name) {
        for (auto& m : f.metric) existing.metric.push_back(std::move(m));
        merged = true;
      }
    }
    if (!merged) all.push_back(std::move(f));
  }
  return prometheus::TextSerializer().Serialize(all);
}

void AddStorageHealth(const storage::StorageHealth& h, const std::string& db, Families& out) {
  const Labels labels = {{"db", db}};
  out.Gauge("takt_rocksdb_pending_compaction_bytes", "Bytes RocksDB compaction still has to rewrite.", labels,
            static_cast<double>(h.pending_compaction_bytes));
  out.Gauge("takt_rocksdb_delayed_write_rate_bytes", "Write rate RocksDB slows writers to (0: not slowed).", labels,
            static_cast<double>(h.delayed_write_rate));
  out.Gauge("takt_rocksdb_write_stopped", "1 while RocksDB stops writes (a stall).", labels,
            h.write_stopped ? 1.0 : 0.0);
}

}  // namespace takt::metrics
