// Bad input gets loom::Error naming the op, each operand's type, the mismatch, and the user's file:line.

#include <regex>

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "error_of.h"
#include "loom/runtime/data/batches.h"
#include "loom/runtime/train/fit.h"
#include "loom/runtime/train/schedule.h"

using namespace loom;
using loom::testing::error_of;

namespace {

/// Checks `message` against `pattern` and that it ends by pointing at this file's `line`.
void check_message(const std::string& message, const std::string& pattern, int line) {
  INFO("message: " << message);
  CHECK(std::regex_search(message, std::regex(pattern)));
  CHECK(std::regex_search(message, std::regex("\n  at unit/errors_test\\.cpp:" + std::to_string(line) + "$")));
}

}  // namespace

TEST_CASE("elementwise ops reject shapes that do not broadcast, naming the dimension") {
  Graph g;
  Tensor a = g.input("a", {3, 4}), b = g.input("b", {5});
  int line = __LINE__; std::string m = error_of([&] { a + b; });
  check_message(m, R"(^add: cannot broadcast \[3,4\] with \[5\]: dimension 0 from the right differs \(4 vs 5\) \(operands: f32\[3,4\], f32\[5\]\))", line);
}

TEST_CASE("elementwise ops reject mixed dtypes") {
  Graph g;
  Tensor a = g.input("a", {3}), b = g.input("b", {3}, DType::f64);
  int line = __LINE__; std::string m = error_of([&] { maximum(a, b); });
  check_message(m, R"(^maximum: operand dtypes differ: 0 is f32, 1 is f64 \(operands: f32\[3\], f64\[3\]\))", line);
}

TEST_CASE("float ops reject integer operands") {
  Graph g;
  Tensor k = g.input("k", {4}, DType::i32);
  int line = __LINE__; std::string m = error_of([&] { exp(k); });
  check_message(m, R"(^exp: operand 0 must be f32 or f64, got i32\[4\])", line);
}

TEST_CASE("matmul rejects mismatched inner dimensions") {
  Graph g;
  Tensor x = g.input("x", {128, 784}), w = g.input("w", {30, 10});
  int line = __LINE__; std::string m = error_of([&] { matmul(x, w); });
  check_message(m, R"(^matmul: inner dimensions differ: lhs f32\[128,784\] has 784 columns, rhs f32\[30,10\] has 30 rows)", line);
}

TEST_CASE("reductions and reshapes reject bad axes and sizes") {
  Graph g;
  Tensor x = g.input("x", {2, 3});
  int line = __LINE__; std::string m = error_of([&] { sum(x, 2); });
  check_message(m, R"(^sum: axis 2 is out of range for f32\[2,3\] \(rank 2\))", line);
  line = __LINE__; m = error_of([&] { reshape(x, {4, 2}); });
  check_message(m, R"(^reshape: cannot reshape f32\[2,3\] \(6 elements\) to \[4,2\])", line);
}

TEST_CASE("softmax_cross_entropy rejects labels of the wrong shape or dtype") {
  Graph g;
  Tensor logits = g.input("logits", {8, 10}), wrong = g.input("labels", {8, 10}, DType::i32);
  Tensor floats = g.input("float_labels", {8});
  int line = __LINE__; std::string m = error_of([&] { softmax_cross_entropy(logits, wrong); });
  check_message(m, R"(softmax_cross_entropy: labels i32\[8,10\] must have the logits' shape without the class axis, \[8\])", line);
  line = __LINE__; m = error_of([&] { softmax_cross_entropy(logits, floats); });
  check_message(m, R"(softmax_cross_entropy: labels must be i32 or i64, got f32\[8\])", line);
}

