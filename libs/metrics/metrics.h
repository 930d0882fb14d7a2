// File: metrics.h
// -----------------------------------------------------------------------------
// The process's metrics in the Prometheus text format (`takt serve
// --admin-listen`, GET /metrics), through prometheus-cpp from Debian (its
// registry, metric types and text serializer).
//
// Two kinds of figures:
//  - counted where they happen: prometheus-cpp counters and histograms in
//    Registry() (RPCs, ingest outcomes);
//  - read when scraped: a Source adds families from what a component keeps
//    (the log's commit stats, a projection's lag, RocksDB properties). A
//    source is registered for as long as its Registration lives, so a
//    stopped server's figures leave with it.
// Names follow Prometheus conventions: prefix takt_, base units (_seconds,
// _bytes), counters end in _total.
#ifndef TAKT_LIBS_METRICS_METRICS_H_
#define TAKT_LIBS_METRICS_METRICS_H_

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "libs/common/stats.h"
#include "libs/storage/health.h"

namespace takt::metrics {

using Labels = std::map<std::string, std::string>;

// The families a source adds at one scrape; one call per sample.
class Families {
 public:
  void Counter(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Gauge(const std::string& name, const std::string& help, const Labels& labels, double value);
  void Histogram(const std::string& name, const std::string& help, const Labels& labels,
                 const stats::Histogram::Snapshot& snapshot);
  std::vector<prometheus::MetricFamily> Take();

 private:
  prometheus::ClientMetric& Add(const std::string& name, const std::string& help, prometheus::MetricType type,
                                const Labels& labels);
  std::vector<prometheus::MetricFamily> families_;
};

using Source = std::function<void(Families& out)>;

// While it lives, its source is read at every scrape.
class Registration {
 public:
  Registration() = default;
  explicit Registration(uint64_t id) : id_(id) {}
  Registration(Registration&& other) noexcept : id_(other.id_) { other.id_ = 0; }
  Registration& operator=(Registration&& other) noexcept;
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;
  ~Registration();

 private:
  uint64_t id_ = 0;
};

// The process's registry of counted figures.
prometheus::Registry& Registry();

[[nodiscard]] Registration AddSource(Source source);

// Everything, in the text exposition format (version 0.0.4).
std::string Scrape();

// The content type of Scrape()'s answer.
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// takt_rocksdb_pending_compaction_bytes, takt_rocksdb_delayed_write_rate_bytes
// and takt_rocksdb_write_stopped of one store, labelled db=`db`.
void AddStorageHealth(const storage::StorageHealth& health, const std::string& db, Families& out);

}  // namespace takt::metrics

#endif  // TAKT_LIBS_METRICS_METRICS_H_
