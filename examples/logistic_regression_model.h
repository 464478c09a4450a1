#pragma once
/// The logistic-regression model of the Theano tutorial loom starts from, written with loom's DSL. The example
/// trains it; tests and benchmarks build the same graph from here.

#include <loom/loom.h>

namespace loom::models {

struct LogisticRegression {
  Tensor X, y, w, b, h, cost;
  /// One step of gradient descent with learning rate 1 (the tutorial's).
  Updates updates;
};

/// Adds the model for N points to g: h = sigmoid(Xᵀw + b) written out as 1/(1+exp(-z)) as in the tutorial,
/// cost = mean cross-entropy + 0.001·Σw².
inline LogisticRegression logistic_regression(Graph& g, int N, Array initial_w = Array::randn({2}, /*seed=*/1)) {
  LogisticRegression m;
  m.X = g.input("X", {2, N});
  m.y = g.input("y", {N});
  m.w = g.shared("w", initial_w);
  m.b = g.shared("b", Array::scalar(0.0f));
  m.h = 1.0f / (1.0f + exp(-matmul(transpose(m.X), m.w) - m.b));
  m.h.named("h");
  m.cost = (1.0f / N) * sum(-m.y * log(m.h) - (1.0f - m.y) * log(1.0f - m.h)) + 0.001f * sum(pow(m.w, 2.0f));
  m.cost.named("cost");
  std::vector<Tensor> gr = grad(m.cost, {m.w, m.b});
  m.updates = {{m.w, m.w - 1.0f * gr[0]}, {m.b, m.b - 1.0f * gr[1]}};
  return m;
}

}  // namespace loom::models
