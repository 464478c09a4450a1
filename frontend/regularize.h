#pragma once
/// Regularizers and gradient transforms, composable in front of any optimizer (docs/OPTIMIZERS.md):
///
///   std::vector<Tensor> g = grad(cost + regularize::l1(params, 1e-5), params);
///   g = transform::clip_by_global_norm(transform::weight_decay(params, g, 1e-4), 5.0);
///   Function train = compile({X, y}, {cost}, optim::adam(params, g));
///
/// Everything is graph ops, so a transform fuses into the optimizer's update kernel. Transforms with state (the
/// one-bit quantizer's residual) keep it in shared variables named after the parameter, updated by every
/// Function compiled for training that uses them (Graph::automatic_updates).

#include <vector>

#include "loom/frontend/optim.h"

namespace loom::regularize {

/// λ/2 · Σₖ Σ pₖ²: a loss term whose gradient is λ·p (L2, as weight_decay below).
Tensor l2(const std::vector<Tensor>& params, double lambda, SrcLoc loc = SrcLoc::current());
/// λ · Σₖ Σ |pₖ|: a loss term whose gradient is λ·sign(p) (L1, as l1_decay below).
Tensor l1(const std::vector<Tensor>& params, double lambda, SrcLoc loc = SrcLoc::current());

}  // namespace loom::regularize

namespace loom::transform {

/// g + λ·p: L2 weight decay as a gradient term.
std::vector<Tensor> weight_decay(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                                 const optim::Hyper& lambda, SrcLoc loc = SrcLoc::current());
/// g + λ·sign(p): the L1 penalty's gradient as a gradient term.
std::vector<Tensor> l1_decay(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                             const optim::Hyper& lambda, SrcLoc loc = SrcLoc::current());
/// Each element clipped to [−limit, limit].
std::vector<Tensor> clip_by_value(const std::vector<Tensor>& grads, double limit, SrcLoc loc = SrcLoc::current());
/// Each gradient scaled by min(1, max_norm/‖g‖) (Pascanu et al. 2013), tensor by tensor.
std::vector<Tensor> clip_by_norm(const std::vector<Tensor>& grads, double max_norm, SrcLoc loc = SrcLoc::current());
/// Every gradient scaled by min(1, max_norm/‖(g₁, ..., gₙ)‖), the norm of all of them together.
std::vector<Tensor> clip_by_global_norm(const std::vector<Tensor>& grads, double max_norm,
                                        SrcLoc loc = SrcLoc::current());
/// g + N(0, σₜ²) with σₜ² = η/(1 + t)^γ, t the graph's step counter (annealed Gaussian gradient noise,
/// Neelakantan et al. 2015); the noise comes from Philox like dropout's masks.
std::vector<Tensor> gradient_noise(const std::vector<Tensor>& grads, double eta, double gamma = 0.55,
                                   SrcLoc loc = SrcLoc::current());
/// One-bit quantization with error feedback (Seide et al. 2014): c = g + r, the step uses q = sign(c)·mean(|c|)
/// and the residual r ← c − q (a shared variable "<param>.residual", starting at 0) carries what q lost into the
/// next step, so the quantized gradients and the residual always sum to the raw gradients.
std::vector<Tensor> one_bit(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                            SrcLoc loc = SrcLoc::current());

}  // namespace loom::transform
