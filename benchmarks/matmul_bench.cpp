// loom's matmul path against calling the oneDNN primitive directly, in the same run.

#include <benchmark/benchmark.h>

#include <loom/loom.h>

#include "loom/codegen/onednn/matmul.h"

namespace {

using namespace loom;

/// The oneDNN primitive alone, on preallocated buffers: the baseline.
void BM_Matmul_OneDnnDirect(benchmark::State& state) {
  std::int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  ir::Node node{ir::OpKind::matmul, {}, {}, {{DType::f32, {m, n}}}, "", {}, false, nullptr};
  auto primitive = codegen::onednn::Matmul::create(node, {DType::f32, {m, k}}, {DType::f32, {k, n}});
  Array a = Array::randn({m, k}, 1), b = Array::randn({k, n}, 2), c(DType::f32, {m, n});
  for (auto _ : state) primitive->run(a.raw(), b.raw(), nullptr, c.raw());
  state.SetItemsProcessed(state.iterations() * 2 * m * k * n);
}

/// The same matmul as a compiled loom Function, called with call_into (the executor, no allocation).
void BM_Matmul_Loom(benchmark::State& state) {
  std::int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Graph g;
  Tensor a = g.input("a", {m, k}), b = g.input("b", {k, n});
  Function f = compile({a, b}, {matmul(a, b)}, {}, CompileOptions{.backend = Backend::jit});
  std::vector<Array> args = {Array::randn({m, k}, 1), Array::randn({k, n}, 2)};
  std::vector<Array> out{Array(DType::f32, {m, n})};
  for (auto _ : state) f.call_into(args, out);
  state.SetItemsProcessed(state.iterations() * 2 * m * k * n);
}

// The MLP's layers (batch 128): 784x256, 256x256, 256x10; and a square 1024 matmul.
#define MATMUL_SHAPES ->Args({128, 784, 256})->Args({128, 256, 256})->Args({128, 256, 10})->Args({1024, 1024, 1024})
BENCHMARK(BM_Matmul_OneDnnDirect) MATMUL_SHAPES->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Matmul_Loom) MATMUL_SHAPES->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
