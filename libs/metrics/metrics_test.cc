#include "libs/metrics/metrics.h"

#include <prometheus/counter.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace takt::metrics {
namespace {

TEST(MetricsTest, SourcesAndCountersAppearInTheTextFormatWhileRegistered) {
  stats::Histogram commit(std::vector<double>{0.001, 0.01});
  commit.Observe(0.0005);
  commit.Observe(0.005);
  commit.Observe(5);
  std::string text;
  {
    Registration r = AddSource([&](Families& out) {
      out.Counter("takt_test_appends_total", "Appends.", {{"context", "scheduling"}}, 42);
      out.Gauge("takt_test_lag_events", "Lag.", {{"context", "scheduling"}}, 7);
      out.Gauge("takt_test_lag_events", "Lag.", {{"context", "quality"}}, 0);
      out.Histogram("takt_test_commit_seconds", "Commits.", {}, commit.Read());
    });
    prometheus::BuildCounter()
        .Name("takt_test_requests_total")
        .Help("Requests.")
        .Register(Registry())
        .Add({{"code", "OK"}})
        .Increment(3);
    text = Scrape();
  }
  for (const char* line : {"# TYPE takt_test_appends_total counter", "takt_test_appends_total{context=\"scheduling\"} 42",
                           "# TYPE takt_test_lag_events gauge", "takt_test_lag_events{context=\"quality\"} 0",
                           "takt_test_commit_seconds_bucket{le=\"0.001\"} 1",
                           "takt_test_commit_seconds_bucket{le=\"0.01\"} 2",
                           "takt_test_commit_seconds_bucket{le=\"+Inf\"} 3", "takt_test_commit_seconds_count 3",
                           "takt_test_requests_total{code=\"OK\"} 3"}) {
    EXPECT_TRUE(absl::StrContains(text, line)) << line << "\n" << text;
  }
  // Its registration gone, the source is no longer read.
  EXPECT_FALSE(absl::StrContains(Scrape(), "takt_test_lag_events"));
}

TEST(MetricsTest, HistogramBoundsAreInclusiveAndExponentialBoundsGrow) {
  stats::Histogram h(std::vector<double>{1, 2});
  h.Observe(1);
  h.Observe(2);
  h.Observe(2.5);
  const auto s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(s.sum, 5.5);
  const std::vector<double> b = stats::Histogram::Exponential(0.001, 10, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0], 0.001);
  EXPECT_NEAR(b[2], 0.1, 1e-12);
}

}  // namespace
}  // namespace takt::metrics
