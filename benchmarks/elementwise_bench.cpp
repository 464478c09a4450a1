// Memory-bound kernels against the machine's triad bandwidth, measured in the same run.
//
// Each benchmark reports bytes_per_second over the bytes a kernel must move (inputs read once, outputs written
// once). The triad a[i] = b[i] + s * c[i] is the STREAM reference for what this machine's memory can do.

#include <cmath>
#include <cstdlib>

#include <benchmark/benchmark.h>

#include <loom/loom.h>

namespace {

constexpr std::int64_t kElements = 16 << 20;  // 16M floats, 64 MiB per array: far beyond the caches

void BM_TriadBaseline(benchmark::State& state) {
  std::vector<float> a(kElements), b(kElements, 1.0f), c(kElements, 2.0f);
  const float s = 3.0f;
  for (auto _ : state) {
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < kElements; ++i) a[i] = b[i] + s * c[i];
    benchmark::DoNotOptimize(a.data());
  }
  state.SetBytesProcessed(state.iterations() * kElements * 3 * 4);
}
BENCHMARK(BM_TriadBaseline)->Unit(benchmark::kMillisecond)->UseRealTime();

/// relu(a * b + c) over 16M f32: one fused loop kernel, and its arguments.
std::pair<loom::Function, std::vector<loom::Array>> relu_mul_add() {
  using namespace loom;
  Graph g;
  Tensor a = g.input("a", {kElements}), b = g.input("b", {kElements}), c = g.input("c", {kElements});
  Function f = compile({a, b, c}, {relu(a * b + c)}, {}, CompileOptions{.backend = Backend::jit});
  return {f, {Array::full({kElements}, 1.5), Array::full({kElements}, -0.5), Array::full({kElements}, 1.0)}};
}

/// A whole call through Function::call_into, into a preallocated output: the executor and the kernel.
void BM_FusedReluMulAdd(benchmark::State& state) {
  auto [f, args] = relu_mul_add();
  std::vector<loom::Array> out{loom::Array(loom::DType::f32, {kElements})};
  for (auto _ : state) f.call_into(args, out);
  state.SetBytesProcessed(state.iterations() * kElements * 4 * 4);
}
BENCHMARK(BM_FusedReluMulAdd)->Unit(benchmark::kMillisecond)->UseRealTime();

/// The same through Function::operator(), which allocates (and first touches) a new 64 MiB output per call.
void BM_FusedReluMulAdd_NewOutput(benchmark::State& state) {
  auto [f, args] = relu_mul_add();
  for (auto _ : state) benchmark::DoNotOptimize(f(args));
  state.SetBytesProcessed(state.iterations() * kElements * 4 * 4);
}
BENCHMARK(BM_FusedReluMulAdd_NewOutput)->Unit(benchmark::kMillisecond)->UseRealTime();

/// Row-wise softmax over [4096, 1000]: one row kernel, called through call_into.
void BM_Softmax(benchmark::State& state) {
  using namespace loom;
  Graph g;
  Tensor x = g.input("x", {4096, 1000});
  Function f = compile({x}, {softmax(x)}, {}, CompileOptions{.backend = Backend::jit});
  std::vector<Array> args = {Array::randn({4096, 1000}, 1)};
  std::vector<Array> out{Array(DType::f32, {4096, 1000})};
  for (auto _ : state) f.call_into(args, out);
  state.SetBytesProcessed(state.iterations() * 4096 * 1000 * 2 * 4);
}
BENCHMARK(BM_Softmax)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

namespace {

/// exp(x)·tanh(x) + log1p(x²) over 4M f32 in [-4, 4] with the vector math library named by `library`; reports
/// the largest error against the same formula in double precision, relative to the size of its terms (the sum
/// itself crosses zero).
void BM_Transcendentals(benchmark::State& state, const char* library) {
  using namespace loom;
  constexpr std::int64_t n = 4 << 20;
  ::setenv("LOOM_VECLIB", library, 1);
  Graph g;
  Tensor x = g.input("x", {n});
  Function f = compile({x}, {exp(x) * tanh(x) + log1p(x * x)}, {}, CompileOptions{.backend = Backend::jit});
  std::vector<Array> args = {Array::uniform({n}, -4.0, 4.0, 5)};
  std::vector<Array> result{Array(DType::f32, {n})};
  ::unsetenv("LOOM_VECLIB");
  for (auto _ : state) f.call_into(args, result);
  const float* in = args[0].data<float>();
  const float* out = result[0].data<float>();
  double worst = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double v = in[i], a = std::exp(v) * std::tanh(v), b = std::log1p(v * v);
    worst = std::max(worst, std::abs(out[i] - (a + b)) / std::max(std::abs(a) + std::abs(b), 1e-30));
  }
  state.counters["max_rel_err"] = worst;
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK_CAPTURE(BM_Transcendentals, libmvec, "libmvec")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Transcendentals, sleef, "sleef")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
