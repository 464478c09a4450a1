// Layer helpers (nn::), label smoothing and mixup.

#include <cmath>

#include <catch2/catch.hpp>

#include <loom/loom.h>

using namespace loom;

namespace {

Array labels_of(std::vector<int> values) {
  Array a(DType::i32, {static_cast<std::int64_t>(values.size())});
  for (std::size_t i = 0; i < values.size(); ++i) a.set(static_cast<std::int64_t>(i), values[i]);
  return a;
}

}  // namespace

TEST_CASE("an MLP written with nn layers names its parameters, keeps its state apart and trains", "[jit]") {
  Graph g;
  Tensor X = g.input("X", {32, 20}), y = g.input("y", {32}, DType::i32);
  nn::Parameters params(/*seed=*/7);
  Tensor h = relu(nn::batch_norm(nn::dense(X, 16, params, {.name = "fc1"}), params, {.name = "bn1"}));
  h = nn::dropout(nn::prelu(nn::layer_norm(h, params, {.name = "ln"}), params), 0.1);
  Tensor logits = nn::dense(h, 10, params, {.name = "out", .init = nn::Init::glorot_uniform});
  Tensor cost = softmax_cross_entropy(logits, y, 0.1);
  std::vector<std::string> names;
  for (const Tensor& p : params.trainable) names.push_back(p.name());
  CHECK(names == std::vector<std::string>{"fc1.W", "fc1.b", "bn1.gamma", "bn1.beta", "ln.gamma", "ln.beta", "prelu.alpha", "out.W", "out.b"});
  REQUIRE(params.state.size() == 2);
  CHECK(params.state[0].name() == "bn1.running_mean");
  Function train = compile({X, y}, {cost}, optim::adam(params.trainable, grad(cost, params.trainable), {.lr = 0.01}));
  Array xv = Array::randn({32, 20}, 1);
  Array labels(DType::i32, {32});
  for (std::int64_t i = 0; i < 32; ++i) labels.set(i, static_cast<double>(i % 10));
  float first = train({xv, labels})[0].item<float>();
  for (int s = 0; s < 30; ++s) train({xv, labels});
  CHECK(train({xv, labels})[0].item<float>() < first);
  CHECK(params.state[0].get_value().get(0) != 0.0);  // the running mean moved
  // The same layers built again from the same seed start from the same weights.
  Graph again;
  nn::Parameters more(7);
  nn::dense(again.input("X", {32, 20}), 16, more, {.name = "fc1"});
  CHECK(more.trainable[0].get_value().to_vector<float>() == init::he_normal({20, 16}, 7).to_vector<float>());
}

TEST_CASE("label smoothing is the cross-entropy against the smoothed targets") {
  const double eps = 0.2;
  Graph g;
  Tensor x = g.input("x", {3, 4}, DType::f64), y = g.input("y", {3}, DType::i32);
  Array xv = init::normal({3, 4}, 0, 2, 5, DType::f64);
  Array yv = labels_of({0, 3, 1});
  std::vector<Array> got = compile({x, y}, {softmax_cross_entropy(x, y, eps), softmax_cross_entropy(x, y, 0.0), softmax_cross_entropy(x, y)})({xv, yv});
  double want = 0;
  for (std::int64_t r = 0; r < 3; ++r) {
    double peak = -INFINITY, total = 0;
    for (std::int64_t k = 0; k < 4; ++k) peak = std::max(peak, xv.get(r * 4 + k));
    for (std::int64_t k = 0; k < 4; ++k) total += std::exp(xv.get(r * 4 + k) - peak);
    for (std::int64_t k = 0; k < 4; ++k) {
      double target = (k == yv.get(r) ? 1 - eps : 0) + eps / 4, log_p = xv.get(r * 4 + k) - peak - std::log(total);
      want -= target * log_p / 3;
    }
  }
  CHECK(got[0].item<double>() == Approx(want).epsilon(1e-12));
  CHECK(got[1].item<double>() == got[2].item<double>());
  CHECK_THROWS_WITH(softmax_cross_entropy(x, y, 1.0), Catch::Matchers::Contains("label smoothing 1 is not in [0, 1)"));
}

TEST_CASE("mixup mixes rows and their labels' losses with one seeded Beta(alpha, alpha) weight") {
  Array x = init::uniform({6, 3}, -1, 1, 1, DType::f64);
  Array labels = labels_of({0, 1, 2, 3, 4, 0});
  MixedBatch mixed = mixup(x, labels, 0.4, 11);
  double lambda = mixed.lambda.item<double>();
  CHECK(lambda > 0.0);
  CHECK(lambda < 1.0);
  for (std::int64_t r = 0; r < 6; ++r) {
    CHECK(mixed.labels_a.get(r) == labels.get(r));
    // Partner row p has label labels_b[r]; the mixed row combines row r and p.
    bool found = false;
    for (std::int64_t p = 0; p < 6 && !found; ++p) {
      bool same = labels.get(p) == mixed.labels_b.get(r);
      for (std::int64_t k = 0; k < 3 && same; ++k)
        same = std::abs(mixed.x.get(r * 3 + k) - (lambda * x.get(r * 3 + k) + (1 - lambda) * x.get(p * 3 + k))) < 1e-12;
      found = same;
    }
    CHECK(found);
  }
  MixedBatch again = mixup(x, labels, 0.4, 11);
  CHECK(again.lambda.item<double>() == lambda);
  CHECK(again.x.to_vector<double>() == mixed.x.to_vector<double>());
  // Its loss is the λ-weighted pair of cross-entropies.
  Graph g;
  Tensor logits = g.input("logits", {6, 5}, DType::f64), a = g.input("a", {6}, DType::i32), b = g.input("b", {6}, DType::i32);
  Tensor lam = g.input("lambda", {}, DType::f64);
  Array lv = init::normal({6, 5}, 0, 1, 3, DType::f64);
  std::vector<Array> got = compile({logits, a, b, lam}, {mixup_cross_entropy(logits, a, b, lam), softmax_cross_entropy(logits, a),
                                                         softmax_cross_entropy(logits, b)})({lv, mixed.labels_a, mixed.labels_b, mixed.lambda});
  CHECK(got[0].item<double>() == Approx(lambda * got[1].item<double>() + (1 - lambda) * got[2].item<double>()).epsilon(1e-12));
}
