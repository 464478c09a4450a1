// Optimizers and initializers: each optimizer against a hand-written f64 reference of its documented formula
// (docs/OPTIMIZERS.md) over 5 steps, on the JIT and the interpreter, in f32 and f64.

#include <cmath>
#include <functional>

#include <catch2/catch.hpp>

#include <loom/loom.h>

using namespace loom;

namespace {

/// One element of a parameter and its optimizer state, as the reference steps it.
struct Element {
  double p = 0, a = 0, b = 0;  ///< the parameter, then its slots in the order the optimizer creates them
};

struct Case {
  const char* name;
  std::function<Updates(const std::vector<Tensor>&, const std::vector<Tensor>&)> build;
  double initial_a = 0;                                 ///< the first slot's initial value
  std::function<void(Element&, double g, int t)> step;  ///< the formula, step t = 1, 2, ...
};

const double lr = 0.05, mu = 0.8, rho = 0.9, beta1 = 0.85, beta2 = 0.99, eps = 1e-6, decay = 0.1;

std::vector<Case> cases() {
  return {
      {"sgd", [](auto& p, auto& g) { return optim::sgd(p, g, {.lr = lr}); }, 0,
       [](Element& e, double g, int) { e.p -= lr * g; }},
      {"momentum", [](auto& p, auto& g) { return optim::momentum(p, g, {.lr = lr, .momentum = mu}); }, 0,
       [](Element& e, double g, int) {
         e.a = mu * e.a + lr * g;
         e.p -= e.a;
       }},
      {"nesterov", [](auto& p, auto& g) { return optim::nesterov(p, g, {.lr = lr, .momentum = mu}); }, 0,
       [](Element& e, double g, int) {
         e.a = mu * e.a + lr * g;
         e.p -= mu * e.a + lr * g;
       }},
      {"adagrad", [](auto& p, auto& g) { return optim::adagrad(p, g, {.lr = lr, .epsilon = eps, .initial_accumulator = 0.1}); },
       0.1,
       [](Element& e, double g, int) {
         e.a += g * g;
         e.p -= lr * g / (std::sqrt(e.a) + eps);
       }},
      {"adadelta", [](auto& p, auto& g) { return optim::adadelta(p, g, {.lr = 1.0, .rho = rho, .epsilon = eps}); }, 0,
       [](Element& e, double g, int) {
         e.a = rho * e.a + (1 - rho) * g * g;
         double delta = std::sqrt(e.b + eps) / std::sqrt(e.a + eps) * g;
         e.b = rho * e.b + (1 - rho) * delta * delta;
         e.p -= delta;
       }},
      {"rmsprop", [](auto& p, auto& g) { return optim::rmsprop(p, g, {.lr = lr, .rho = rho, .epsilon = eps}); }, 0,
       [](Element& e, double g, int) {
         e.a = rho * e.a + (1 - rho) * g * g;
         e.p -= lr * g / (std::sqrt(e.a) + eps);
       }},
      {"adam", [](auto& p, auto& g) { return optim::adam(p, g, {.lr = lr, .beta1 = beta1, .beta2 = beta2, .epsilon = eps}); },
       0,
       [](Element& e, double g, int t) {
         e.a = beta1 * e.a + (1 - beta1) * g;
         e.b = beta2 * e.b + (1 - beta2) * g * g;
         double m_hat = e.a / (1 - std::pow(beta1, t)), v_hat = e.b / (1 - std::pow(beta2, t));
         e.p -= lr * m_hat / (std::sqrt(v_hat) + eps);
       }},
      {"adamw",
       [](auto& p, auto& g) {
         return optim::adamw(p, g, {.lr = lr, .beta1 = beta1, .beta2 = beta2, .weight_decay = decay, .epsilon = eps});
       },
       0,
       [](Element& e, double g, int t) {
         e.a = beta1 * e.a + (1 - beta1) * g;
         e.b = beta2 * e.b + (1 - beta2) * g * g;
         double m_hat = e.a / (1 - std::pow(beta1, t)), v_hat = e.b / (1 - std::pow(beta2, t));
         e.p -= lr * (m_hat / (std::sqrt(v_hat) + eps) + decay * e.p);
       }},
  };
}

}  // namespace

