// Regularizers, gradient transforms and averaging (frontend/regularize.h, frontend/averaging.h).

#include <cmath>
#include <set>

#include <catch2/catch.hpp>

#include <loom/loom.h>

using namespace loom;

namespace {

double norm(const Array& a) {
  double s = 0;
  for (std::int64_t i = 0; i < a.size(); ++i) s += a.get(i) * a.get(i);
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("the L1 and L2 penalties' gradients are the L1 and weight-decay gradient terms") {
  Graph g;
  std::vector<Tensor> params{g.shared("W", init::uniform({5, 4}, -1, 1, 1, DType::f64)), g.shared("b", init::uniform({4}, -1, 1, 2, DType::f64))};
  std::vector<Tensor> zero{full_like(params[0], 0.0), full_like(params[1], 0.0)};
  std::vector<Tensor> from_l2 = grad(regularize::l2(params, 0.3), params), from_l1 = grad(regularize::l1(params, 0.2), params);
  std::vector<Tensor> terms2 = transform::weight_decay(params, zero, 0.3), terms1 = transform::l1_decay(params, zero, 0.2);
  std::vector<Array> got = compile({}, {from_l2[0], from_l2[1], terms2[0], terms2[1], from_l1[0], from_l1[1], terms1[0], terms1[1],
                                        regularize::l2(params, 0.3)})({});
  double squares = 0;
  for (int k = 0; k < 2; ++k) {
    Array p = params[static_cast<std::size_t>(k)].get_value();
    for (std::int64_t i = 0; i < p.size(); ++i) {
      squares += p.get(i) * p.get(i);
      CHECK(got[static_cast<std::size_t>(k)].get(i) == Approx(0.3 * p.get(i)).epsilon(1e-14));
      CHECK(got[static_cast<std::size_t>(2 + k)].get(i) == Approx(0.3 * p.get(i)).epsilon(1e-14));
      CHECK(got[static_cast<std::size_t>(4 + k)].get(i) == Approx(0.2 * (p.get(i) > 0 ? 1 : -1)).epsilon(1e-14));
      CHECK(got[static_cast<std::size_t>(6 + k)].get(i) == Approx(0.2 * (p.get(i) > 0 ? 1 : -1)).epsilon(1e-14));
    }
  }
  CHECK(got[8].item<double>() == Approx(0.15 * squares).epsilon(1e-14));
}

TEST_CASE("clipping by value, by each tensor's norm and by the global norm", "[jit]") {
  Graph g;
  Tensor a = g.input("a", {30}, DType::f64), b = g.input("b", {2, 7}, DType::f64);
  std::vector<Tensor> by_value = transform::clip_by_value({a, b}, 0.5), by_norm = transform::clip_by_norm({a, b}, 1.0),
                      global = transform::clip_by_global_norm({a, b}, 1.0);
  Function f = compile({a, b}, {by_value[0], by_value[1], by_norm[0], by_norm[1], global[0], global[1]});
  Array av = init::uniform({30}, -2, 2, 3, DType::f64), bv = init::uniform({2, 7}, -0.1, 0.1, 4, DType::f64);
  std::vector<Array> got = f({av, bv});
  for (std::int64_t i = 0; i < av.size(); ++i) CHECK(got[0].get(i) == std::min(std::max(av.get(i), -0.5), 0.5));
  // a has norm > 1 and is scaled onto the sphere; b (norm < 1) is left alone.
  CHECK(norm(got[2]) == Approx(1.0).epsilon(1e-12));
  CHECK(norm(av) > 1.0);
  CHECK(norm(bv) < 1.0);
  for (std::int64_t i = 0; i < bv.size(); ++i) CHECK(got[3].get(i) == bv.get(i));
  double total = std::sqrt(norm(av) * norm(av) + norm(bv) * norm(bv));
  for (std::int64_t i = 0; i < av.size(); ++i) CHECK(got[4].get(i) == Approx(av.get(i) / total).epsilon(1e-12));
  for (std::int64_t i = 0; i < bv.size(); ++i) CHECK(got[5].get(i) == Approx(bv.get(i) / total).epsilon(1e-12));
}

TEST_CASE("annealed gradient noise has variance eta/(1+t)^gamma at step t", "[jit]") {
  const double eta = 0.3, gamma = 0.55;
  const std::int64_t n = 1 << 20;
  Graph g;
  Tensor grad_in = g.input("g", {n}, DType::f64);
  Function f = compile({grad_in}, {transform::gradient_noise({grad_in}, eta, gamma)[0]});
  for (double t : {0.0, 5.0, 100.0}) {
    g.random_step().set_value(Array::scalar(t));
    Array noisy = f({Array::full({n}, 2.0, DType::f64)})[0];
    double sum = 0, squares = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      sum += noisy.get(i) - 2.0;
      squares += (noisy.get(i) - 2.0) * (noisy.get(i) - 2.0);
    }
    double variance = eta / std::pow(1.0 + t, gamma), mean = sum / n, sample = squares / n - mean * mean;
    INFO("step " << t << ": sample variance " << sample << ", schedule " << variance);
    CHECK(std::abs(mean) <= 4 * std::sqrt(variance / n));
    CHECK(std::abs(sample - variance) <= 4 * variance * std::sqrt(2.0 / n));  // 4 standard errors
  }
}

TEST_CASE("one-bit gradients with error feedback sum, with the final residual, to the raw gradients", "[jit]") {
  Graph g;
  Tensor w = g.shared("w", Array::zeros({3, 50}, DType::f64));
  Tensor raw = g.input("raw", {3, 50}, DType::f64);
  std::vector<Tensor> quantized = transform::one_bit({w}, {raw});
  Function step = compile({raw}, {quantized[0]}, optim::sgd({w}, quantized, {.lr = 1.0}));
  Array raw_sum = Array::zeros({3, 50}, DType::f64), quantized_sum = Array::zeros({3, 50}, DType::f64);
  for (int t = 0; t < 5; ++t) {
    Array gv = init::normal({3, 50}, 0, 1, 10 + t, DType::f64);
    Array q = step({gv})[0];
    // Each step sends one magnitude and a sign per element.
    for (std::int64_t i = 1; i < q.size(); ++i) CHECK(std::abs(q.get(i)) == Approx(std::abs(q.get(0))).epsilon(1e-15));
    for (std::int64_t i = 0; i < gv.size(); ++i) {
      raw_sum.set(i, raw_sum.get(i) + gv.get(i));
      quantized_sum.set(i, quantized_sum.get(i) + q.get(i));
    }
  }
  Tensor residual;
  for (ir::NodeId id : g.state)
    if (g.node(id).name == "w.residual") residual = Tensor(Expr(&g, {id, 0}));
  REQUIRE(residual.defined());
  Array r = residual.get_value();
  for (std::int64_t i = 0; i < r.size(); ++i) CHECK(quantized_sum.get(i) + r.get(i) == Approx(raw_sum.get(i)).margin(1e-12));
  CHECK(w.get_value().get(0) == Approx(-quantized_sum.get(0)).epsilon(1e-12));  // sgd stepped by the quantized ones
}

TEST_CASE("moving averages of the parameters follow their updates, and swap in for evaluation", "[jit]") {
  Graph g;
  Tensor w = g.shared("w", Array::full({4}, 1.0, DType::f64));
  Tensor gw = g.input("gw", {4}, DType::f64);
  Updates step = optim::sgd({w}, {gw}, {.lr = 0.5});
  averaging::MovingAverage average = averaging::ema({w}, step, 0.9);
  step.insert(step.end(), average.updates.begin(), average.updates.end());
  Function train = compile({gw}, {}, step);
  double want_w = 1.0, want_avg = 1.0;
  for (int t = 0; t < 4; ++t) {
    train({Array::full({4}, 1.0 + t, DType::f64)});
    want_w -= 0.5 * (1.0 + t);
    want_avg = 0.9 * want_avg + 0.1 * want_w;
  }
  CHECK(w.get_value().get(2) == Approx(want_w).epsilon(1e-14));
  CHECK(average.averages[0].get_value().get(2) == Approx(want_avg).epsilon(1e-14));
  average.swap();
  CHECK(w.get_value().get(2) == Approx(want_avg).epsilon(1e-14));
  average.swap();
  CHECK(w.get_value().get(2) == Approx(want_w).epsilon(1e-14));
}

TEST_CASE("saved parameter sets average elementwise, and an ensemble averages its members' predictions") {
  std::vector<Array> mean = averaging::mean_of_sets({{Array::full({2}, 1.0)}, {Array::full({2}, 2.0)}, {Array::full({2}, 6.0)}});
  CHECK(mean[0].get(1) == Approx(3.0));
  CHECK_THROWS_WITH(averaging::mean_of_sets({{Array::full({2}, 1.0)}, {Array::full({3}, 2.0)}}),
                    Catch::Matchers::Contains("array 0 of set 1 is f32[3], of set 0 f32[2]"));
  Graph g;
  Tensor x = g.input("x", {3, 4});
  std::vector<Tensor> members;
  for (int k = 0; k < 3; ++k) members.push_back(softmax(matmul(x, g.shared("W" + std::to_string(k), init::glorot_uniform({4, 5}, k))), -1));
  std::vector<Array> got = compile({x}, {averaging::ensemble(members), members[0], members[1], members[2]})({Array::randn({3, 4}, 1)});
  for (std::int64_t i = 0; i < got[0].size(); ++i)
    CHECK(got[0].get(i) == Approx((got[1].get(i) + got[2].get(i) + got[3].get(i)) / 3).epsilon(1e-6));
}

TEST_CASE("Adam with weight decay, global-norm clipping and an EMA updates each parameter in one kernel, in place", "[jit]") {
  Graph g;
  Tensor X = g.input("X", {32, 20}), y = g.input("y", {32}, DType::i32);
  std::vector<Tensor> params{g.shared("W1", init::he_normal({20, 16}, 1)), g.shared("b1", init::zeros({16})),
                             g.shared("W2", init::glorot_uniform({16, 10}, 2)), g.shared("b2", init::zeros({10}))};
  Tensor cost = softmax_cross_entropy(matmul(relu(matmul(X, params[0]) + params[1]), params[2]) + params[3], y);
  std::vector<Tensor> grads = transform::clip_by_global_norm(transform::weight_decay(params, grad(cost, params), 1e-4), 1.0);
  Updates step = optim::adam(params, grads, {.lr = 1e-3});
  averaging::MovingAverage average = averaging::ema(params, step, 0.99);
  step.insert(step.end(), average.updates.begin(), average.updates.end());
  Function train = compile({X, y}, {cost}, step);
  const ir::Graph& f = train.graph();
  INFO(train.ir());
  for (const Tensor& p : params) {
    // The kernel writing the parameter in place also writes its moments and its average in place.
    int kernels = 0;
    for (ir::NodeId id = 0; id < f.num_nodes(); ++id) {
      const ir::Node& n = f.node(id);
      if (n.dead || n.op != ir::OpKind::fused) continue;
      std::set<std::string> written;
      for (const ir::Buffer& buffer : n.buffers)
        if (buffer.kind == ir::Buffer::Kind::state) written.insert(f.node(f.state[buffer.index]).name);
      if (!written.count(p.name())) continue;
      ++kernels;
      CHECK(written == std::set<std::string>{p.name(), p.name() + ".m", p.name() + ".v", p.name() + ".ema"});
    }
    CHECK(kernels == 1);
  }
  Array labels(DType::i32, {32});
  for (std::int64_t i = 0; i < 32; ++i) labels.set(i, static_cast<double>(i % 10));
  float first = train({Array::randn({32, 20}, 3), labels})[0].item<float>();
  for (int s = 0; s < 20; ++s) train({Array::randn({32, 20}, 3), labels});
  CHECK(train({Array::randn({32, 20}, 3), labels})[0].item<float>() < first);
}
