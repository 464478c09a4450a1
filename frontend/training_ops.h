#pragma once
/// Ops that behave differently in training and in inference (CompileOptions::training), recorded as one op that the
/// `modes` pass lowers for the Function being compiled.

#include "loom/frontend/graph.h"

namespace loom {

/// Inverted dropout (Srivastava et al. 2014): in training each element is kept with probability 1 − rate and
/// scaled by 1/(1 − rate), else zeroed; in inference the identity. The keep decisions come from Philox keyed by
/// (the graph's random seed, its step counter, this op, the element), so they are the same for any thread count,
/// fusion or schedule, the backward pass recomputes them instead of storing a mask, and each call of a Function
/// draws new ones (Graph::random_step). `rate` is in [0, 1).
Tensor dropout(const Tensor& x, double rate, SrcLoc loc = SrcLoc::current());

/// Randomized leaky ReLU (Xu et al. 2015): x where x ≥ 0, else a·x, with a drawn per element from U[lower, upper]
/// in training (Philox, as dropout) and a = (lower + upper)/2 in inference.
Tensor rrelu(const Tensor& x, double lower = 1.0 / 8.0, double upper = 1.0 / 3.0, SrcLoc loc = SrcLoc::current());

/// Batch normalization (Ioffe & Szegedy 2015) of x ([N, C] or [N, C, ...]) over every axis but the features'
/// (axis 1): γ·(x − μ)/√(σ² + eps) + β, with γ, β, the running mean and the running variance of shape [C] (the
/// running ones shared variables). In training μ, σ² are the batch's (σ² biased, both computed in one pass in f64)
/// and every Function compiled for training moves the running statistics toward them:
/// r ← (1 − momentum)·r + momentum·b, the variance's made unbiased (×n/(n − 1)). In inference μ, σ² are the
/// running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, double momentum = 0.1, double eps = 1e-5, SrcLoc loc = SrcLoc::current());

}  // namespace loom