TEST_CASE("every optimizer follows its documented formula for 5 steps on the JIT and the interpreter", "[jit]") {
  for (const Case& c : cases())
    for (DType dtype : {DType::f32, DType::f64})
      for (Backend backend : {Backend::jit, Backend::interpreter}) {
        INFO(c.name << " in " << to_string(dtype) << " on the " << (backend == Backend::jit ? "JIT" : "interpreter"));
        Graph g;
        std::vector<Shape> shapes{{7, 5}, {5}};
        std::vector<Tensor> params, grads;
        std::vector<std::vector<Element>> want;
        for (std::size_t k = 0; k < shapes.size(); ++k) {
          Array initial = init::uniform(shapes[k], -1, 1, 10 + k, dtype);
          params.push_back(g.shared("p" + std::to_string(k), initial));
          grads.push_back(g.input("g" + std::to_string(k), shapes[k], dtype));
          want.emplace_back();
          for (std::int64_t i = 0; i < initial.size(); ++i) want.back().push_back({initial.get(i), c.initial_a, 0});
        }
        Function train = compile(grads, {}, c.build(params, grads), CompileOptions{.backend = backend});
        double rel = dtype == DType::f64 ? 1e-12 : 1e-5;
        for (int t = 1; t <= 5; ++t) {
          std::vector<Array> gradient_values;
          for (std::size_t k = 0; k < shapes.size(); ++k) {
            gradient_values.push_back(init::uniform(shapes[k], -1, 1, 100 * t + k, dtype));
            for (std::size_t i = 0; i < want[k].size(); ++i) c.step(want[k][i], gradient_values.back().get(static_cast<std::int64_t>(i)), t);
          }
          train(gradient_values);
          for (std::size_t k = 0; k < shapes.size(); ++k) {
            Array got = params[k].get_value();
            for (std::size_t i = 0; i < want[k].size(); ++i) {
              double w = want[k][i].p;
              INFO("step " << t << ", parameter " << k << " element " << i << ": want " << w << ", got " << got.get(static_cast<std::int64_t>(i)));
              // Relative to the parameters' scale (they start in [-1, 1]): an update that cancels a parameter to
              // near zero keeps the rounding of the terms it cancelled.
              CHECK(std::abs(got.get(static_cast<std::int64_t>(i)) - w) <= rel * std::max(std::abs(w), 1.0));
            }
          }
        }
      }
}

TEST_CASE("a shared hyperparameter changes the step without recompiling") {
  Graph g;
  Tensor w = g.shared("w", Array::full({4}, 1.0));
  Tensor gw = g.input("gw", {4});
  Tensor lr = g.shared("lr", Array::scalar(0.5f));
  Function train = compile({gw}, {}, optim::sgd({w}, {gw}, {.lr = lr}));
  Array ones = Array::full({4}, 1.0);
  train({ones});
  CHECK(w.get_value().get(0) == 0.5);
  lr.set_value(Array::scalar(0.25f));
  train({ones});
  CHECK(w.get_value().get(0) == 0.25);
}

TEST_CASE("optimizer state lives in shared variables named after the parameter, and one kernel updates each parameter in place") {
  Graph g;
  Tensor w = g.shared("W", init::glorot_uniform({64, 32}, 1)), b = g.shared("b", init::zeros({32}));
  Tensor gw = g.input("gW", {64, 32}), gb = g.input("gb", {32});
  Function train = compile({gw, gb}, {}, optim::adam({w, b}, {gw, gb}));
  const ir::Graph& f = train.graph();
  std::vector<std::string> names;
  for (ir::NodeId id : f.state) names.push_back(f.node(id).name);
  CHECK(names == std::vector<std::string>{"W", "b", "adam.step", "W.m", "W.v", "b.m", "b.v"});
  // Each parameter's update, with its moments, is one loop kernel whose results go straight into their state.
  for (const char* param : {"W", "b"}) {
    INFO(param << "\n" << train.ir());
    int kernels = 0;
    for (ir::NodeId id = 0; id < f.num_nodes(); ++id) {
      const ir::Node& n = f.node(id);
      if (n.dead || n.op != ir::OpKind::fused || n.results.size() != 3) continue;
      bool all_in_place = true, this_param = false;
      for (const ir::Buffer& buffer : n.buffers) {
        all_in_place = all_in_place && buffer.kind == ir::Buffer::Kind::state;
        this_param = this_param || (buffer.kind == ir::Buffer::Kind::state && f.node(f.state[buffer.index]).name == param);
      }
      if (this_param && all_in_place) ++kernels;
    }
    CHECK(kernels == 1);
  }
}

