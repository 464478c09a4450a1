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

/// Allocations per call of a function holding one f32 matmul (with a bias when `bias`): a oneDNN primitive
/// execution and nothing else.
long per_onednn_matmul(bool bias) {
  Graph g;
  Tensor a = g.input("a", {128, 256});
  Tensor b = g.input("b", {256, 256});
  Tensor c = g.input("c", {256});
  Function f = bias ? compile({a, b, c}, {matmul(a, b) + c}) : compile({a, b, c}, {matmul(a, b)});
  std::vector<Array> args{Array::uniform({128, 256}, 0, 1, 1), Array::uniform({256, 256}, 0, 1, 2),
                          Array::uniform({256}, 0, 1, 3)};
  std::vector<Array> product{Array(DType::f32, {128, 256})};
  return allocations_over(100, [&] { f.call_into(args, product); }) / 100;
}

TEST_CASE("f32 training steps allocate only what oneDNN's primitive execution allocates") {
  // oneDNN 2.6's dnnl_primitive_execute builds a std::unordered_map of its arguments on every call (5 blocks for
  // three arguments, 6 with a bias); loom's executor adds none, so a step allocates exactly that per matmul.
  long plain = per_onednn_matmul(false), with_bias = per_onednn_matmul(true);
  INFO("allocations per oneDNN matmul execution: " << plain << ", with a bias: " << with_bias);
  CHECK(plain > 0);

  Training t(DType::f32);
  long expected = 0;
  for (ir::NodeId id = 0; id < t.f.graph().num_nodes(); ++id) {
    const ir::Node& n = t.f.graph().node(id);
    if (n.dead) continue;
    if (n.op == ir::OpKind::matmul) expected += plain;
    if (n.op == ir::OpKind::fused && n.attrs.get_string("kind") == "matmul") expected += n.operands.size() == 3 ? with_bias : plain;
  }
  long n = allocations_over(100, [&] { t.step(); });
  CHECK(n == 100 * expected);
  CHECK(std::isfinite(t.outputs[0].get(0)));
}