TEST_CASE("calling a Function with a wrong shape, dtype or arity names the input and the call's line") {
  Graph g;
  Tensor X = g.input("X", {2, 3}), y = g.input("y", {3});
  Tensor w = g.shared("w", Array::full({3}, 1.0));
  Function f = compile({X, y}, {sum(matmul(X, y * w))}, {{w, w * 2.0f}});
  int line = __LINE__; std::string m = error_of([&] { f({Array::zeros({2, 4}), Array::zeros({3})}); });
  check_message(m, R"(^main: input 'X' \(argument 0\) expects f32\[2,3\], got f32\[2,4\]: dimension 1 is 4, expected 3)", line);
  line = __LINE__; m = error_of([&] { f({Array::zeros({2, 3}), Array::zeros({3}, DType::f64)}); });
  check_message(m, R"(^main: input 'y' \(argument 1\) expects f32\[3\], got f64\[3\]: dtype f64 differs from f32)", line);
  line = __LINE__; m = error_of([&] { f({Array::zeros({2, 3})}); });
  check_message(m, R"(^main: expects 2 inputs \(X: f32\[2,3\], y: f32\[3\]\), got 1)", line);
  line = __LINE__; m = error_of([&] { f({Array::zeros({3}), Array::zeros({3})}); });
  check_message(m, R"(rank 1 differs from 2)", line);
  CHECK(w.get_value().to_vector<float>() == std::vector<float>{1, 1, 1});  // failed calls change nothing
}

TEST_CASE("updating a tensor that is not shared is an error naming it") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor h = (x * 2.0f).named("h");
  Tensor w = g.shared("w", Array::zeros({3}));
  int line = __LINE__; std::string m = error_of([&] { compile({x}, {h}, {{h, h + 1.0f}}); });
  check_message(m, R"(^compile: updates\[0\] targets 'h' f32\[3\] \(mul, created at unit/errors_test\.cpp:\d+\), which is not a shared variable)", line);
  line = __LINE__; m = error_of([&] { compile({x}, {h}, {{w, sum(x)}}); });
  check_message(m, R"(^compile: updates\[0\] gives 'w' f32\[3\] \(shared.*the value f32\[\] \(sum.*the types must match)", line);
  line = __LINE__; m = error_of([&] { compile({}, {h}); });
  check_message(m, R"(^compile: the outputs need input 'x' f32\[3\] \(input, created at unit/errors_test\.cpp:\d+\), which is not in the inputs list)", line);
  line = __LINE__; m = error_of([&] { compile({h}, {h}); });
  check_message(m, R"(^compile: inputs\[0\] is 'h' f32\[3\] \(mul.*not an input)", line);
}

TEST_CASE("shared-variable access checks the variable and the value") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor w = g.shared("w", Array::zeros({3}));
  int line = __LINE__; std::string m = error_of([&] { w.set_value(Array::zeros({4})); });
  check_message(m, R"(^set_value: shared variable 'w' is f32\[3\], the new value is f32\[4\])", line);
  line = __LINE__; m = error_of([&] { x.get_value(); });
  check_message(m, R"(^get_value: 'x' f32\[3\] is not a shared variable \(its op is input\))", line);
}

TEST_CASE("grad of a cost that does not depend on a variable raises unless asked for zeros") {
  Graph g;
  Tensor x = g.input("x", {3}), z = g.input("z", {3});
  Tensor cost = sum(x * x);
  int line = __LINE__; std::vector<Tensor> grads = grad(cost, {x, z});
  std::string m = error_of([&] { compile({x, z}, grads); });
  check_message(m, R"(^grad: the cost does not depend on 'z' f32\[3\] from unit/errors_test\.cpp:\d+)", line);
  line = __LINE__; m = error_of([&] { grad(x, {x}); });
  check_message(m, R"(^grad: cost must be a float scalar, got f32\[3\])", line);
}

TEST_CASE("a label outside the class range fails the call and leaves the state unchanged") {
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
  Graph g;
  Tensor logits = g.input("logits", {2, 3});
  Tensor labels = g.input("labels", {2}, DType::i32);
  Tensor scale = g.shared("scale", Array::scalar(1.0f));
  Tensor cost = softmax_cross_entropy(logits * scale, labels);
  Function f = compile({logits, labels}, {cost}, {{scale, scale + 1.0f}}, CompileOptions{.backend = backend});
  std::string m = error_of([&] { f({Array::zeros({2, 3}), Array::from<std::int32_t>({0, 3})}); });
  INFO(m);
  CHECK(std::regex_search(m, std::regex(R"(^softmax_cross_entropy: label 3 at row 1 is outside \[0, 3\))")));
  CHECK(scale.get_value().item<float>() == 1.0f);
  }
}

