// Compile time of deep graphs (issue #12): a chain h = tanh(h) + 0.5 of n links (2n ops) on a small vector, with
// and without its gradient and a gradient-descent update, compiled cold (disk cache off) at O2. The target is
// the 16k-op chain with grad in under 2 s; the per-pass times are in Function::report().

#include <cstdlib>

#include <benchmark/benchmark.h>

#include <loom/loom.h>

namespace {

using namespace loom;

void BM_CompileChain(benchmark::State& state) {
  const std::int64_t ops = state.range(0);
  const bool with_grad = state.range(1) != 0;
  ::setenv("LOOM_CACHE_DIR", "off", 1);
  for (auto _ : state) {
    Graph g;
    Tensor x = g.input("x", {16});
    Tensor w = g.shared("w", Array::zeros({16}));
    Tensor h = x + w;
    for (std::int64_t i = 0; i < ops / 2; ++i) h = tanh(h) + 0.5f;
    Tensor cost = sum(h);
    Updates updates;
    if (with_grad) updates = {{w, w - 0.1f * grad(cost, {w})[0]}};
    benchmark::DoNotOptimize(compile({x}, {cost}, updates));
  }
  ::unsetenv("LOOM_CACHE_DIR");
}
BENCHMARK(BM_CompileChain)
    ->ArgNames({"ops", "grad"})
    ->ArgsProduct({{1000, 4000, 16000}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
