// Batch and layer normalization, prelu and rrelu: training and inference semantics, running statistics, kernels.
// (Their gradients are checked against finite differences with every other op, in op_cases.cpp.)

#include <cmath>

#include <catch2/catch.hpp>

#include <loom/loom.h>

using namespace loom;

namespace {

int kernels(const Function& f) {
  int n = 0;
  const ir::Graph& g = f.graph();
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id) n += !g.node(id).dead && g.node(id).op == ir::OpKind::fused ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("batch norm normalizes by the batch in training, by the running statistics in inference, which follow the batches", "[jit]") {
  const std::int64_t n = 16, c = 3;
  const double momentum = 0.2, eps = 1e-5;
  Graph g;
  Tensor x = g.input("x", {n, c}, DType::f64);
  Tensor gamma = g.shared("gamma", Array::from(std::vector<double>{1.0, 2.0, 0.5}, {c}));
  Tensor beta = g.shared("beta", Array::from(std::vector<double>{0.0, -1.0, 3.0}, {c}));
  Tensor rm = g.shared("rm", Array::zeros({c}, DType::f64)), rv = g.shared("rv", Array::full({c}, 1.0, DType::f64));
  Tensor y = batch_norm(x, gamma, beta, rm, rv, momentum, eps);
  Function train = compile({x}, {y}), infer = compile({x}, {y}, {}, {.training = false});
  std::vector<double> want_mean(c, 0.0), want_var(c, 1.0);
  for (int step = 0; step < 10; ++step) {
    Array xv = init::normal({n, c}, 2.0 * step, 1.0 + step, 50 + step, DType::f64);
    Array out = train({xv})[0];
    for (std::int64_t j = 0; j < c; ++j) {
      double mean = 0, var = 0;
      for (std::int64_t i = 0; i < n; ++i) mean += xv.get(i * c + j) / n;
      for (std::int64_t i = 0; i < n; ++i) var += (xv.get(i * c + j) - mean) * (xv.get(i * c + j) - mean) / n;
      for (std::int64_t i = 0; i < n; ++i) {
        double want = gamma.get_value().get(j) * (xv.get(i * c + j) - mean) / std::sqrt(var + eps) + beta.get_value().get(j);
        CHECK(out.get(i * c + j) == Approx(want).epsilon(1e-10));
      }
      want_mean[static_cast<std::size_t>(j)] = (1 - momentum) * want_mean[static_cast<std::size_t>(j)] + momentum * mean;
      want_var[static_cast<std::size_t>(j)] = (1 - momentum) * want_var[static_cast<std::size_t>(j)] + momentum * var * n / (n - 1.0);
    }
  }
  for (std::int64_t j = 0; j < c; ++j) {
    CHECK(rm.get_value().get(j) == Approx(want_mean[static_cast<std::size_t>(j)]).epsilon(1e-10));
    CHECK(rv.get_value().get(j) == Approx(want_var[static_cast<std::size_t>(j)]).epsilon(1e-10));
  }
  // Inference uses the running statistics and leaves them as they are.
  Array xv = init::normal({n, c}, 0, 1, 99, DType::f64);
  Array out = infer({xv})[0];
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < c; ++j) {
      double want = gamma.get_value().get(j) * (xv.get(i * c + j) - rm.get_value().get(j)) / std::sqrt(rv.get_value().get(j) + eps) +
                    beta.get_value().get(j);
      CHECK(out.get(i * c + j) == Approx(want).epsilon(1e-10));
    }
  CHECK(rm.get_value().get(0) == Approx(want_mean[0]).epsilon(1e-10));
}

TEST_CASE("batch norm runs in two kernels forward (statistics, normalization) and two more backward", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {64, 32});
  Tensor gamma = g.shared("gamma", init::constant({32}, 1.0)), beta = g.shared("beta", init::zeros({32}));
  Tensor rm = g.shared("rm", init::zeros({32})), rv = g.shared("rv", init::constant({32}, 1.0));
  Tensor y = batch_norm(x, gamma, beta, rm, rv);
  Function forward = compile({x}, {y});
  INFO(forward.ir());
  CHECK(kernels(forward) <= 2);
  std::vector<Tensor> gr = grad(sum(y * y), {x, gamma, beta});
  Function both = compile({x}, {gr[0], gr[1], gr[2]});
  INFO(both.ir());
  CHECK(kernels(both) <= 4);
}

