// Differential testing of the JIT against the interpreter on generated graphs: elementwise chains, broadcasts,
// reductions, reshapes, transposes, matmuls and softmax, mixed at random. Every graph is built from a seed that
// is printed with any failure; set LOOM_GRAPH_SEED=<seed> to replay that one graph alone.

#include <cstdlib>
#include <cstring>
#include <random>

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "compare.h"
#include "loom/ir/type_inference.h"

using namespace loom;

namespace {

class GraphGenerator {
 public:
  GraphGenerator(std::uint64_t seed, DType dtype) : rng_(seed), dtype_(dtype) {}

  /// Builds a graph in `g`; returns its inputs and outputs.
  std::pair<std::vector<Tensor>, std::vector<Tensor>> build(Graph& g) {
    std::int64_t rows = pick({1, 3, 7, 17, 64}), cols = pick({1, 3, 7, 17, 33});
    std::vector<Tensor> inputs = {g.input("a", {rows, cols}, dtype_), g.input("b", {rows, cols}, dtype_),
                                  g.input("c", {cols}, dtype_), g.input("d", {rows, 1}, dtype_)};
    pool_ = inputs;
    int steps = static_cast<int>(uniform(4, 14));
    for (int s = 0; s < steps; ++s) pool_.push_back(step());
    std::vector<Tensor> outputs = {pool_.back()};
    if (pool_.size() > 6) outputs.push_back(pool_[pool_.size() - 3]);
    return {inputs, outputs};
  }

 private:
  /// One new tensor from the pool; inputs stay bounded (tanh, softplus) so nothing overflows.
  Tensor step() {
    Tensor x = any(), y = partner(x);
    switch (uniform(0, 11)) {
      case 0: return x + y;
      case 1: return x * tanh(y);
      case 2: return maximum(x, y) - minimum(x, 0.5f);
      case 3: return x / (1.0f + square(y));
      case 4: return exp(tanh(x)) + sigmoid(y);
      case 5: return log1p(softplus(x)) * swish(y);
      case 6: {  // a reduction, kept or broadcast back
        std::int64_t axis = x.rank() == 0 ? 0 : uniform(0, x.rank() - 1);
        if (x.rank() == 0) return abs(x);
        Tensor r = uniform(0, 1) ? sum(x, axis, true) : max(x, axis, true);
        return uniform(0, 1) ? Tensor(r * 0.1f + x) : Tensor(mean(x, axis));
      }
      case 7: return x.rank() == 2 ? Tensor(transpose(transpose(x) * 0.5f)) : Tensor(relu(x));
      case 8: return x.rank() == 2 ? Tensor(reshape(reshape(x, {-1}), x.shape()) + 1.0f) : Tensor(-x);
      case 9: {  // a matmul with a fitting partner, brought back to x's shape
        if (x.rank() != 2) return tanh(x);
        Tensor w = matmul(transpose(x), x);  // [cols, cols]
        return matmul(x, w) * (1.0f / static_cast<float>(x.shape()[0] * x.shape()[1] + 1)) + x;
      }
      case 10: return x.rank() >= 1 ? Tensor(softmax(x, -1) + log_softmax(x, 0)) : Tensor(x * x);
      default: return where(x > y, x, y * 0.5f);
    }
  }

  /// A pool tensor that broadcasts with x (x itself at worst).
  Tensor partner(const Tensor& x) {
    std::vector<Tensor> fits;
    for (const Tensor& t : pool_)
      if (ir::broadcast_shapes(x.shape(), t.shape())) fits.push_back(t);
    return fits[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(fits.size()) - 1))];
  }

  Tensor any() { return pool_[static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(pool_.size()) - 1))]; }
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_); }
  std::int64_t pick(std::initializer_list<std::int64_t> values) {
    return values.begin()[uniform(0, static_cast<std::int64_t>(values.size()) - 1)];
  }

  std::mt19937_64 rng_;
  DType dtype_;
  std::vector<Tensor> pool_;
};

void check_graph(std::uint64_t seed) {
  DType dtype = seed % 2 ? DType::f64 : DType::f32;
  Graph g;
  auto [inputs, outputs] = GraphGenerator(seed, dtype).build(g);
  // A shared variable updated from the first output exercises in-place updates.
  Array initial = Array::uniform(outputs[0].shape(), -1.0, 1.0, seed, dtype);
  Tensor s = g.shared("s", initial);
  Updates updates{{s, s * 0.5 + outputs[0]}};
  Function jit = compile(inputs, outputs, updates, CompileOptions{.backend = Backend::jit});
  Function unplanned = compile(inputs, outputs, updates, CompileOptions{.backend = Backend::jit, .plan_memory = false});
  Function reference = compile(inputs, outputs, updates, CompileOptions{.backend = Backend::interpreter});
  std::vector<Array> args;
  for (const Tensor& t : inputs) args.push_back(Array::uniform(t.shape(), -2.0, 2.0, seed * 7 + args.size(), dtype));
  auto run = [&](const Function& f) {
    s.set_value(initial);
    std::vector<Array> results = f(args);
    results.push_back(s.get_value());
    return results;
  };
  std::vector<Array> want = run(reference), got = run(jit), got_unplanned = run(unplanned);
  INFO("graph seed " << seed << " (replay with LOOM_GRAPH_SEED=" << seed << ")\n" << jit.ir());
  // Memory planning changes where values live, never a bit of them.
  for (std::size_t k = 0; k < got.size(); ++k)
    CHECK(std::memcmp(got[k].raw(), got_unplanned[k].raw(), got[k].nbytes()) == 0);
  // Chains of f32 ops and oneDNN's f32 accumulation drift from the interpreter's double sums by a few ulps
  // per op; f64 holds to 1e-12.
  for (std::size_t k = 0; k < want.size(); ++k)
    testing::check_close(want[k], got[k], dtype == DType::f32 ? 1e-4 : 1e-12, dtype == DType::f32 ? 1e-4 : 1e-12);
}

}  // namespace

TEST_CASE("the JIT agrees with the interpreter on 200 generated graphs, with memory planning on and off") {
  if (const char* replay = std::getenv("LOOM_GRAPH_SEED")) {
    check_graph(std::strtoull(replay, nullptr, 10));
    return;
  }
  for (std::uint64_t seed = 1; seed <= 200; ++seed) check_graph(seed);
}
