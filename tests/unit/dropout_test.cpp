// Dropout: inverted, from Philox keyed by (seed, step, op, element), recomputed in the backward kernel, the same
// for any thread count and optimization level, a new mask each call, the identity in inference.

#include <cmath>
#include <cstring>

#include <catch2/catch.hpp>

#include <loom/loom.h>

#include "loom/runtime/philox.h"

using namespace loom;

namespace {

/// Runs f once from step 0 of the graph's random counter.
std::vector<Array> from_step_zero(Graph& g, const Function& f, const std::vector<Array>& args) {
  g.random_step().set_value(Array::scalar(0.0));
  return f(args);
}

bool same_bits(const Array& a, const Array& b) { return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0; }

/// Whether a kernel body's value depends on nothing but random ops and constants: a stored mask.
bool only_random(const ir::Graph& body, ir::Value v) {
  const ir::Node& n = body.node(v);
  if (n.info().has(ir::trait::Random) || n.op == ir::OpKind::constant) return true;
  if (n.op == ir::OpKind::input) return false;
  for (ir::Value o : n.operands)
    if (!only_random(body, o)) return false;
  return true;
}

}  // namespace

TEST_CASE("dropout keeps each element with probability 1 - rate and scales it by 1/(1 - rate)", "[jit]") {
  const double rate = 0.3;
  Graph g;
  Tensor x = g.input("x", {1000, 1000});
  Function f = compile({x}, {dropout(x, rate)});
  Array out = f({Array::full({1000, 1000}, 1.0)})[0];
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < out.size(); ++i) {
    if (out.get(i) == 0.0) continue;
    ++kept;
    if (out.get(i) != static_cast<float>(1.0 / (1.0 - rate))) FAIL("element " << i << " is " << out.get(i));
  }
  double n = 1e6, expected = n * (1 - rate), sigma = std::sqrt(n * rate * (1 - rate));
  INFO("kept " << kept << " of 1000000");
  CHECK(std::abs(static_cast<double>(kept) - expected) <= 4 * sigma);
}

TEST_CASE("dropout's backward pass keeps exactly the elements its forward pass kept, without storing a mask", "[jit]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    Graph g;
    Tensor x = g.input("x", {64, 300}, dtype);
    Tensor w = g.shared("w", Array::full({300}, 0.5, dtype));
    Tensor h = dropout(tanh(x * w), 0.4);
    Tensor cost = sum(h * 3.0);
    std::vector<Tensor> gr = grad(cost, {x, w});
    Function train = compile({x}, {h, gr[0], tanh(x * w)}, optim::sgd({w}, {gr[1]}, {.lr = 0.01}));
    Array xv = Array::randn({64, 300}, 5, dtype);
    std::vector<Array> out = train({xv});
    const Array &forward = out[0], &dx = out[1], &t = out[2];
    for (std::int64_t i = 0; i < forward.size(); ++i) {
      bool kept = forward.get(i) != 0.0 || t.get(i) == 0.0;
      bool flows = dx.get(i) != 0.0;
      if (kept != flows) FAIL(to_string(dtype) << " element " << i << ": forward " << forward.get(i) << ", gradient " << dx.get(i));
    }
    // No step stores a mask: every random value is computed inside the kernels that use it.
    const ir::Graph& planned = train.graph();
    for (ir::NodeId id = 0; id < planned.num_nodes(); ++id) {
      const ir::Node& n = planned.node(id);
      if (n.dead) continue;
      CHECK_FALSE(n.info().has(ir::trait::Random));
      if (n.op != ir::OpKind::fused) continue;
      for (ir::Value result : n.body->outputs) CHECK_FALSE(only_random(*n.body, result));
    }
  }
}

TEST_CASE("dropout masks are the same on 1 and 2 threads, at O0 and O2, on the JIT and the interpreter", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {37, 1000});
  Tensor y = dropout(x, 0.5) + dropout(x * 2.0, 0.25);
  std::vector<Tensor> outputs{y, grad(sum(y * y), {x})[0]};
  std::vector<Array> args{Array::randn({37, 1000}, 3)};
  std::vector<Array> want = from_step_zero(g, compile({x}, outputs, {}, {.backend = Backend::interpreter}), args);
  for (CompileOptions options : {CompileOptions{.opt = OptLevel::O2, .threads = 1}, CompileOptions{.opt = OptLevel::O2, .threads = 2},
                                 CompileOptions{.opt = OptLevel::O0, .threads = 2}}) {
    std::vector<Array> got = from_step_zero(g, compile({x}, outputs, {}, options), args);
    CHECK(same_bits(got[0], want[0]));
    for (std::int64_t i = 0; i < want[1].size(); ++i)  // the gradient's arithmetic may round differently
      if (std::abs(got[1].get(i) - want[1].get(i)) > 1e-5 * std::abs(want[1].get(i))) FAIL("gradient element " << i);
  }
}

TEST_CASE("each call draws a new dropout mask and advances the graph's step counter, and inference is the identity", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {4096});
  Tensor y = dropout(x, 0.5);
  Function train = compile({x}, {y});
  Array ones = Array::full({4096}, 1.0);
  Array first = train({ones})[0], second = train({ones})[0];
  CHECK_FALSE(same_bits(first, second));
  CHECK(g.random_step().get_value().item<double>() == 2.0);
  // Replaying from a saved counter gives the same mask again.
  g.random_step().set_value(Array::scalar(1.0));
  CHECK(same_bits(train({ones})[0], second));

  Function infer = compile({x}, {y}, {}, {.training = false});
  CHECK(same_bits(infer({ones})[0], ones));
  CHECK(g.random_step().get_value().item<double>() == 2.0);  // inference draws nothing
  CHECK(infer.ir().find("random_uniform") == std::string::npos);
}

TEST_CASE("dropout names the op and the caller's line for a rate that is not in 0 <= rate < 1") {
  Graph g;
  Tensor x = g.input("x", {3});
  CHECK_THROWS_WITH(dropout(x, 1.0), Catch::Matchers::Contains("dropout: attribute 'rate' = 1 is outside [0, 1)") &&
                                         Catch::Matchers::Contains("dropout_test.cpp"));
}

TEST_CASE("Philox4x32-10 gives the known-answer words of its reference implementation") {
  // Salmon et al.'s Random123 known-answer test: counter 0, key 0.
  PhiloxBlock block = philox4x32({0, 0, 0, 0}, {0, 0});
  CHECK(block == PhiloxBlock{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  // counter all ones, key all ones.
  block = philox4x32({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {0xffffffffu, 0xffffffffu});
  CHECK(block == PhiloxBlock{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
}
