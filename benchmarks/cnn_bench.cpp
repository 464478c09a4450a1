// One training step of the small CNN of DESIGN §7 and examples/fashion_mnist --model cnn (conv32-bn-relu-pool,
// conv64-bn-relu-pool, fc128, dropout 0.2, fc10; Adam; batch 64): loom through call_into, against the sum of its
// oneDNN primitives run alone (its convolutions, pools and matmuls, back to back on preallocated buffers).
// torch_cnn_bench.cpp runs the same step in LibTorch.

#include <benchmark/benchmark.h>

#include <loom/loom.h>

#include "fashion_mnist_model.h"
#include "primitives_alone.h"

namespace {

using namespace loom;

constexpr std::int64_t kBatch = 64;

struct CnnStep {
  models::FashionModel m = models::build_fashion_model({.model = "cnn", .batch = kBatch});
  Function train = compile({m.X, m.labels}, {m.cost}, m.updates);
  std::vector<Array> batch{Array::uniform({kBatch, 784}, 0, 1, 3), labels()};
  std::vector<Array> cost{Array(DType::f32, {})};

  static Array labels() {
    Array y(DType::i32, {kBatch});
    for (std::int64_t i = 0; i < kBatch; ++i) y.set(i, static_cast<double>(i % 10));
    return y;
  }
};

void BM_CnnStep_Loom(benchmark::State& state) {
  CnnStep s;
  for (auto _ : state) s.train.call_into(s.batch, s.cost);
}

void BM_CnnStep_PrimitivesAlone(benchmark::State& state) {
  CnnStep s;
  bench::PrimitivesAlone primitives(s.train.graph());
  for (auto _ : state) primitives.run();
  state.counters["primitives"] = static_cast<double>(primitives.size());
}

/// The step's convolutions and pools alone, in the layouts loom chooses (oneDNN's blocked layouts for the
/// convolutions, with their reorders) and plain NCHW throughout: the measurement behind the choice.
void BM_CnnWindows(benchmark::State& state) {
  CnnStep s;
  using Layout = codegen::onednn::WindowPrimitive::Layout;
  bench::PrimitivesAlone primitives(s.train.graph(), state.range(0) ? Layout::chosen : Layout::plain, /*only_windows=*/true);
  for (auto _ : state) primitives.run();
  state.counters["primitives"] = static_cast<double>(primitives.size());
}

BENCHMARK(BM_CnnStep_Loom)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_CnnStep_PrimitivesAlone)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_CnnWindows)->ArgName("chosen_layouts")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
