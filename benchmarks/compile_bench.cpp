// Compile time of the logistic-regression training function: cold (disk cache off) and from the disk cache.

#include <cstdlib>

#include <benchmark/benchmark.h>

#include <loom/loom.h>
#include "logistic_regression_model.h"

namespace {

using namespace loom;

void compile_logistic_regression() {
  Graph g;
  models::LogisticRegression m = models::logistic_regression(g, 1000);
  benchmark::DoNotOptimize(compile({m.X, m.y}, {m.cost}, m.updates, CompileOptions{.backend = Backend::jit}));
}

void BM_CompileLogisticRegression_Cold(benchmark::State& state) {
  ::setenv("LOOM_CACHE_DIR", "off", 1);
  for (auto _ : state) compile_logistic_regression();
  ::unsetenv("LOOM_CACHE_DIR");
}
BENCHMARK(BM_CompileLogisticRegression_Cold)->Unit(benchmark::kMillisecond);

void BM_CompileLogisticRegression_Cached(benchmark::State& state) {
  compile_logistic_regression();  // fills the cache
  for (auto _ : state) compile_logistic_regression();
}
BENCHMARK(BM_CompileLogisticRegression_Cached)->Unit(benchmark::kMillisecond);

}  // namespace