TEST_CASE("a conv-bn-relu-pool block stores one full-size value of its batch norm for the backward pass", "[jit]") {
  // The backward kernels recompute x - mean, the normalized and the activated values from the convolution's output
  // and the per-channel statistics (the rematerialize pass) instead of loading copies of them.
  nn::Parameters params(1);
  Graph g;
  Tensor x = g.input("x", {8, 3, 10, 10});
  Tensor c = nn::conv2d(x, 16, 3, params, {.name = "conv", .bias = false});
  Tensor y = nn::max_pool2d(relu(nn::batch_norm2d(c, params, {.name = "bn"})), 2);
  std::vector<Tensor> gr = grad(sum(y * y), params.trainable);
  auto count_full_size = [&](const std::string& pipeline, bool check_forward) {
    Function step = compile({x}, gr, {}, CompileOptions{.pipeline = pipeline});
    const ir::Graph& f = step.graph();
    INFO(pipeline << "\n" << step.ir());
    int full_size = 0;
    for (ir::NodeId id = 0; id < f.num_nodes(); ++id) {
      const ir::Node& n = f.node(id);
      if (n.dead) continue;
      if (n.op == ir::OpKind::fused)
        for (const TensorType& r : n.results) {
          full_size += r.shape == c.shape();
          if (check_forward) CHECK_FALSE((r.shape == c.shape() && r.dtype == DType::f64));  // no f64 copy of x
        }
      if (check_forward && n.op == ir::OpKind::max_pool2d) CHECK(f.node(n.operands[0]).results.size() == 1);
    }
    return full_size;
  };
  int with = count_full_size("O2", true);
  int without = count_full_size("modes,canonicalize,stabilize,autodiff,fixpoint<8>(canonicalize,cse,stabilize),dce,fuse,dce,schedule,plan-memory", false);
  CHECK(with + 3 <= without);  // the centered, normalized and pre-activation values at least
}

TEST_CASE("layer norm normalizes each row by its own mean and variance") {
  Graph g;
  Tensor x = g.input("x", {5, 7}, DType::f64);
  Tensor gamma = g.input("gamma", {7}, DType::f64), beta = g.input("beta", {7}, DType::f64);
  Array xv = init::normal({5, 7}, 3.0, 2.0, 1, DType::f64), gv = init::uniform({7}, 0.5, 2, 2, DType::f64),
        bv = init::uniform({7}, -1, 1, 3, DType::f64);
  Array out = compile({x, gamma, beta}, {layer_norm(x, gamma, beta, 1e-3)})({xv, gv, bv})[0];
  for (std::int64_t i = 0; i < 5; ++i) {
    double mean = 0, var = 0;
    for (std::int64_t j = 0; j < 7; ++j) mean += xv.get(i * 7 + j) / 7;
    for (std::int64_t j = 0; j < 7; ++j) var += (xv.get(i * 7 + j) - mean) * (xv.get(i * 7 + j) - mean) / 7;
    for (std::int64_t j = 0; j < 7; ++j)
      CHECK(out.get(i * 7 + j) == Approx(gv.get(j) * (xv.get(i * 7 + j) - mean) / std::sqrt(var + 1e-3) + bv.get(j)).epsilon(1e-12));
  }
}

TEST_CASE("rrelu draws a slope in [lower, upper] per element in training and uses their mean in inference", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {10000});
  Tensor y = rrelu(x, 0.1, 0.3);
  Array xv = Array::full({10000}, -1.0);
  Array trained = compile({x}, {y})({xv})[0];
  double lowest = 1, highest = 0, sum = 0;
  for (std::int64_t i = 0; i < trained.size(); ++i) {
    double slope = -trained.get(i);
    lowest = std::min(lowest, slope);
    highest = std::max(highest, slope);
    sum += slope;
  }
  CHECK(lowest >= 0.1 - 1e-7);
  CHECK(highest <= 0.3 + 1e-7);
  CHECK(highest - lowest > 0.19);  // the draws cover the range
  CHECK(sum / 10000 == Approx(0.2).margin(4 * 0.2 / std::sqrt(12.0 * 10000)));
  Array inferred = compile({x}, {y}, {}, {.training = false})({xv})[0];
  for (std::int64_t i = 0; i < inferred.size(); ++i) CHECK(inferred.get(i) == Approx(-0.2).epsilon(1e-6));
  // Positive inputs pass through in both modes.
  CHECK(compile({x}, {y})({Array::full({10000}, 2.0)})[0].get(7) == 2.0);
}

TEST_CASE("rrelu's gradient matches central differences in training (for one step's slopes) and in inference", "[jit]") {
  for (bool training : {true, false}) {
    INFO((training ? "training" : "inference"));
    Graph g;
    Tensor x = g.input("x", {3, 5}, DType::f64), r = g.input("r", {3, 5}, DType::f64);
    Tensor cost = sum(rrelu(x, 0.1, 0.3) * r);
    CompileOptions options{.training = training};
    Function f_cost = compile({x, r}, {cost}, {}, options), f_grad = compile({x, r}, {grad(cost, {x})[0]}, {}, options);
    // Every call starts from step 0, so training draws the same slopes each time.
    auto at_step_zero = [&](const Function& f, const std::vector<Array>& args) {
      g.random_step().set_value(Array::scalar(0.0));
      return f(args)[0];
    };
    Array xv = init::uniform({3, 5}, -2, 2, 4, DType::f64), rv = init::uniform({3, 5}, -1, 1, 5, DType::f64);
    for (std::int64_t i = 0; i < xv.size(); ++i)
      if (std::abs(xv.get(i)) < 0.1) xv.set(i, 0.5);  // away from the kink
    Array symbolic = at_step_zero(f_grad, {xv, rv});
    for (std::int64_t i = 0; i < xv.size(); ++i) {
      double original = xv.get(i), eps = 1e-6;
      xv.set(i, original + eps);
      double up = at_step_zero(f_cost, {xv, rv}).item<double>();
      xv.set(i, original - eps);
      double down = at_step_zero(f_cost, {xv, rv}).item<double>();
      xv.set(i, original);
      CHECK(symbolic.get(i) == Approx((up - down) / (2 * eps)).margin(1e-6));
    }
  }
}
