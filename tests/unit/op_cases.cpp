#include "op_cases.h"

namespace loom::testing {

namespace {

using X = const std::vector<Tensor>&;

/// Shape sets for elementwise binary ops: equal shapes, two-sided broadcasting, rank extension, scalar.
const std::vector<std::vector<Shape>> kBinaryShapes = {
    {{3, 4}, {3, 4}}, {{3, 1}, {1, 5}}, {{5}, {2, 1, 5}}, {{}, {7}}, {{1}, {1}}};
const std::vector<Shape> kUnaryShapes = {{7}, {3, 5}, {1}, {2, 1, 3}, {}};

/// Integer labels in [0, classes) for `rows` rows, fixed.
Tensor labels(Graph& g, std::int64_t rows, std::int64_t classes, Shape shape = {}) {
  std::vector<std::int32_t> values;
  for (std::int64_t i = 0; i < rows; ++i) values.push_back(static_cast<std::int32_t>((i * 7 + 3) % classes));
  return g.shared("labels", Array::from(values, shape.empty() ? Shape{rows} : shape));
}

void add_binary(std::vector<OpCase>& cases, const std::string& name, std::function<Expr(X)> f,
                Domain domain = Domain::any) {
  for (const auto& shapes : kBinaryShapes)
    cases.push_back({name, shapes, [f](Graph&, X x) { return f(x); }, domain});
}

void add_unary(std::vector<OpCase>& cases, const std::string& name, std::function<Expr(const Expr&)> f,
               Domain domain = Domain::any) {
  for (const auto& shape : kUnaryShapes)
    cases.push_back({name, {shape}, [f](Graph&, X x) { return f(x[0]); }, domain});
}

void add_shaped(std::vector<OpCase>& cases, const std::string& name, std::vector<std::vector<Shape>> shape_sets,
                std::function<Expr(Graph&, X)> f, Domain domain = Domain::any) {
  for (auto& shapes : shape_sets) cases.push_back({name, shapes, f, domain});
}

}  // namespace

std::vector<OpCase> all_op_cases() {
  std::vector<OpCase> c;
  // Arithmetic, with scalars on either side.
  add_binary(c, "add", [](X x) { return x[0] + x[1]; });
  add_binary(c, "sub", [](X x) { return x[0] - x[1]; });
  add_binary(c, "mul", [](X x) { return x[0] * x[1]; });
  add_binary(c, "div", [](X x) { return x[0] / x[1]; }, Domain::away_from_zero);
  add_binary(c, "pow", [](X x) { return pow(x[0], x[1]); }, Domain::positive);
  add_binary(c, "maximum", [](X x) { return maximum(x[0], x[1]); });
  add_binary(c, "minimum", [](X x) { return minimum(x[0], x[1]); });
  add_unary(c, "scalar-left", [](const Expr& x) { return 2.0f - 3.0f * x / 1.5f + 1.0f; });
  add_unary(c, "neg", [](const Expr& x) { return -x; });
  add_unary(c, "copy", [](const Expr& x) { return copy(x); });
  add_unary(c, "neg-fn", [](const Expr& x) { return neg(x); });
  // Comparisons feed `where`; the comparison itself has no gradient.
  add_binary(c, "where-lt", [](X x) { return where(x[0] < x[1], x[0] * x[1], x[1]); });
  add_binary(c, "where-ge", [](X x) { return where(x[0] >= x[1], x[0], 2.0f * x[1]); });
  add_binary(c, "where-le-gt", [](X x) { return where(x[0] <= 0.0f, x[1], 0.0f) + where(x[1] > 0.5f, x[0], x[1]); });
  add_binary(c, "where-eq-ne", [](X x) {
    return where(eq(x[0], x[0]), x[0], 0.0f) * where(ne(x[1], 100.0f), x[1], 0.0f);
  });
  add_unary(c, "cast", [](const Expr& x) { return cast(x, DType::f64) * 2.0f; });
  add_unary(c, "cast-compare", [](const Expr& x) { return cast(x > 0.0f, x.dtype()) * x; }, Domain::away_from_zero);
  // Elementwise math and activations.
  add_unary(c, "exp", [](const Expr& x) { return exp(x); });
  add_unary(c, "log", [](const Expr& x) { return log(x); }, Domain::positive);
  add_unary(c, "log1p", [](const Expr& x) { return log1p(x); }, Domain::positive);
  add_unary(c, "sqrt", [](const Expr& x) { return sqrt(x); }, Domain::positive);
  add_unary(c, "rsqrt", [](const Expr& x) { return rsqrt(x); }, Domain::positive);
  add_unary(c, "abs", [](const Expr& x) { return abs(x); }, Domain::away_from_zero);
  add_unary(c, "sign", [](const Expr& x) { return sign(x) * x; }, Domain::away_from_zero);
  add_unary(c, "square", [](const Expr& x) { return square(x); });
  add_unary(c, "pow-const", [](const Expr& x) { return pow(x, 3.0f); }, Domain::positive);
  add_unary(c, "sigmoid", [](const Expr& x) { return sigmoid(x); });
  add_unary(c, "tanh", [](const Expr& x) { return tanh(x); });
  add_unary(c, "relu", [](const Expr& x) { return relu(x); }, Domain::away_from_zero);
  add_unary(c, "leaky_relu", [](const Expr& x) { return leaky_relu(x, 0.1); }, Domain::away_from_zero);
  add_unary(c, "elu", [](const Expr& x) { return elu(x, 0.7); }, Domain::away_from_zero);
  add_unary(c, "selu", [](const Expr& x) { return selu(x); }, Domain::away_from_zero);
  add_unary(c, "softplus", [](const Expr& x) { return softplus(x); });
  add_unary(c, "swish", [](const Expr& x) { return swish(x); });

  // Contractions.
  add_shaped(c, "matmul", {{{3, 4}, {4, 5}}, {{1, 7}, {7, 1}}, {{5, 3}, {3}}, {{2, 3, 4}, {2, 4, 5}}, {{3, 2, 5}, {5, 3}}},
             [](Graph&, X x) { return matmul(x[0], x[1]); });
  add_shaped(c, "matmul-transposed", {{{4, 3}, {4, 5}}, {{7, 1}, {3, 7}}, {{2, 4, 3}, {2, 5, 4}}},
             [](Graph&, X x) {
               if (x[0].rank() == 3) return matmul(transpose(x[0], {0, 2, 1}), transpose(x[1], {0, 2, 1}));
               return x[0].shape()[1] == 1 ? matmul(x[1], x[0]) : matmul(transpose(x[0]), x[1]);
             });

  // Sliding windows (NCHW, OIHW weights): strides 1 and 2, valid, same and explicit padding, dilation 2, odd sizes
  // and batch 1. The backward ops appear on their own too, so their own rules (second derivatives) are checked.
  auto conv = [](Size2 stride, Padding padding, Size2 dilation) {
    return [=](Graph&, X x) { return conv2d(x[0], x[1], stride, padding, dilation); };
  };
  auto windows = [&](const std::string& name, std::vector<std::vector<Shape>> shapes, std::function<Expr(Graph&, X)> f) {
    for (auto& set : shapes) c.push_back({name, set, f, Domain::any, 1e-4});
  };
  windows("conv2d-valid", {{{2, 3, 7, 6}, {4, 3, 3, 2}}, {{1, 2, 5, 5}, {3, 2, 3, 3}}, {{2, 3, 4, 5}, {2, 3, 1, 1}}},
          conv(1, "valid", 1));
  windows("conv2d-same-stride2", {{{2, 3, 7, 8}, {4, 3, 3, 3}}, {{1, 1, 5, 5}, {2, 1, 2, 2}}, {{1, 2, 6, 3}, {1, 2, 3, 1}}},
          conv(2, "same", 1));
  windows("conv2d-explicit-dilation2", {{{2, 2, 7, 9}, {3, 2, 3, 2}}, {{1, 3, 6, 5}, {2, 3, 2, 2}}, {{1, 1, 5, 8}, {1, 1, 3, 3}}},
          conv({1, 2}, {1, 2, 0, 1}, 2));
  windows("conv2d-bias", {{{2, 3, 5, 5}, {4, 3, 3, 3}, {4}}, {{1, 1, 4, 3}, {2, 1, 2, 2}, {2}}, {{1, 2, 3, 3}, {1, 2, 1, 1}, {1}}},
          [](Graph&, X x) { return conv2d(x[0], x[1], x[2], 1, "same"); });
  windows("max_pool2d", {{{2, 3, 6, 6}}, {{1, 2, 7, 5}}, {{2, 1, 5, 4}}}, [](Graph&, X x) {
    if (x[0].shape()[3] == 6) return max_pool2d(x[0], 2);
    if (x[0].shape()[3] == 5) return max_pool2d(x[0], 3, 2, "same");
    return max_pool2d(x[0], {3, 2}, 1, {1, 1, 0, 1});
  });
  windows("avg_pool2d", {{{2, 3, 6, 6}}, {{1, 2, 7, 5}}, {{2, 1, 5, 4}}}, [](Graph&, X x) {
    if (x[0].shape()[3] == 6) return avg_pool2d(x[0], 2);
    if (x[0].shape()[3] == 5) return avg_pool2d(x[0], 3, 2, "same");
    return avg_pool2d(x[0], {3, 2}, 1, {1, 1, 0, 1});
  });
  // The backward ops in the window of a stride-2 convolution (or pool) padded by 1 over a 6 x 7 input.
  ir::Attrs window{{"stride", std::vector<std::int64_t>{2, 2}}, {"pad_low", std::vector<std::int64_t>{1, 1}},
                   {"pad_high", std::vector<std::int64_t>{1, 0}}, {"dilation", std::vector<std::int64_t>{1, 1}},
                   {"kernel", std::vector<std::int64_t>{3, 3}}, {"input_size", std::vector<std::int64_t>{6, 7}}};
  windows("conv2d_backward_data", {{{2, 4, 3, 3}, {4, 3, 3, 3}}, {{1, 2, 3, 3}, {2, 1, 3, 3}}, {{1, 1, 3, 3}, {1, 2, 3, 3}}},
          [=](Graph&, X x) { return ir::window_op(ir::OpKind::conv2d_backward_data, {x[0], x[1]}, window); });
  windows("conv2d_backward_weights", {{{2, 3, 6, 7}, {2, 4, 3, 3}}, {{1, 1, 6, 7}, {1, 2, 3, 3}}, {{1, 2, 6, 7}, {1, 1, 3, 3}}},
          [=](Graph&, X x) { return ir::window_op(ir::OpKind::conv2d_backward_weights, {x[0], x[1]}, window); });
  windows("avg_pool2d_backward", {{{2, 3, 3, 3}}, {{1, 1, 3, 3}}, {{1, 2, 3, 3}}},
          [=](Graph&, X x) { return ir::window_op(ir::OpKind::avg_pool2d_backward, {x[0]}, window); });

  // Layout.
  add_shaped(c, "transpose", {{{3, 4}}, {{2, 3, 5}}, {{1, 7}}},
             [](Graph&, X x) { return x[0].rank() == 3 ? transpose(x[0], {2, 0, 1}) : transpose(x[0]); });
  add_shaped(c, "reshape", {{{3, 4}}, {{2, 3, 5}}, {{7}}},
             [](Graph&, X x) { return reshape(x[0], {-1, x[0].shape().back() == 7 ? 1 : x[0].shape().back()}); });
  add_shaped(c, "broadcast_to", {{{3, 1}}, {{5}}, {{1}}, {{}}},
             [](Graph&, X x) {
               Shape target = x[0].rank() == 2 ? Shape{2, 3, 4} : Shape{3, 5};
               if (x[0].rank() == 1 && x[0].shape()[0] == 5) target = {3, 5};
               return broadcast_to(x[0], target);
             });
  add_shaped(c, "concat", {{{2, 3}, {4, 3}}, {{3, 1}, {3, 4}}, {{5}, {1}}},
             [](Graph&, X x) {
               std::int64_t axis = x[0].rank() == 2 && x[0].shape()[0] == x[1].shape()[0] ? 1 : 0;
               return concat({x[0], x[1], x[0]}, axis);
             });
  add_shaped(c, "slice", {{{7}}, {{5, 6}}, {{3, 4, 5}}},
             [](Graph&, X x) {
               if (x[0].rank() == 1) return slice(x[0], {1}, {6}, {2});
               if (x[0].rank() == 2) return slice(x[0], {1, -4}, {5, 6}, {3, 1});
               return slice(x[0], {0, 1}, {3, 4}, {1, 2});
             });
  add_shaped(c, "pad", {{{3}}, {{2, 3}}, {{1, 2, 1}}},
             [](Graph&, X x) {
               std::vector<std::int64_t> low(static_cast<std::size_t>(x[0].rank()), 1), high = low, interior = low;
               high[0] = 2;
               return pad(x[0], low, high, interior);
             });
  add_shaped(c, "one_hot", {{{5, 4}}, {{1, 3}}, {{7, 2}}},
             [](Graph& g, X x) {
               Expr hot = one_hot(labels(g, x[0].shape()[0], x[0].shape()[1]), x[0].shape()[1], x[0].dtype());
               return hot * x[0];
             });

  // Reductions and normalizations.
  add_shaped(c, "sum", {{{3, 4}}, {{2, 3, 5}}, {{7}}, {{1, 5}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? sum(x[0], {0, 2}) : x[0].rank() == 2 ? sum(x[0], 1, true) : sum(x[0]);
  });
  add_shaped(c, "mean", {{{3, 4}}, {{2, 3, 5}}, {{7}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? mean(x[0], -1, true) : x[0].rank() == 2 ? mean(x[0], 0) : mean(x[0]);
  });
  add_shaped(c, "max", {{{3, 4}}, {{2, 3, 5}}, {{7}}, {{1, 1}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? max(x[0], {1}) : x[0].rank() == 2 ? max(x[0], 1, true) : max(x[0]);
  });
  add_shaped(c, "min", {{{3, 4}}, {{2, 3, 5}}, {{7}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? min(x[0], {0, 1}) : x[0].rank() == 2 ? min(x[0], 0) : min(x[0]);
  });
  add_shaped(c, "argmax", {{{3, 4}}, {{2, 3, 5}}, {{7}}}, [](Graph&, X x) {
    return cast(argmax(x[0], -1, true), x[0].dtype()) * x[0];
  });
  add_shaped(c, "logsumexp", {{{3, 4}}, {{2, 3, 5}}, {{7}}, {{1}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? logsumexp(x[0], {1, 2}, true) : x[0].rank() == 2 ? logsumexp(x[0], 1) : logsumexp(x[0]);
  });
  add_shaped(c, "softmax", {{{3, 4}}, {{2, 3, 5}}, {{7}}, {{4, 1}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? softmax(x[0], 1) : softmax(x[0]);
  });
  add_shaped(c, "log_softmax", {{{3, 4}}, {{2, 3, 5}}, {{7}}, {{1, 3}}}, [](Graph&, X x) {
    return x[0].rank() == 3 ? log_softmax(x[0], 0) : log_softmax(x[0], -1);
  });

  // Normalization and parametric activations (batch_norm in training: the batch's statistics).
  add_shaped(c, "batch_norm", {{{8, 3}, {3}, {3}}, {{5, 2, 3, 4}, {2}, {2}}, {{2, 1}, {1}, {1}}}, [](Graph& g, X x) {
    std::int64_t features = x[0].shape()[1];
    Tensor mean = g.shared("running_mean", Array::zeros({features}, x[0].dtype()));
    Tensor var = g.shared("running_var", Array::full({features}, 1.0, x[0].dtype()));
    return batch_norm(x[0], x[1], x[2], mean, var);
  });
  add_shaped(c, "layer_norm", {{{4, 6}, {6}, {6}}, {{2, 3, 5}, {5}, {5}}, {{3, 2}, {1}, {1}}},
             [](Graph&, X x) { return layer_norm(x[0], x[1], x[2]); });
  add_shaped(c, "prelu", {{{4, 5}, {5}}, {{3, 4}, {}}, {{2, 3, 4}, {4}}}, [](Graph&, X x) { return prelu(x[0], x[1]); },
             Domain::away_from_zero);

  // Losses.
  add_shaped(c, "mse", {{{3, 4}, {3, 4}}, {{7}, {7}}, {{5, 1}, {1, 3}}},
             [](Graph&, X x) { return mse(x[0], x[1]); });
  add_shaped(c, "binary_cross_entropy", {{{3, 4}, {3, 4}}, {{7}, {7}}, {{1}, {1}}},
             [](Graph&, X x) { return binary_cross_entropy(sigmoid(x[0]), sigmoid(x[1])); });
  add_shaped(c, "softmax_cross_entropy", {{{4, 3}}, {{1, 5}}, {{7, 2}}, {{2, 3, 4}}},
             [](Graph& g, X x) {
               Shape rows(x[0].shape().begin(), x[0].shape().end() - 1);
               return softmax_cross_entropy(x[0], labels(g, num_elements(rows), x[0].shape().back(), rows));
             });
  add_shaped(c, "softmax_cross_entropy with label smoothing", {{{4, 3}}, {{2, 3, 4}}, {{1, 5}}}, [](Graph& g, X x) {
    Shape rows(x[0].shape().begin(), x[0].shape().end() - 1);
    return softmax_cross_entropy(x[0], labels(g, num_elements(rows), x[0].shape().back(), rows), 0.1);
  });
  return c;
}

}  // namespace loom::testing
