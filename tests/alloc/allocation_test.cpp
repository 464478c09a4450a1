// Counts heap allocations during steady-state training steps. This binary replaces malloc and its relatives
// (which operator new calls too), so every allocation of the process counts: loom's, the C++ runtime's, OpenMP's
// and oneDNN's.

#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <catch2/catch.hpp>

#include <loom/loom.h>

#include "loom/codegen/jit_executable.h"
#include "loom/ir/kernel_shape.h"
#include "loom/passes/pass.h"

#include "mlp_model.h"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
void count() {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  count();
  return __libc_malloc(n);
}
void* calloc(std::size_t k, std::size_t n) {
  count();
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) {
  count();
  return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void** p, std::size_t alignment, std::size_t n) {
  count();
  *p = __libc_memalign(alignment, n);
  return *p ? 0 : ENOMEM;
}
}

using namespace loom;

namespace {

/// Allocations over `steps` calls of `step` after `warmup` calls.
template <class Step>
long allocations_over(int steps, Step step, int warmup = 3) {
  for (int s = 0; s < warmup; ++s) step();
  allocations = 0;
  counting = true;
  for (int s = 0; s < steps; ++s) step();
  counting = false;
  return allocations.load();
}

struct Training {
  Graph g;
  models::Mlp m;
  Function f;
  std::vector<Array> batch, outputs;

  explicit Training(DType dtype)
      : m(models::mlp(g, {784, 256, 256, 10}, 128, dtype)), f(compile({m.X, m.labels}, {m.cost}, m.updates)) {
    Array labels(DType::i32, {128});
    for (std::int64_t i = 0; i < 128; ++i) labels.set(i, static_cast<double>(i % 10));
    batch = {Array::uniform({128, 784}, 0, 1, 3, dtype), labels};
    outputs = {Array(dtype, {})};
  }
  void step() { f.call_into(batch, outputs); }
};

}  // namespace

TEST_CASE("100 steady-state f64 training steps with call_into allocate nothing") {
  Training t(DType::f64);
  long n = allocations_over(100, [&] { t.step(); });
  CHECK(n == 0);
  CHECK(std::isfinite(t.outputs[0].get(0)));
}

/// Allocations per call of a function whose only step is `n` (a matmul or a matmul kernel of `g`), run by the JIT
/// as `g` runs it: the same oneDNN primitive, measured here and now, so the count holds whatever oneDNN allocates
/// on this CPU.
long per_call_of_step_alone(const ir::Graph& g, const ir::Node& n) {
  ir::Graph alone("step");
  std::vector<ir::Value> operands;
  std::vector<Array> inputs;
  for (ir::Value v : n.operands) {
    ir::NodeId p = alone.add_typed_node(ir::OpKind::input, {}, {}, {g.type(v)}, SourceLoc{}, "p" + std::to_string(operands.size()));
    alone.inputs.push_back(p);
    operands.push_back({p, 0});
    inputs.push_back(Array::uniform(g.type(v).shape, 0, 1, operands.size(), g.type(v).dtype));
  }
  ir::NodeId step = alone.add_typed_node(n.op, operands, n.attrs, n.results, n.loc);
  if (n.body) ir::attach_body(alone.node(step), n.body);
  alone.outputs = {{step, 0}};
  passes::PassContext ctx;
  passes::run_pipeline(alone, "plan-memory", ctx);
  std::unique_ptr<codegen::Executable> executable = codegen::make_jit(alone);
  std::vector<Array> outputs{Array(n.results[0].dtype, n.results[0].shape)};
  return allocations_over(100, [&] { executable->run_into(inputs, {}, outputs); }) / 100;
}

TEST_CASE("f32 training steps allocate only what their oneDNN matmuls allocate when run alone") {
  // oneDNN's primitive execution allocates (2.6 builds a std::unordered_map of its arguments on every call), and
  // how much depends on the CPU and the primitive; loom's executor adds nothing, so a step allocates exactly what
  // its oneDNN steps allocate alone.
  Training t(DType::f32);
  const ir::Graph& g = t.f.graph();
  long expected = 0, matmul_steps = 0;
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id) {
    const ir::Node& n = g.node(id);
    bool onednn = n.op == ir::OpKind::matmul || (n.op == ir::OpKind::fused && ir::is_onednn_kernel(n.kernel->kind));
    if (n.dead || !onednn) continue;
    expected += per_call_of_step_alone(g, n);
    ++matmul_steps;
  }
  INFO("allocations per step of its " << matmul_steps << " oneDNN matmuls run alone: " << expected);
  CHECK(matmul_steps == 8);  // 3 layers forward; backward, 3 weight gradients and 2 gradients of hidden layers
  long n = allocations_over(100, [&] { t.step(); });
  CHECK(n == 100 * expected);
  CHECK(std::isfinite(t.outputs[0].get(0)));
}
