// Numerical stability after O2 (issue #3): the stable forms give finite values and correct gradients far from 0.

#include <cmath>

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "logistic_regression_model.h"

using namespace loom;

TEST_CASE("the logistic-regression demo's cost is stable at logits of plus and minus 100 under O2") {
  const int N = 4;
  Graph g;
  models::LogisticRegression m = models::logistic_regression(g, N, Array::from<float>({50.0f, 50.0f}));
  Tensor X = m.X, y = m.y, cost = m.cost;
  std::vector<Tensor> gr = grad(cost, {m.w, m.b});
  // Logits z = 100 * x: +100, -100, +100, -100; labels chosen so two points are confidently wrong.
  Array data = Array::from<float>({1, -1, 1, -1, 1, -1, 1, -1}, {2, N});
  Array labels = Array::from<float>({1, 0, 0, 1});

  Function o2 = compile({X, y}, {cost, gr[0], gr[1]});
  std::string text = o2.ir();
  INFO(text);
  CHECK(text.find("log(") == std::string::npos);
  CHECK(text.find("softplus(") != std::string::npos);
  std::vector<Array> out = o2({data, labels});
  // Exact values in double: each wrong point costs softplus(100) = 100, each right one softplus(-100) ~ 0.
  double z[N] = {100, -100, 100, -100}, t[N] = {1, 0, 0, 1};
  double want_cost = 0.001 * (2500.0 + 2500.0), want_gw[2] = {0.1, 0.1}, want_gb = 0;
  for (int i = 0; i < N; ++i) {
    double p = 1.0 / (1.0 + std::exp(-z[i]));
    want_cost += (std::log1p(std::exp(-std::abs(z[i]))) + std::max(z[i], 0.0) - t[i] * z[i]) / N;
    for (int d = 0; d < 2; ++d) want_gw[d] += (p - t[i]) * data.get(d * N + i) / N;
    want_gb += (p - t[i]) / N;
  }
  CHECK(std::isfinite(out[0].item<float>()));
  CHECK(out[0].item<float>() == Approx(want_cost).epsilon(1e-5));
  CHECK(out[1].to_vector<float>()[0] == Approx(want_gw[0]).epsilon(1e-5));
  CHECK(out[1].to_vector<float>()[1] == Approx(want_gw[1]).epsilon(1e-5));
  CHECK(out[2].item<float>() == Approx(want_gb).margin(1e-6));

  // Without stabilization the same graph overflows: what O2 fixes is real.
  Function o0 = compile({X, y}, {cost}, {}, CompileOptions{.opt = OptLevel::O0});
  CHECK_FALSE(std::isfinite(o0({data, labels})[0].item<float>()));
}

TEST_CASE("log_softmax, logsumexp, softplus and softmax cross-entropy are finite with correct gradients at 1e3 in f32") {
  Graph g;
  Tensor x = g.input("x", {1, 3});
  Tensor labels = g.shared("labels", Array::from<std::int32_t>({1}));
  Array big = Array::from<float>({1000.0f, -1000.0f, 999.0f}, {1, 3});
  double e = std::exp(-1.0), p0 = 1.0 / (1.0 + e), p2 = e / (1.0 + e);  // softmax of (1000, -1000, 999)

  SECTION("log_softmax and its gradient") {
    std::vector<Array> out = compile({x}, {log_softmax(x), grad(sum(slice(log_softmax(x), {0, 0}, {1, 1})), {x})[0]})({big});
    std::vector<float> v = out[0].to_vector<float>(), gv = out[1].to_vector<float>();
    CHECK(v[0] == Approx(-std::log1p(e)));
    CHECK(v[1] == Approx(-2000.0 - std::log1p(e)));
    CHECK(gv[0] == Approx(1.0 - p0));
    CHECK(gv[1] == Approx(0.0).margin(1e-6));
    CHECK(gv[2] == Approx(-p2));
  }
  SECTION("logsumexp and its gradient") {
    std::vector<Array> out = compile({x}, {logsumexp(x), grad(logsumexp(x), {x})[0]})({big});
    CHECK(out[0].item<float>() == Approx(1000.0 + std::log1p(e)));
    // exp(x - logsumexp(x)) with both near 1e3, where an f32 ulp is 6e-5: agreement to 1e-4.
    std::vector<float> gv = out[1].to_vector<float>();
    CHECK(gv[0] == Approx(p0).epsilon(1e-4));
    CHECK(gv[1] == Approx(0.0).margin(1e-6));
    CHECK(gv[2] == Approx(p2).epsilon(1e-4));
  }
  SECTION("softplus and its gradient") {
    std::vector<Array> out = compile({x}, {softplus(x), grad(sum(softplus(x)), {x})[0]})({big});
    CHECK(out[0].to_vector<float>() == std::vector<float>{1000.0f, 0.0f, 999.0f});
    CHECK(out[1].to_vector<float>() == std::vector<float>{1.0f, 0.0f, 1.0f});
  }
  SECTION("softmax cross-entropy, fused or written by hand, and its gradient softmax - onehot") {
    Tensor fused = softmax_cross_entropy(x, labels);
    Tensor by_hand = mean(-sum(one_hot(labels, 3) * log(softmax(x)), -1));
    Function f = compile({x}, {fused, grad(fused, {x})[0], by_hand, grad(by_hand, {x})[0]});
    INFO(f.ir());
    std::vector<Array> out = f({big});
    for (int k : {0, 2}) {
      CHECK(out[k].item<float>() == Approx(2000.0 + std::log1p(e)));
      std::vector<float> gv = out[k + 1].to_vector<float>();
      CHECK(gv[0] == Approx(p0));
      CHECK(gv[1] == Approx(-1.0));
      CHECK(gv[2] == Approx(p2));
    }
    // The hand-written form became the fused op (and cse merged the two).
    CHECK(f.ir().find("log(") == std::string::npos);
    CHECK(f.ir().find("log_softmax(") == std::string::npos);
    CHECK(f.ir().find("one_hot") != std::string::npos);  // only in the gradient, softmax - onehot
  }
}
