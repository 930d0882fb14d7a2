// Kernels on the hot paths, with Google Benchmark: the hash chain step every
// append and every verification pays, the record encoding every append
// pays, and the element additions every projected event and every query
// row pays, for production's fixed array and for a family's vector.
//
//   ./build/release/bench/takt_kernels_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <random>

#include "benchmark/benchmark.h"
#include "libs/crypto/sha256.h"
#include "libs/eventlog/record.h"
#include "libs/kpi/elements.h"
#include "libs/kpi/family.h"

namespace takt {
namespace {

void BM_HashChainStep(benchmark::State& state) {
  const std::string record(static_cast<size_t>(state.range(0)), 'x');
  std::string head(32, '\0');
  auto& sha = crypto::Sha256::ThreadLocal();
  for (auto _ : state) {
    head = sha.Chain(head, record);
    benchmark::DoNotOptimize(head);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_HashChainStep)->Arg(256)->Arg(4096);

void BM_EncodeRecord(benchmark::State& state) {
  eventlog::v1::Envelope e;
  e.set_context("scheduling");
  e.set_facility("plant-1");
  e.set_sequence(12345);
  e.set_event_type("takt.scheduling.v1.ProductionCounted");
  e.set_source_id("gateway-7");
  e.set_source_sequence(987654);
  e.set_payload(std::string(120, 'p'));
  e.set_prev_hash(std::string(32, 'h'));
  e.set_hash(std::string(32, 'g'));
  for (auto _ : state) benchmark::DoNotOptimize(eventlog::EncodeRecord(e));
}
BENCHMARK(BM_EncodeRecord);

void BM_ElementSumsAdd(benchmark::State& state) {
  kpi::ElementSums total, row;
  std::mt19937_64 rng(1);
  for (auto& v : row.v) v = static_cast<int64_t>(rng() % 1'000'000);
  for (auto _ : state) {
    total += row;
    benchmark::DoNotOptimize(total);
  }
}
BENCHMARK(BM_ElementSumsAdd);

void BM_FamilyValuesAdd(benchmark::State& state) {
  kpi::Values total(static_cast<size_t>(state.range(0)), 0), row(total.size());
  std::mt19937_64 rng(1);
  for (auto& v : row) v = static_cast<int64_t>(rng() % 1'000'000);
  for (auto _ : state) {
    kpi::AddInto(total, row);
    benchmark::DoNotOptimize(total);
  }
}
BENCHMARK(BM_FamilyValuesAdd)->Arg(4)->Arg(kpi::kElementCount);

}  // namespace
}  // namespace takt
