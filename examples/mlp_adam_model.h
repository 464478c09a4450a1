#pragma once
/// The MLP of DESIGN §7's target: 784-256-256-10, ReLU, dropout 0.2 after each hidden layer, softmax
/// cross-entropy, Adam; built with the training library. The benchmarks compare it against LibTorch and against
/// its own matmuls alone.

#include <loom/loom.h>

namespace loom::models {

struct AdamMlp {
  Tensor X, labels, cost;
  nn::Parameters params{/*seed=*/1};
  Updates updates;
};

inline void build_adam_mlp(Graph& g, AdamMlp& m, std::int64_t batch, double dropout_rate = 0.2, double lr = 1e-3) {
  m.X = g.input("X", {batch, 784});
  m.labels = g.input("labels", {batch}, DType::i32);
  Tensor h = nn::dropout(relu(nn::dense(m.X, 256, m.params, {.name = "fc1"})), dropout_rate);
  h = nn::dropout(relu(nn::dense(h, 256, m.params, {.name = "fc2"})), dropout_rate);
  Tensor logits = nn::dense(h, 10, m.params, {.name = "out", .init = nn::Init::glorot_uniform});
  m.cost = softmax_cross_entropy(logits, m.labels);
  m.updates = optim::adam(m.params.trainable, grad(m.cost, m.params.trainable), {.lr = lr});
}

}  // namespace loom::models
