// Grads of grads: Hessian-vector products against central differences of the gradient, in f64.

#include <functional>

#include <catch2/catch.hpp>
#include <loom/loom.h>

using namespace loom;

namespace {

/// Checks H·v = d/dε grad f(x + ε v) for f built by `cost` from x of `shape`.
void check_hvp(const Shape& shape, const std::function<Expr(Graph&, const Tensor&)>& cost_of) {
  constexpr double kEps = 1e-6, kAtol = 1e-5, kRtol = 1e-3;
  Graph g;
  Tensor x = g.input("x", shape, DType::f64);
  Tensor v = g.input("v", shape, DType::f64);
  Tensor cost = cost_of(g, x);
  Tensor gx = grad(cost, {x})[0];
  Tensor hv = grad(sum(gx * v), {x})[0];
  Function f_grad = compile({x}, {gx});
  Function f_hv = compile({x, v}, {hv});
  CHECK(f_hv.ir().find("grad(") == std::string::npos);

  Array x0 = Array::uniform(shape, -1.0, 1.0, 11, DType::f64), dir = Array::uniform(shape, -1.0, 1.0, 12, DType::f64);
  Array up = x0.copy(), down = x0.copy();
  for (std::int64_t i = 0; i < x0.size(); ++i) {
    up.set(i, x0.get(i) + kEps * dir.get(i));
    down.set(i, x0.get(i) - kEps * dir.get(i));
  }
  std::vector<double> g_up = f_grad({up})[0].to_vector<double>(), g_down = f_grad({down})[0].to_vector<double>();
  std::vector<double> symbolic = f_hv({x0, dir})[0].to_vector<double>();
  REQUIRE(symbolic.size() == g_up.size());
  for (std::size_t i = 0; i < symbolic.size(); ++i) {
    double numeric = (g_up[i] - g_down[i]) / (2 * kEps);
    INFO("element " << i << ": finite difference " << numeric << ", symbolic " << symbolic[i]);
    CHECK(std::abs(numeric - symbolic[i]) <= kAtol + kRtol * std::abs(numeric));
  }
}

}  // namespace

TEST_CASE("Hessian-vector product of a tanh layer's squared output") {
  check_hvp({5}, [](Graph& g, const Tensor& x) {
    Tensor W = g.shared("W", Array::uniform({3, 5}, -1.0, 1.0, 5, DType::f64));
    return sum(square(tanh(matmul(W, x))));
  });
}

TEST_CASE("Hessian-vector product of softmax cross-entropy with respect to the weights") {
  check_hvp({4, 3}, [](Graph& g, const Tensor& W) {
    Tensor X = g.shared("X", Array::uniform({6, 4}, -1.0, 1.0, 6, DType::f64));
    Tensor labels = g.shared("labels", Array::from<std::int32_t>({0, 2, 1, 1, 0, 2}));
    return softmax_cross_entropy(matmul(X, W), labels);
  });
}

TEST_CASE("Hessian-vector product through log_softmax, logsumexp, sigmoid and broadcasting") {
  check_hvp({3, 4}, [](Graph& g, const Tensor& x) {
    Tensor c = g.shared("c", Array::uniform({4}, -1.0, 1.0, 7, DType::f64));
    return sum(log_softmax(x) * c) + logsumexp(x * x) + mean(sigmoid(x * c) * exp(0.5f * x));
  });
}
