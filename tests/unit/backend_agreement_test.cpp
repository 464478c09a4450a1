// Places where the JIT and the interpreter once disagreed, each a case a user hit (issue #9): the JIT must give
// the interpreter's numbers and raise the interpreter's errors.

#include <loom/loom.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <thread>

#include "compare.h"
#include "loom/codegen/agreement.h"

using namespace loom;
using loom::testing::check_close;

namespace {

std::vector<Array> run_on(Backend backend, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                          const std::vector<Array>& args) {
  return compile(inputs, outputs, {}, CompileOptions{.backend = backend})(args);
}

}  // namespace

TEST_CASE(
    "a loop kernel whose result overwrites an operand in place still computes its other results from the old operand",
    "[jit]") {
  // plan-memory lets maximum(x, 0.2x) overwrite the incoming gradient it dies with; the kernel's other results
  // read that gradient too, so every read of an element must come before the store to it.
  for (std::int64_t m : {1, 2, 5}) {
    const std::int64_t k = 1023, n = 3;
    Graph g;
    Tensor a = g.input("a", {m, k}), b = g.input("b", {k, n}), c = g.input("c", {1, k}), r = g.input("r", {m, n});
    Tensor x = a * c + 0.5f;
    Tensor mm = matmul(maximum(x, 0.2f * x), swish(b)) * 0.05f;
    Tensor v = mm - mean(mm, {1}, true);
    Tensor cost = sum(v * r) / static_cast<float>(m * n);
    std::vector<Tensor> gr = grad(cost, {a, b, c});
    std::vector<Tensor> inputs{a, b, c, r}, outputs{cost, v, gr[0], gr[1], gr[2]};
    std::vector<Array> args;
    for (const Tensor& t : inputs) args.push_back(Array::randn(t.shape(), 40 + args.size()));
    std::vector<Array> want = run_on(Backend::interpreter, inputs, outputs, args),
                       got = run_on(Backend::jit, inputs, outputs, args);
    for (std::size_t i = 0; i < want.size(); ++i) {
      INFO("M = " << m << ", output " << i);
      check_close(want[i], got[i], 1e-4, 1e-5);
    }
  }
}

TEST_CASE("labels computed inside the loss kernel are range-checked on the JIT as on the interpreter", "[jit]") {
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    Graph g;
    Tensor x = g.input("x", {4, 3}), yf = g.input("yf", {4});
    Tensor w = g.shared("w", Array::full({4, 3}, 1.0));
    Tensor loss = softmax_cross_entropy_rows(x * w, cast(yf, DType::i32));
    Function f = compile({x, yf}, {loss}, {{w, w + 1.0f}}, CompileOptions{.backend = backend});
    Array labels = Array::from(std::vector<float>{0, 1, 2, 3}, {4});
    CHECK_THROWS_WITH(f({Array::randn({4, 3}, 1), labels}),
                      Catch::Matchers::Contains("label 3 at row 3 is outside [0, 3)"));
    CHECK(w.get_value().get(0) == 1.0);  // the failed call changed no state
    // In range, the same function runs and updates.
    std::vector<Array> out = f({Array::randn({4, 3}, 1), Array::from(std::vector<float>{0, 1, 2, 2}, {4})});
    CHECK(std::isfinite(out[0].get(3)));
    CHECK(w.get_value().get(0) == 2.0);
  }
}

TEST_CASE("reductions over an empty axis give their identity on both backends, through call_into too", "[jit]") {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    INFO((backend == Backend::jit ? "jit" : "interpreter"));
    Graph g;
    Tensor x = g.input("x", {0, 3}), y = g.input("y", {3});
    Function f = compile({x, y}, {sum(x, 0) * y + 1.0f, max(x, 0), logsumexp(x, 0), min(x, 0)}, {},
                         CompileOptions{.backend = backend});
    std::vector<Array> out;
    for (int k = 0; k < 4; ++k) out.push_back(Array::full({3}, 42.0));
    f.call_into({Array(DType::f32, {0, 3}), Array::full({3}, 2.0)}, out);
    for (std::int64_t i = 0; i < 3; ++i) {
      CHECK(out[0].get(i) == 1.0);
      CHECK(out[1].get(i) == -kInf);
      CHECK(out[2].get(i) == -kInf);
      CHECK(out[3].get(i) == kInf);
    }
    // A training step on a batch of 0 rows: the mean over no rows is 0/0, the gradient a sum over no rows.
    Graph h;
    Tensor X = h.input("X", {0, 4});
    Tensor W = h.shared("W", Array::randn({4, 2}, 1));
    Tensor cost = mean(square(matmul(X, W)));
    std::vector<Tensor> gr = grad(cost, {W});
    Function step = compile({X}, {cost, gr[0]}, {{W, W - 0.1f * gr[0]}}, CompileOptions{.backend = backend});
    std::vector<Array> result = step({Array(DType::f32, {0, 4})});
    CHECK(std::isnan(result[0].get(0)));
    for (std::int64_t i = 0; i < 8; ++i) CHECK(result[1].get(i) == 0.0);
  }
}

