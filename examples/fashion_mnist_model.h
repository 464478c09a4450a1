#pragma once
/// The Fashion-MNIST classifiers of examples/fashion_mnist.cpp, built from a configuration: logistic regression
/// or an MLP, with the training library's choices of optimizer, initialization, activation, normalization,
/// dropout, regularization, gradient transforms, label smoothing, mixup and averaging.

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <loom/loom.h>

namespace loom::models {

struct FashionConfig {
  std::string model = "mlp";  ///< logreg | mlp | cnn (conv32-bn-act-pool, conv64-bn-act-pool, fc128, dropout)
  std::vector<std::int64_t> hidden = {256, 256};
  std::string optimizer = "adam";  ///< sgd momentum nesterov adagrad adadelta rmsprop adam adamw
  double lr = 1e-3;
  std::string init = "he_normal";  ///< glorot_uniform glorot_normal he_uniform he_normal lecun_uniform normal
  double init_std = 0.1;           ///< the standard deviation of init "normal"
  std::string activation = "relu";  ///< relu tanh sigmoid elu leaky_relu prelu rrelu
  bool batchnorm = false;
  double dropout = 0.2;
  double weight_decay = 0, l1 = 0;
  double clip_value = 0, clip_norm = 0;
  double grad_noise = 0;  ///< η of annealed Gaussian gradient noise (0: none)
  double label_smoothing = 0;
  double mixup = 0;  ///< α of mixup (0: none)
  double ema = 0;    ///< decay of the parameters' moving average (0: none)
  std::int64_t batch = 128;
  std::uint64_t seed = 1;
};

/// The choices a flag may take, for messages and checks.
inline const std::vector<std::string> kOptimizers = {"sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw"};
inline const std::vector<std::string> kInits = {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "normal"};
inline const std::vector<std::string> kActivations = {"relu", "tanh", "sigmoid", "elu", "leaky_relu", "prelu", "rrelu"};

/// A built model: its graph, inputs, outputs and the updates of one training step.
struct FashionModel {
  std::unique_ptr<Graph> graph = std::make_unique<Graph>();
  Tensor X, labels, labels_b, lambda;  ///< labels_b and lambda: mixup's inputs
  Tensor learning_rate;                 ///< a scalar shared variable: schedules set it
  Tensor cost, losses, logits;          ///< cost: the training loss; losses: each example's plain cross-entropy
  nn::Parameters params;
  Updates updates;
  std::optional<averaging::MovingAverage> averages;
};

namespace detail {

inline nn::Init init_named(const std::string& name) {
  static const nn::Init kinds[] = {nn::Init::glorot_uniform, nn::Init::glorot_normal, nn::Init::he_uniform,
                                   nn::Init::he_normal, nn::Init::lecun_uniform, nn::Init::normal};
  for (std::size_t k = 0; k < kInits.size(); ++k)
    if (kInits[k] == name) return kinds[k];
  throw Error("unknown init '" + name + "'");
}

inline Tensor activate(const std::string& name, const Tensor& h, nn::Parameters& params, const std::string& layer) {
  if (name == "relu") return relu(h);
  if (name == "tanh") return tanh(h);
  if (name == "sigmoid") return sigmoid(h);
  if (name == "elu") return elu(h);
  if (name == "leaky_relu") return leaky_relu(h);
  if (name == "prelu") return nn::prelu(h, params, 0.25, layer + ".prelu");
  if (name == "rrelu") return rrelu(h);
  throw Error("unknown activation '" + name + "'");
}

inline Updates optimize(const FashionConfig& c, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                        const Tensor& lr) {
  const std::string& o = c.optimizer;
  if (o == "sgd") return optim::sgd(params, grads, {.lr = lr});
  if (o == "momentum") return optim::momentum(params, grads, {.lr = lr});
  if (o == "nesterov") return optim::nesterov(params, grads, {.lr = lr});
  if (o == "adagrad") return optim::adagrad(params, grads, {.lr = lr});
  if (o == "adadelta") return optim::adadelta(params, grads, {.lr = lr});
  if (o == "rmsprop") return optim::rmsprop(params, grads, {.lr = lr});
  if (o == "adam") return optim::adam(params, grads, {.lr = lr});
  if (o == "adamw") return optim::adamw(params, grads, {.lr = lr});
  throw Error("unknown optimizer '" + o + "'");
}

}  // namespace detail

inline FashionModel build_fashion_model(const FashionConfig& c, std::int64_t features = 784, std::int64_t classes = 10) {
  if (c.model == "cnn" && features != 28 * 28) throw Error("the cnn model reads 28 x 28 images, not " + std::to_string(features) + " features");
  FashionModel m;
  m.params = nn::Parameters(c.seed);
  Graph& g = *m.graph;
  g.set_random_seed(c.seed);
  m.X = g.input("X", {c.batch, features});
  m.labels = g.input("labels", {c.batch}, DType::i32);
  m.learning_rate = g.shared("lr", Array::scalar(static_cast<float>(c.lr)));
  nn::Init init = detail::init_named(c.init);

  Tensor h = m.X;
  if (c.model == "mlp") {
    for (std::size_t k = 0; k < c.hidden.size(); ++k) {
      std::string layer = "fc" + std::to_string(k + 1);
      h = nn::dense(h, c.hidden[k], m.params, {.name = layer, .init = init, .stddev = c.init_std, .bias = !c.batchnorm});
      if (c.batchnorm) h = nn::batch_norm(h, m.params, {.name = "bn" + std::to_string(k + 1)});
      h = detail::activate(c.activation, h, m.params, layer);
      if (c.dropout > 0) h = nn::dropout(h, c.dropout);
    }
  } else if (c.model == "cnn") {
    // Two 3 x 3 convolution blocks (no bias: batch norm's shift replaces it), each halving the image, then a dense
    // layer of 128 on the 64 x 7 x 7 features.
    h = reshape(m.X, {c.batch, 1, 28, 28});
    std::int64_t filters[] = {32, 64};
    for (int k = 0; k < 2; ++k) {
      std::string layer = "conv" + std::to_string(k + 1);
      h = nn::conv2d(h, filters[k], 3, m.params, {.name = layer, .init = init, .stddev = c.init_std, .bias = false});
      h = nn::batch_norm2d(h, m.params, {.name = "bn" + std::to_string(k + 1)});
      h = nn::max_pool2d(detail::activate(c.activation, h, m.params, layer), 2);
    }
    h = detail::activate(c.activation, nn::dense(flatten(h), 128, m.params, {.name = "fc1", .init = init, .stddev = c.init_std}),
                         m.params, "fc1");
    if (c.dropout > 0) h = nn::dropout(h, c.dropout);
  } else if (c.model != "logreg") {
    throw Error("unknown model '" + c.model + "'");
  }
  m.logits = nn::dense(h, classes, m.params, {.name = "out", .init = c.model == "logreg" ? nn::Init::glorot_uniform : init,
                                              .stddev = c.init_std});

  m.losses = softmax_cross_entropy_rows(m.logits, m.labels);
  if (c.mixup > 0) {
    m.labels_b = g.input("labels_b", {c.batch}, DType::i32);
    m.lambda = g.input("lambda", {});
    m.cost = mixup_cross_entropy(m.logits, m.labels, m.labels_b, m.lambda);
  } else {
    m.cost = c.label_smoothing > 0 ? softmax_cross_entropy(m.logits, m.labels, c.label_smoothing)
                                   : softmax_cross_entropy(m.logits, m.labels);
  }
  const std::vector<Tensor>& p = m.params.trainable;
  Tensor loss = c.l1 > 0 ? m.cost + regularize::l1(p, c.l1) : m.cost;
  std::vector<Tensor> grads = grad(loss, p);
  if (c.weight_decay > 0) grads = transform::weight_decay(p, grads, c.weight_decay);
  if (c.clip_value > 0) grads = transform::clip_by_value(grads, c.clip_value);
  if (c.clip_norm > 0) grads = transform::clip_by_global_norm(grads, c.clip_norm);
  if (c.grad_noise > 0) grads = transform::gradient_noise(grads, c.grad_noise);
  m.updates = detail::optimize(c, p, grads, m.learning_rate);
  if (c.ema > 0) {
    m.averages = averaging::ema(p, m.updates, c.ema);
    m.updates.insert(m.updates.end(), m.averages->updates.begin(), m.averages->updates.end());
  }
  return m;
}

}  // namespace loom::models
