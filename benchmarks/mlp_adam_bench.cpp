// One training step of the MLP 784-256-256-10, batch 128, Adam, dropout 0.2 (DESIGN §7): loom through call_into,
// against the sum of its own matmuls run alone as oneDNN primitives (the same primitives, shapes, transposes and
// post-ops, back to back on preallocated buffers). torch_mlp_bench.cpp runs the same step in LibTorch.

#include <benchmark/benchmark.h>

#include <loom/loom.h>

#include "loom/codegen/onednn/matmul.h"
#include "loom/ir/kernel_shape.h"
#include "mlp_adam_model.h"

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
  const ir::Graph& f = s.train.graph();
  struct Call {
    std::unique_ptr<codegen::onednn::Matmul> primitive;
    Array a, b, bias, out;
  };
  std::vector<Call> calls;
  for (ir::NodeId id = 0; id < f.num_nodes(); ++id) {
    const ir::Node& n = f.node(id);
    if (n.dead) continue;
    if (n.op == ir::OpKind::matmul) {
      const TensorType &a = f.type(n.operands[0]), &b = f.type(n.operands[1]);
      calls.push_back({codegen::onednn::Matmul::create(n, a, b), Array::uniform(a.shape, -1, 1, 1), Array::uniform(b.shape, -1, 1, 2),
                       Array(), Array(DType::f32, n.results[0].shape)});
    } else if (n.op == ir::OpKind::fused && n.kernel->kind == ir::KernelKind::matmul) {
      const ir::MatmulParts& parts = n.kernel->matmul;
      const ir::Graph& body = *n.body;
      codegen::onednn::Epilogue epilogue{.bias = parts.bias.has_value(), .activation = parts.activation.value_or(ir::OpKind::stop_gradient),
                                         .alpha = parts.alpha};
      const TensorType &a = body.type(parts.a), &b = body.type(parts.b);
      calls.push_back({codegen::onednn::Matmul::create(body.node(parts.matmul), a, b, epilogue), Array::uniform(a.shape, -1, 1, 1),
                       Array::uniform(b.shape, -1, 1, 2), parts.bias ? Array::uniform(body.type(*parts.bias).shape, -1, 1, 3) : Array(),
                       Array(DType::f32, n.results[0].shape)});
    }
  }
  for (auto _ : state)
    for (Call& c : calls) c.primitive->run(c.a.raw(), c.b.raw(), c.bias.size() ? c.bias.raw() : nullptr, c.out.raw());
  state.counters["matmuls"] = static_cast<double>(calls.size());
}

BENCHMARK(BM_MlpAdamDropout_Loom)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_MlpAdamDropout_MatmulsAlone)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
