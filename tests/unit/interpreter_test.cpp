// Forward values of the reference interpreter (the oracle every backend is compared with) against hand-computed
// results.

#include <cmath>

#include <catch2/catch.hpp>
#include <loom/loom.h>

using namespace loom;

namespace {
/// compile() on the reference interpreter.
Function compile_ref(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs) {
  return compile(inputs, outputs, {}, CompileOptions{.backend = Backend::interpreter});
}

std::vector<float> run1(const Tensor& in, const Expr& out, const Array& value) {
  return compile_ref({in}, {Tensor(out)})({value})[0].to_vector<float>();
}
}  // namespace

TEST_CASE("broadcasting follows NumPy") {
  Graph g;
  Tensor a = g.input("a", {2, 1}), b = g.input("b", {3});
  std::vector<Array> out = compile_ref({a, b}, {a * 10.0f + b})({Array::from<float>({1, 2}, {2, 1}), Array::from<float>({1, 2, 3})});
  CHECK(out[0].shape() == Shape{2, 3});
  CHECK(out[0].to_vector<float>() == std::vector<float>{11, 12, 13, 21, 22, 23});
}

TEST_CASE("matmul handles 2-D, matrix-vector and batched operands") {
  Graph g;
  Tensor a = g.input("a", {2, 2, 3}), b = g.input("b", {3, 2}), v = g.input("v", {3});
  Array av = Array::from<float>({1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0}, {2, 2, 3});
  Array bv = Array::from<float>({1, 0, 0, 1, 1, 1}, {3, 2}), vv = Array::from<float>({1, 1, 1});
  std::vector<Array> out = compile_ref({a, b, v}, {matmul(a, b), matmul(reshape(a, {4, 3}), v)})({av, bv, vv});
  CHECK(out[0].to_vector<float>() == std::vector<float>{4, 5, 10, 11, 1, 0, 0, 1});
  CHECK(out[1].to_vector<float>() == std::vector<float>{6, 15, 1, 1});
}

TEST_CASE("reductions, argmax and normalizations") {
  Graph g;
  Tensor x = g.input("x", {2, 3});
  Array xv = Array::from<float>({1, 5, 3, -1, -2, 0}, {2, 3});
  CHECK(run1(x, sum(x, 0), xv) == std::vector<float>{0, 3, 3});
  CHECK(run1(x, mean(x, 1), xv) == std::vector<float>{3, -1});
  CHECK(run1(x, max(x), xv) == std::vector<float>{5});
  CHECK(run1(x, min(x, 1, true), xv) == std::vector<float>{1, -2});
  CHECK(compile_ref({x}, {argmax(x, 1)})({xv})[0].to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 2});
  std::vector<float> p = run1(x, softmax(x), xv);
  CHECK(p[0] + p[1] + p[2] == Approx(1.0f));
  CHECK(p[1] == Approx(std::exp(5.0f) / (std::exp(1.0f) + std::exp(5.0f) + std::exp(3.0f))));
  std::vector<float> lse = run1(x, logsumexp(x, 1), xv);
  CHECK(lse[1] == Approx(std::log(std::exp(-1.0f) + std::exp(-2.0f) + 1.0f)));
}

TEST_CASE("layout ops move data as NumPy would") {
  Graph g;
  Tensor x = g.input("x", {2, 3});
  Array xv = Array::from<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  CHECK(run1(x, transpose(x), xv) == std::vector<float>{0, 3, 1, 4, 2, 5});
  CHECK(run1(x, slice(x, {0, 1}, {2, 3}), xv) == std::vector<float>{1, 2, 4, 5});
  CHECK(run1(x, slice(x, {}, {}, {1, 2}), xv) == std::vector<float>{0, 2, 3, 5});
  CHECK(run1(x, concat({x, x}, 1), xv) == std::vector<float>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  CHECK(run1(x, pad(slice(x, {0}, {1}), {0, 1}, {0, 0}, {0, 1}), xv) == std::vector<float>{0, 0, 0, 1, 0, 2});
  CHECK(run1(x, broadcast_to(slice(x, {1}, {2}), {2, 2, 3}), xv) == std::vector<float>{3, 4, 5, 3, 4, 5, 3, 4, 5, 3, 4, 5});
  Tensor k = g.input("k", {3}, DType::i32);
  CHECK(compile_ref({k}, {one_hot(k, 3)})({Array::from<std::int32_t>({2, 0, 5})})[0].to_vector<float>() ==
        std::vector<float>{0, 0, 1, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("activations match their definitions") {
  Graph g;
  Tensor x = g.input("x", {4});
  Array xv = Array::from<float>({-2.0f, -0.5f, 0.5f, 3.0f});
  std::vector<float> in = xv.to_vector<float>();
  auto each = [&](const Expr& y, auto f) {
    std::vector<float> got = run1(x, y, xv);
    for (int i = 0; i < 4; ++i) CHECK(got[i] == Approx(f(in[i])).epsilon(1e-6));
  };
  each(sigmoid(x), [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
  each(relu(x), [](float v) { return v > 0 ? v : 0.0f; });
  each(leaky_relu(x, 0.2), [](float v) { return v > 0 ? v : 0.2f * v; });
  each(elu(x), [](float v) { return v > 0 ? v : std::expm1(v); });
  each(selu(x), [](float v) { return 1.0507009873554805f * (v > 0 ? v : 1.6732632423543772f * std::expm1(v)); });
  each(softplus(x), [](float v) { return std::log1p(std::exp(v)); });
  each(swish(x), [](float v) { return v / (1.0f + std::exp(-v)); });
  each(sign(x), [](float v) { return v > 0 ? 1.0f : -1.0f; });
  each(rsqrt(abs(x)), [](float v) { return 1.0f / std::sqrt(std::fabs(v)); });
}

TEST_CASE("softplus, logsumexp and softmax cross-entropy stay finite for large inputs") {
  Graph g;
  Tensor x = g.input("x", {1, 3});
  Tensor labels = g.shared("labels", Array::from<std::int32_t>({0}));
  Array big = Array::from<float>({1000.0f, -1000.0f, 0.0f}, {1, 3});
  CHECK(run1(x, softplus(x), big) == std::vector<float>{1000.0f, 0.0f, std::log(2.0f)});
  CHECK(run1(x, logsumexp(x), big)[0] == Approx(1000.0f));
  CHECK(run1(x, softmax_cross_entropy(x, labels), big)[0] == Approx(0.0f).margin(1e-6));
}