TEST_CASE("optimizers reject what is not a parameter and gradients of another type, at the caller's line") {
  Graph g;
  Tensor w = g.shared("w", Array::zeros({3}));
  Tensor x = g.input("x", {3}), wrong = g.input("wrong", {4});
  CHECK_THROWS_WITH(optim::adam({x}, {x}), Catch::Matchers::Contains("optim::adam: parameter 0 is not a shared variable") &&
                                               Catch::Matchers::Contains("optim_test.cpp"));
  CHECK_THROWS_WITH(optim::sgd({w}, {wrong}), Catch::Matchers::Contains("the gradient of 'w' (f32[3]) is f32[4]"));
  CHECK_THROWS_WITH(optim::sgd({w}, {}), Catch::Matchers::Contains("1 parameters but 0 gradients"));
  CHECK_THROWS_WITH(optim::sgd({w}, {x}, {.lr = x}), Catch::Matchers::Contains("a float scalar shared variable"));
}

TEST_CASE("initializers draw the variance they are named for, from fans of dense and convolution shapes") {
  CHECK(init::fans({784, 256}).in == 784);
  CHECK(init::fans({784, 256}).out == 256);
  CHECK(init::fans({32, 3, 5, 5}).in == 75);  // OIHW: in·kh·kw
  CHECK(init::fans({32, 3, 5, 5}).out == 800);
  CHECK(init::fans({10}).in == 10);
  struct Expectation {
    const char* name;
    Array values;
    double variance, limit;  ///< limit 0: unbounded (normal)
  };
  const Shape shape{400, 300};
  double fan_in = 400, fan_out = 300;
  std::vector<Expectation> expectations = {
      {"glorot_uniform", init::glorot_uniform(shape, 1), 2 / (fan_in + fan_out), std::sqrt(6 / (fan_in + fan_out))},
      {"glorot_normal", init::glorot_normal(shape, 2), 2 / (fan_in + fan_out), 0},
      {"he_uniform", init::he_uniform(shape, 3), 2 / fan_in, std::sqrt(6 / fan_in)},
      {"he_normal", init::he_normal(shape, 4), 2 / fan_in, 0},
      {"lecun_uniform", init::lecun_uniform(shape, 5), 1 / fan_in, std::sqrt(3 / fan_in)},
      {"normal", init::normal(shape, 0, 0.5, 6), 0.25, 0},
      {"uniform", init::uniform(shape, -0.3, 0.3, 7), 0.03, 0.3},
  };
  for (const Expectation& e : expectations) {
    INFO(e.name);
    double n = static_cast<double>(e.values.size()), sum = 0, squares = 0, largest = 0;
    for (std::int64_t i = 0; i < e.values.size(); ++i) {
      sum += e.values.get(i);
      squares += e.values.get(i) * e.values.get(i);
      largest = std::max(largest, std::abs(e.values.get(i)));
    }
    double mean = sum / n, variance = squares / n - mean * mean;
    CHECK(std::abs(mean) <= 4 * std::sqrt(e.variance / n));               // within 4 standard errors
    CHECK(std::abs(variance - e.variance) <= 4 * e.variance * std::sqrt(2 / n) * 1.5);  // of the variance too
    if (e.limit > 0) CHECK(largest <= e.limit);
  }
  // Seeded: the same seed gives the same values, another seed others.
  Array a = init::he_normal({5, 5}, 9), b = init::he_normal({5, 5}, 9), c = init::he_normal({5, 5}, 10);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
  CHECK(init::constant({2, 2}, 3.5).get(3) == 3.5);
  CHECK(init::zeros({2}, DType::f64).dtype() == DType::f64);
}
