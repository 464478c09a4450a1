#pragma once
/// A multilayer perceptron trained with momentum SGD, written with IR ops (the optimizer library comes later).
/// Tests and benchmarks of memory planning build it from here.

#include <string>
#include <vector>

#include <loom/loom.h>

namespace loom::models {

struct Mlp {
  Tensor X, labels, cost;
  std::vector<Tensor> weights, biases, velocities;
  Updates updates;
};

/// Layers sizes[0] → sizes[1] → ... → sizes.back(), ReLU between layers, softmax cross-entropy over integer
/// labels (mean over the batch). Momentum SGD for every weight and bias: v ← μ·v − lr·g, p ← p + v.
inline Mlp mlp(Graph& g, const std::vector<std::int64_t>& sizes, std::int64_t batch, DType dtype = DType::f32,
               double lr = 0.05, double momentum = 0.9) {
  Mlp m;
  m.X = g.input("X", {batch, sizes[0]}, dtype);
  m.labels = g.input("labels", {batch}, DType::i32);
  Tensor h = m.X;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    std::string id = std::to_string(l + 1);
    double scale = std::sqrt(2.0 / static_cast<double>(sizes[l]));  // He initialization
    Array w = Array::randn({sizes[l], sizes[l + 1]}, /*seed=*/l + 1, dtype);
    for (std::int64_t i = 0; i < w.size(); ++i) w.set(i, w.get(i) * scale);
    m.weights.push_back(g.shared("W" + id, w));
    m.biases.push_back(g.shared("b" + id, Array::zeros({sizes[l + 1]}, dtype)));
    h = matmul(h, m.weights.back()) + m.biases.back();
    if (l + 2 < sizes.size()) h = relu(h);
  }
  m.cost = softmax_cross_entropy(h, m.labels);
  m.cost.named("cost");
  std::vector<Tensor> params;
  for (std::size_t l = 0; l < m.weights.size(); ++l) {
    params.push_back(m.weights[l]);
    params.push_back(m.biases[l]);
  }
  std::vector<Tensor> grads = grad(m.cost, params);
  for (std::size_t k = 0; k < params.size(); ++k) {
    Tensor v = g.shared("v_" + params[k].name(), Array::zeros(params[k].shape(), dtype));
    m.velocities.push_back(v);
    Tensor v_new = v * momentum - grads[k] * lr;
    m.updates.push_back({v, v_new});
    m.updates.push_back({params[k], params[k] + v_new});
  }
  return m;
}

}  // namespace loom::models