TEST_CASE("f32 matmul accumulates in f32 on both backends, within the bound of any summation order", "[jit]") {
  // docs/IR.md: products and sums in f32, in an order the backend chooses; partial sums overflow as f32 does.
  Graph g;
  Tensor a = g.input("a", {1, 3}), b = g.input("b", {3, 1});
  Array ones = Array::full({3, 1}, 1.0);
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    INFO((backend == Backend::jit ? "jit" : "interpreter"));
    CHECK(std::isinf(run_on(backend, {a, b}, {matmul(a, b)},
                            {Array::from(std::vector<float>{3e38f, 3e38f, -3e38f}, {1, 3}), ones})[0]
                         .get(0)));
    float inf = std::numeric_limits<float>::infinity();
    CHECK(std::isnan(
        run_on(backend, {a, b}, {matmul(a, b)}, {Array::from(std::vector<float>{3e38f, 3e38f, -inf}, {1, 3}), ones})[0]
            .get(0)));
  }
  // On ordinary numbers both are within K·u·Σ|a||b| (u = 2^-24) of the exact sum, whatever their order.
  const std::int64_t m = 17, k = 4099, n = 5;
  Graph h;
  Tensor x = h.input("x", {m, k}), y = h.input("y", {k, n});
  std::vector<Array> args{Array::randn({m, k}, 3), Array::randn({k, n}, 4)};
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    Array got = run_on(backend, {x, y}, {matmul(x, y)}, args)[0];
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        double exact = 0, magnitude = 0;
        for (std::int64_t q = 0; q < k; ++q) {
          double p = args[0].get(i * k + q) * args[1].get(q * n + j);
          exact += p;
          magnitude += std::abs(p);
        }
        CHECK(std::abs(got.get(i * n + j) - exact) <= static_cast<double>(k) * 0x1p-24 * magnitude);
      }
  }
}

TEST_CASE("two Functions updating one shared variable from two threads lose no update", "[jit]") {
  // Large enough that the calls' kernels (over 2^18 elements, split over threads) overlap if nothing orders them.
  const std::int64_t n = 1 << 18;
  Graph g;
  Tensor w = g.shared("w", Array::zeros({n}));
  Tensor x = g.input("x", {n});
  Function add_one = compile({x}, {}, {{w, w + 1.0f}});
  Function add_one_again = compile({x}, {sum(w)}, {{w, w + x}});
  Array zeros = Array::zeros({n}), ones = Array::full({n}, 1.0);
  std::thread first([&] {
    for (int i = 0; i < 300; ++i) add_one({zeros});
  });
  std::thread second([&] {
    for (int i = 0; i < 300; ++i) add_one_again({ones});
  });
  first.join();
  second.join();
  Array value = w.get_value();
  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) wrong += value.get(i) == 600.0 ? 0 : 1;
  INFO("element 0 ended at " << value.get(0));
  CHECK(wrong == 0);
}

TEST_CASE("backend results are judged against the spread rounding causes, not a fixed tolerance") {
  Array reference = Array::from(std::vector<double>{1.0, 0.0, 1e-3, INFINITY, NAN});
  // Two Monte Carlo runs: element 1 cancels (its runs spread to 1e-9), the others are well-conditioned.
  std::vector<Array> runs{Array::from(std::vector<double>{1.0 + 1e-16, 1e-9, 1e-3, INFINITY, NAN}),
                          Array::from(std::vector<double>{1.0 - 1e-16, -5e-10, 1e-3, INFINITY, NAN})};
  auto ratio = [&](std::vector<double> got) {
    return codegen::disagreement(reference, reference, runs, Array::from(got), 1e-15, 0).ratio;
  };
  CHECK(ratio({1.0, 0.0, 1e-3, INFINITY, NAN}) == 0);
  CHECK(ratio({1.0 + 1e-15, 3e-9, 1e-3, INFINITY, NAN}) <= 1);  // within the spread where it cancels
  CHECK(ratio({1.0 + 1e-12, 0.0, 1e-3, INFINITY, NAN}) > 1);    // not where it is well-conditioned
  CHECK(ratio({1.0, 1e-6, 1e-3, INFINITY, NAN}) > 1);           // nor far beyond the spread
  CHECK(ratio({1.0, 0.0, 1e-3, -INFINITY, NAN}) > 1);           // an infinity of the other sign
  CHECK(ratio({1.0, 0.0, 1e-3, INFINITY, 0.0}) > 1);            // a NaN lost
}
