#pragma once
/// Layers that create their own named, initialized parameters, so a model is a few readable lines:
///
///   nn::Parameters params(/*seed=*/1);
///   Tensor h = relu(nn::dense(X, 256, params, {.name = "fc1"}));
///   h = nn::dropout(nn::batch_norm(h, params, {.name = "bn1"}), 0.2);
///   Tensor logits = nn::dense(h, 10, params, {.name = "out", .init = nn::Init::glorot_uniform});
///   Tensor c = nn::max_pool2d(relu(nn::batch_norm2d(nn::conv2d(images, 32, 3, params, {.name = "conv1", .bias = false}),
///                                                   params, {.name = "bn1"})), 2);
///   Updates step = optim::adam(params.trainable, grad(cost, params.trainable));
///
/// Parameters are shared variables named "<layer>.<param>" ("fc1.W", "bn1.running_mean"), so they print in dumps
/// and a checkpoint finds them by name.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "loom/frontend/training_ops.h"

namespace loom::nn {

/// What the layers of one model created: the trainable parameters (for the optimizer) and the other state
/// (normalization's running statistics); a checkpoint saves both. Weights are drawn from `seed` plus the number
/// of weights drawn before, so a model built twice the same way starts the same.
struct Parameters {
  explicit Parameters(std::uint64_t seed = 0) : seed(seed) {}
  std::vector<Tensor> trainable, state;
  std::uint64_t seed;
  std::uint64_t drawn = 0;
};

/// How a dense layer's weight is drawn (init::).
/// `normal` is N(0, stddev²) with DenseOptions::stddev, the "simple" initialization that deep ReLU nets train
/// badly from (docs/EXPERIMENTS.md).
enum class Init { glorot_uniform, glorot_normal, he_uniform, he_normal, lecun_uniform, normal };

struct DenseOptions {
  std::string name = "dense";
  Init init = Init::he_normal;
  double stddev = 0.1;  ///< Init::normal's standard deviation
  bool bias = true;
};
/// x·W + b over the last axis of x: W [in, units] drawn by `init`, b [units] zeros.
Tensor dense(const Tensor& x, std::int64_t units, Parameters& params, const DenseOptions& options = {},
             SrcLoc loc = SrcLoc::current());

struct ConvOptions {
  std::string name = "conv";
  Size2 stride = 1;
  Padding padding = "same";
  Size2 dilation = 1;
  Init init = Init::he_normal;
  double stddev = 0.1;  ///< Init::normal's standard deviation
  bool bias = true;
};
/// conv2d over NCHW x with `filters` output channels and a `kernel` window: W [filters, C, kh, kw] drawn by `init`
/// (fan-in C·kh·kw), b [filters] zeros.
Tensor conv2d(const Tensor& x, std::int64_t filters, Size2 kernel, Parameters& params, const ConvOptions& options = {},
              SrcLoc loc = SrcLoc::current());
/// loom::max_pool2d, here so a model reads in one vocabulary.
inline Tensor max_pool2d(const Tensor& x, Size2 kernel, std::optional<Size2> stride = std::nullopt,
                         Padding padding = "valid", SrcLoc loc = SrcLoc::current()) {
  return loom::max_pool2d(x, kernel, stride, std::move(padding), loc);
}

struct NormOptions {
  std::string name = "norm";
  double momentum = 0.1, eps = 1e-5;  ///< momentum: batch norm's running statistics
};
/// batch_norm over the features (axis 1) with γ = 1, β = 0 (trainable) and running statistics (state).
Tensor batch_norm(const Tensor& x, Parameters& params, const NormOptions& options = {}, SrcLoc loc = SrcLoc::current());
/// batch_norm over the channels of NCHW x (statistics over the batch and both spatial axes).
Tensor batch_norm2d(const Tensor& x, Parameters& params, const NormOptions& options = {}, SrcLoc loc = SrcLoc::current());
/// layer_norm over the last axis with γ = 1, β = 0 (trainable).
Tensor layer_norm(const Tensor& x, Parameters& params, const NormOptions& options = {}, SrcLoc loc = SrcLoc::current());

/// prelu with a learned slope per feature (the last axis), starting at `slope`.
Tensor prelu(const Tensor& x, Parameters& params, double slope = 0.25, const std::string& name = "prelu",
             SrcLoc loc = SrcLoc::current());

/// loom::dropout, here so a model reads in one vocabulary.
inline Tensor dropout(const Tensor& x, double rate, SrcLoc loc = SrcLoc::current()) { return loom::dropout(x, rate, loc); }

}  // namespace loom::nn
