#pragma once
/// A multilayer perceptron trained with momentum SGD (optim::momentum). Tests and benchmarks of memory planning build
/// it from here.

#include <algorithm>
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
/// labels (mean over the batch), He-initialized weights. Momentum SGD for every weight and bias: v ← μ·v + lr·g,
/// p ← p − v; `velocities` are the optimizer's shared variables.
inline Mlp mlp(Graph& g, const std::vector<std::int64_t>& sizes, std::int64_t batch, DType dtype = DType::f32,
               double lr = 0.05, double momentum = 0.9) {
  Mlp m;
  m.X = g.input("X", {batch, sizes[0]}, dtype);
  m.labels = g.input("labels", {batch}, DType::i32);
  Tensor h = m.X;
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    std::string id = std::to_string(l + 1);
    m.weights.push_back(g.shared("W" + id, init::he_normal({sizes[l], sizes[l + 1]}, /*seed=*/l + 1, dtype)));
    m.biases.push_back(g.shared("b" + id, init::zeros({sizes[l + 1]}, dtype)));
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
  m.updates = optim::momentum(params, grad(m.cost, params), {.lr = lr, .momentum = momentum});
  for (const auto& [target, value] : m.updates)
    if (std::none_of(params.begin(), params.end(), [&](const Tensor& p) { return p.value() == target.value(); }))
      m.velocities.push_back(target);
  return m;
}

}  // namespace loom::models
