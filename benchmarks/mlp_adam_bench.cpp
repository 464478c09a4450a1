// One training step of the MLP 784-256-256-10, batch 128, Adam, dropout 0.2 (DESIGN §7): loom through call_into,
// against the sum of its own matmuls run alone as oneDNN primitives (the same primitives, shapes, transposes and
// post-ops, back to back on preallocated buffers). torch_mlp_bench.cpp runs the same step in LibTorch.

#include <benchmark/benchmark.h>

#include <loom/loom.h>

#include "mlp_adam_model.h"
#include "primitives_alone.h"

namespace {

using namespace loom;

struct Step {
  Graph g;
  models::AdamMlp m;
  Function train;
  std::vector<Array> batch, cost{Array(DType::f32, {})};

  Step() {
    models::build_adam_mlp(g, m, 128);
    train = compile({m.X, m.labels}, {m.cost}, m.updates);
    Array labels(DType::i32, {128});
    for (std::int64_t i = 0; i < 128; ++i) labels.set(i, static_cast<double>(i % 10));
    batch = {Array::uniform({128, 784}, 0, 1, 3), labels};
  }
};

void BM_MlpAdamDropout_Loom(benchmark::State& state) {
  Step s;
  for (auto _ : state) s.train.call_into(s.batch, s.cost);
  state.counters["kernels"] = 0;
  for (ir::NodeId id = 0; id < s.train.graph().num_nodes(); ++id)
    if (!s.train.graph().node(id).dead && s.train.graph().node(id).op == ir::OpKind::fused) state.counters["kernels"] += 1;
}

/// The training step's matmuls alone: for each matmul step of the compiled function, the oneDNN primitive it runs.
void BM_MlpAdamDropout_MatmulsAlone(benchmark::State& state) {
  Step s;
  bench::PrimitivesAlone primitives(s.train.graph());
  for (auto _ : state) primitives.run();
  state.counters["matmuls"] = static_cast<double>(primitives.size());
}

BENCHMARK(BM_MlpAdamDropout_Loom)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MlpAdamDropout_MatmulsAlone)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
