// Compile time of the logistic-regression training function: cold (disk cache off) and from the disk cache.

#include <cstdlib>

#include <benchmark/benchmark.h>

#include "bench_util.h"

namespace {

using namespace loom;

void compile_logistic_regression() {
  const int N = 1000;
  Graph g;
  Tensor X = g.input("X", {2, N}), y = g.input("y", {N});
  Tensor w = g.shared("w", Array::randn({2}, 1)), b = g.shared("b", Array::scalar(0.0f));
  Tensor h = 1.0f / (1.0f + exp(-matmul(transpose(X), w) - b));
  Tensor cost = (1.0f / N) * sum(-y * log(h) - (1.0f - y) * log(1.0f - h)) + 0.001f * sum(pow(w, 2.0f));
  std::vector<Tensor> gr = grad(cost, {w, b});
  benchmark::DoNotOptimize(
      compile({X, y}, {cost}, {{w, w - 1.0f * gr[0]}, {b, b - 1.0f * gr[1]}}, CompileOptions{.backend = Backend::jit}));
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