TEST_CASE("nan_guard names the op and line that produced a NaN, on both backends") {
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    Graph g;
    Tensor x = g.input("x", {2});
    int line = __LINE__; Tensor y = log(x);
    Function f = compile({x}, {exp(y * 2.0f)}, {}, CompileOptions{.backend = backend, .nan_guard = true});
    std::string m = error_of([&] { f({Array::from<float>({1.0f, -1.0f})}); });
    check_message(m, R"(^nan_guard: log produced nan at element 1 of its f32\[2\] result)", line);
  }
}


TEST_CASE("the DSL's own checks name the op, what is wrong and the user's line") {
  using Catch::Matchers::Contains;
  Graph g, other;
  Tensor x = g.input("x", {2, 3}), v = g.input("v", {3}), y = other.input("y", {2, 3});
  auto at_line = [](const std::string& m, int line) {
    INFO("message: " << m);
    CHECK_THAT(m, Contains("at unit/errors_test.cpp:" + std::to_string(line)));
  };
  int line = __LINE__; std::string m = error_of([&] { exp(Tensor()); });
  CHECK_THAT(m, Contains("exp: operand is an empty Tensor (default-constructed, never assigned)"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { x + y; });
  CHECK_THAT(m, Contains("add: operands belong to different graphs"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { sum(x, {1, 1}); });
  CHECK_THAT(m, Contains("sum: axes [1, 1] repeat an axis of f32[2,3]"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { reshape(x, {-2, 3}); });
  CHECK_THAT(m, Contains("reshape: [-2,3] has the negative dimension -2"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { reshape(x, {4, -1}); });
  CHECK_THAT(m, Contains("reshape: cannot infer the -1 in [4,-1] from f32[2,3]"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { concat({}); });
  CHECK_THAT(m, Contains("concat: needs at least one operand"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { slice(x, {0, 0, 0}, {1, 1, 1}); });
  CHECK_THAT(m, Contains("slice: more indices than the 2 axes of f32[2,3]"));
  at_line(m, line);
  Tensor s = g.input("s", {});
  line = __LINE__; m = error_of([&] { layer_norm(s, s, s); });
  CHECK_THAT(m, Contains("layer_norm: x is a scalar (f32[]); it normalizes over the last axis"));
  at_line(m, line);
  Tensor cost = sum(x);
  line = __LINE__; m = error_of([&] { grad(cost, {}); });
  CHECK_THAT(m, Contains("grad: no variables to differentiate with respect to"));
  at_line(m, line);
  line = __LINE__; m = error_of([&] { grad(Tensor(), {x}); });
  CHECK_THAT(m, Contains("grad: needs a cost or known_grads"));
  at_line(m, line);
  Tensor h = exp(x);
  line = __LINE__; m = error_of([&] { grad(Tensor(), {x}, GradOptions{.known_grads = {{h, v}}}); });
  CHECK_THAT(m, Contains("grad: known gradient f32[3] does not match its variable f32[2,3]"));
  at_line(m, line);
  CHECK_THAT(error_of([&] { Tensor().type(); }), Contains("use of an empty Tensor (default-constructed, never assigned)"));
}

TEST_CASE("type inference names the op, the rule broken and the operand types") {
  using Catch::Matchers::Contains;
  Graph g;
  Tensor x = g.input("x", {2, 3}), m = g.input("m", {3, 4, 5}), v = g.input("v", {3});
  Tensor k = g.input("k", {4}, DType::i32), e = g.input("e", {2, 0});
  CHECK_THAT(error_of([&] { transpose(x, {0, 0}); }), Contains("transpose: perm [0,0] is not a permutation of the 2 axes"));
  CHECK_THAT(error_of([&] { broadcast_to(x, {4, 3}); }), Contains("broadcast_to: cannot broadcast f32[2,3] to [4,3]"));
  CHECK_THAT(error_of([&] { concat({x, v}); }), Contains("concat: operand 1 has rank 1, expected 2"));
  CHECK_THAT(error_of([&] { concat({x, m}, 0); }), Contains("concat: operand 1 has rank 3, expected 2"));
  CHECK_THAT(error_of([&] { concat({x, reshape(m, {3, 20})}, 0); }), Contains("concat: operand 1 differs in dimension 1 (20 vs 3)"));
  CHECK_THAT(error_of([&] { slice(x, {0, 0}, {2, 3}, {0, 1}); }), Contains("slice: attribute 'step' has the element 0, outside [1, inf]"));
  CHECK_THAT(error_of([&] { pad(x, {-1, 0}, {0, 0}); }), Contains("pad: attribute 'low' has the element -1, outside [0, inf]"));
  CHECK_THAT(error_of([&] { one_hot(k, 0); }), Contains("one_hot: attribute 'depth' = 0 is outside [1, inf]"));
  CHECK_THAT(error_of([&] { one_hot(x, 3); }), Contains("one_hot: indices must be i32 or i64, got f32[2,3]"));
  CHECK_THAT(error_of([&] { argmax(e, 1); }), Contains("argmax: argmax over an empty axis"));
  CHECK_THAT(error_of([&] { matmul(v, x); }), Contains("matmul: lhs must have rank 2 or 3, got f32[3]"));
  CHECK_THAT(error_of([&] { matmul(x, m); }), Contains("matmul: a batched rhs needs a batched lhs"));
  CHECK_THAT(error_of([&] { matmul(g.input("a", {2, 4, 4}), m); }), Contains("matmul: batch dimensions differ: 2 vs 3"));
  CHECK_THAT(error_of([&] { where(x, x, x); }), Contains("where: condition must be b8, got f32[2,3]"));
  CHECK_THAT(error_of([&] { grad(exp(x), {x}); }), Contains("grad: cost must be a float scalar, got f32[2,3]"));
  CHECK_THAT(error_of([&] { grad(sum(cast(k, DType::f32)), {k}); }), Contains("grad: cannot differentiate with respect to i32[4] (not float)"));
}

TEST_CASE("graph building, calls, batch norm, data and schedules refuse bad settings by name") {
  using Catch::Matchers::Contains;
  Graph g;
  Tensor x = g.input("x", {4, 3}), v = g.input("v", {3});
  CHECK_THAT(error_of([&] { g.input("x", {2}); }), Contains("input: the name 'x' is taken by another input of this graph"));
  CHECK_THAT(error_of([&] { compile({x, x}, {exp(x)}); }),
             Contains("compile: inputs[1] 'x' f32[4,3] (input, created at") && Contains("is listed twice"));
  Function f = compile({x}, {exp(x), sum(x)});
  std::vector<Array> one{Array(DType::f32, {4, 3})};
  CHECK_THAT(error_of([&] { f.call_into({Array::zeros({4, 3})}, one); }), Contains("main: call_into needs 2 output arrays, got 1"));

  Tensor gamma = g.shared("gamma", Array::full({3}, 1.0)), beta = g.shared("beta", Array::zeros({3}));
  Tensor mean = g.shared("mean", Array::zeros({3})), var = g.shared("var", Array::full({3}, 1.0));
  CHECK_THAT(error_of([&] { batch_norm(v, gamma, beta, mean, var); }),
             Contains("batch_norm: x is f32[3]; it needs a batch axis and a feature axis ([N, C, ...])"));
  CHECK_THAT(error_of([&] { batch_norm(g.input("y", {4, 5}), gamma, beta, mean, var); }),
             Contains("batch_norm: x is f32[4,5], so scale, shift and running statistics must be f32[5], got f32[3]"));
  CHECK_THAT(error_of([&] { batch_norm(x, gamma, beta, v + 0.0f, var); }), Contains("batch_norm: the running statistics must be shared variables"));
  CHECK_THAT(error_of([&] { batch_norm(x, gamma, beta, mean, var, 1.5); }), Contains("batch_norm: momentum 1.5 is not in [0, 1]"));

  data::LabelledImages set{Array::zeros({10, 4}), Array(DType::i32, {10})};
  CHECK_THAT(error_of([&] { data::head(set, 11); }), Contains("data::head: 11 examples of a set of 10"));
  CHECK_THAT(error_of([&] { data::Batches(set, 0, 1); }), Contains("data::Batches: batch size 0"));
  CHECK_THAT(error_of([&] { train::LearningRateSchedule(0.0, {}, 5); }), Contains("learning-rate schedule: initial rate 0 is not positive"));
  CHECK_THAT(error_of([&] { train::LearningRateSchedule(0.1, {.kind = train::ScheduleKind::step, .every = 0}, 5); }),
             Contains("learning-rate schedule: step decay every 0 epochs"));
  CHECK_THAT(error_of([&] { Array::zeros({2, 3}).reshaped({4}); }), Contains("Array::reshaped: cannot view f32[2,3] as [4]"));
}

TEST_CASE("train::fit checks its settings before it trains") {
  using Catch::Matchers::Contains;
  train::Model model;  // empty: every check below comes before the model is used
  data::LabelledImages set{Array::zeros({4, 2}), Array(DType::i32, {4})}, none{Array::zeros({0, 2}), Array(DType::i32, {0})};
  auto fit_error = [&](const data::LabelledImages& train_set, const data::LabelledImages& validation, train::FitOptions o) {
    return error_of([&] { train::fit(model, train_set, validation, o); });
  };
  CHECK_THAT(fit_error(set, set, {.epochs = -1}), Contains("train::fit: -1 epochs"));
  CHECK_THAT(fit_error(set, set, {.batch_size = 0}), Contains("train::fit: batch size 0"));
  CHECK_THAT(fit_error(none, set, {}), Contains("train::fit: the training set is empty"));
  CHECK_THAT(fit_error(set, none, {}), Contains("train::fit: the validation set is empty (split one off with data::split)"));
  CHECK_THAT(fit_error(set, set, {.resume = true}), Contains("train::fit: resume needs a checkpoint path"));
  CHECK_THAT(fit_error(set, set, {.evaluate_averages = true}),
             Contains("train::fit: evaluating with moving averages, but the model keeps none"));
  CHECK_THAT(fit_error(set, set, {}), Contains("train::fit: the model lacks a step, its state or its class count"));
}

TEST_CASE("convolutions and pools name the op, the shapes and the window in their errors") {
  using Catch::Matchers::Contains;
  Graph g;
  Tensor x = g.input("x", {2, 3, 8, 8}), w = g.input("w", {4, 2, 3, 3}), v = g.input("v", {8, 8});
  CHECK_THAT(error_of([&] { conv2d(x, w); }), Contains("conv2d: x has 3 channels but the weights expect 2 (weights are OIHW)"));
  CHECK_THAT(error_of([&] { conv2d(v, w); }), Contains("conv2d: x must have rank 4 (NCHW), got f32[8,8]"));
  CHECK_THAT(error_of([&] { conv2d(x, g.input("w9", {4, 3, 9, 9})); }),
             Contains("conv2d: the window spans 9 positions but the padded input has 8"));
  CHECK_THAT(error_of([&] { conv2d(x, g.input("w3", {4, 3, 3, 3}), 1, "full"); }),
             Contains("conv2d: padding \"full\" is not \"valid\", \"same\" or a list of sizes"));
  CHECK_THAT(error_of([&] { conv2d(x, g.input("w4", {4, 3, 3, 3}), 1, {1, 2, 3}); }),
             Contains("conv2d: explicit padding takes 2 numbers ({height, width}) or 4 ({top, bottom, left, right}), got [1, 2, 3]"));
  CHECK_THAT(error_of([&] { conv2d(x, g.input("w5", {4, 3, 3, 3}), g.input("b", {3})); }),
             Contains("conv2d: the bias must have one element per output channel, [4], got f32[3]"));
  CHECK_THAT(error_of([&] { conv2d(x, g.input("w6", {4, 3, 3, 3}), 0); }), Contains("conv2d: attribute 'stride' has the element 0, outside [1, inf]"));
  CHECK_THAT(error_of([&] { max_pool2d(x, 2, 2, {2, 2}); }),
             Contains("max_pool2d: padding must be smaller than the kernel, so no window lies in the padding alone"));
  CHECK_THAT(error_of([&] { avg_pool2d(v, 2); }), Contains("avg_pool2d: x must have rank 4 (NCHW), got f32[8,8]"));
  nn::Parameters params;
  CHECK_THAT(error_of([&] { nn::batch_norm2d(v, params); }), Contains("nn::batch_norm2d: the input is f32[8,8]; it needs NCHW (rank 4)"));
  CHECK_THAT(error_of([&] { nn::conv2d(v, 4, 3, params); }), Contains("nn::conv2d: the input is f32[8,8]; it needs NCHW (rank 4)"));
}
