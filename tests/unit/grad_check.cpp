#include "grad_check.h"

#include <cmath>

#include <catch2/catch.hpp>

namespace loom::testing {

std::vector<Array> make_inputs(const OpCase& c, DType dtype, std::uint64_t seed) {
  std::vector<Array> inputs;
  for (std::size_t i = 0; i < c.shapes.size(); ++i) {
    Array u = Array::uniform(c.shapes[i], 0.0, 1.0, seed * 101 + i, DType::f64);
    Array x(dtype, c.shapes[i]);
    for (std::int64_t k = 0; k < x.size(); ++k) {
      double v = u.get(k);
      switch (c.domain) {
        case Domain::any: x.set(k, -2.0 + 4.0 * v); break;
        case Domain::positive: x.set(k, 0.5 + 1.5 * v); break;
        case Domain::away_from_zero: {
          double magnitude = 0.2 + 1.8 * std::fmod(v * 7.0, 1.0);
          x.set(k, v < 0.5 ? -magnitude : magnitude);
          break;
        }
      }
    }
    inputs.push_back(x);
  }
  return inputs;
}

namespace {

struct Built {
  Graph g;
  std::vector<Tensor> x;
  Tensor out;
};

void build(Built& b, const OpCase& c, DType dtype) {
  for (std::size_t i = 0; i < c.shapes.size(); ++i) b.x.push_back(b.g.input("x" + std::to_string(i), c.shapes[i], dtype));
  b.out = c.build(b.g, b.x);
}

}  // namespace

std::vector<double> run_forward(const OpCase& c, DType dtype, std::uint64_t seed) {
  Built b;
  build(b, c, dtype);
  Function f = compile(b.x, {b.out});
  return f(make_inputs(c, dtype, seed))[0].to_vector<double>();
}

void check_gradient(const OpCase& c, std::uint64_t seed) {
  constexpr double kEps = 1e-6, kAtol = 1e-5, kRtol = 1e-3;
  Built b;
  build(b, c, DType::f64);
  INFO("op case: " << c.name);
  REQUIRE(is_float(b.out.dtype()));
  Tensor r = b.g.input("r", b.out.shape(), DType::f64);
  Tensor cost = sum(b.out * r);
  std::vector<Tensor> grads = grad(cost, b.x);
  std::vector<Tensor> inputs = b.x;
  inputs.push_back(r);
  Function f_cost = compile(inputs, {cost});
  Function f_grad = compile(inputs, grads);

  std::vector<Array> args = make_inputs(c, DType::f64, seed);
  args.push_back(Array::uniform(b.out.shape(), -1.0, 1.0, seed + 999, DType::f64));
  std::vector<Array> analytic = f_grad(args);
  for (std::size_t i = 0; i < b.x.size(); ++i) {
    for (std::int64_t k = 0; k < args[i].size(); ++k) {
      double original = args[i].get(k);
      args[i].set(k, original + kEps);
      double up = f_cost(args)[0].item<double>();
      args[i].set(k, original - kEps);
      double down = f_cost(args)[0].item<double>();
      args[i].set(k, original);
      double numeric = (up - down) / (2 * kEps), symbolic = analytic[i].get(k);
      INFO("input " << i << " " << to_string(c.shapes[i]) << " element " << k << ": finite difference " << numeric
                    << ", symbolic " << symbolic);
      CHECK(std::abs(numeric - symbolic) <= kAtol + kRtol * std::abs(numeric));
    }
  }
}

}  // namespace loom::testing
