// One training step of the MLP (784-256-256-10, batch 128, momentum SGD) through call_into, with memory planning
// on and off in the same run; the counters give the planned bytes.

#include <benchmark/benchmark.h>

#include <loom/loom.h>

#include "loom/passes/passes.h"
#include "mlp_model.h"

namespace {

using namespace loom;

void BM_MlpTrainingStep(benchmark::State& state) {
  bool planned = state.range(0) != 0;
  Graph g;
  models::Mlp m = models::mlp(g, {784, 256, 256, 10}, 128);
  Function f = compile({m.X, m.labels}, {m.cost}, m.updates, CompileOptions{.plan_memory = planned});
  Array labels(DType::i32, {128});
  for (std::int64_t i = 0; i < 128; ++i) labels.set(i, static_cast<double>(i % 10));
  std::vector<Array> batch{Array::uniform({128, 784}, 0, 1, 3), labels}, cost{Array(DType::f32, {})};
  for (auto _ : state) f.call_into(batch, cost);
  passes::MemoryStats stats = passes::memory_stats(f.graph());
  state.counters["arena_KiB"] = static_cast<double>(stats.arena) / 1024;
  state.counters["lower_bound_KiB"] = static_cast<double>(stats.lower_bound) / 1024;
  state.counters["no_reuse_KiB"] = static_cast<double>(stats.no_reuse) / 1024;
}
BENCHMARK(BM_MlpTrainingStep)->ArgName("planned")->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
