#include "loom/frontend/regularize.h"

#include <cmath>

#include <fmt/format.h>

#include "loom/frontend/parameters.h"

namespace loom {

namespace {

/// Builds the results of a transform with every node at the user's line.
template <class Body>
std::vector<Tensor> per_gradient(Graph& g, const SourceLoc& loc, std::size_t n, Body body) {
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < n; ++k) out.push_back(body(k));
  return out;
}

/// Σₖ Σ f(pₖ), as a scalar of the first parameter's dtype.
template <class F>
Tensor sum_over(const std::vector<Tensor>& tensors, F f) {
  Expr total;
  for (const Tensor& t : tensors) {
    Expr term = sum(f(t));
    if (term.dtype() != tensors[0].dtype()) term = cast(term, tensors[0].dtype());
    total = total.defined() ? total + term : term;
  }
  return total;
}

}  // namespace

namespace regularize {

Tensor l2(const std::vector<Tensor>& params, double lambda, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("regularize::l2", params, {}, loc);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  return sum_over(params, [](const Tensor& p) { return square(p); }) * (lambda / 2.0);
}

Tensor l1(const std::vector<Tensor>& params, double lambda, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("regularize::l1", params, {}, loc);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  return sum_over(params, [](const Tensor& p) { return abs(p); }) * lambda;
}

}  // namespace regularize

namespace transform {

std::vector<Tensor> weight_decay(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                                 const optim::Hyper& lambda, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("transform::weight_decay", params, grads, loc);
  return per_gradient(g, loc, params.size(), [&](std::size_t k) { return grads[k] + lambda.of(params[k]) * params[k]; });
}

std::vector<Tensor> l1_decay(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                             const optim::Hyper& lambda, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("transform::l1_decay", params, grads, loc);
  return per_gradient(g, loc, params.size(), [&](std::size_t k) { return grads[k] + lambda.of(params[k]) * sign(params[k]); });
}

std::vector<Tensor> clip_by_value(const std::vector<Tensor>& grads, double limit, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::tensors_graph("transform::clip_by_value", grads, loc);
  if (!(limit > 0)) raise(loc, "transform::clip_by_value: the limit {} is not positive", limit);
  return per_gradient(g, loc, grads.size(), [&](std::size_t k) { return minimum(maximum(grads[k], -limit), limit); });
}

std::vector<Tensor> clip_by_norm(const std::vector<Tensor>& grads, double max_norm, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::tensors_graph("transform::clip_by_norm", grads, loc);
  if (!(max_norm > 0)) raise(loc, "transform::clip_by_norm: the norm {} is not positive", max_norm);
  // min(1, c/‖g‖) is 1 for a zero gradient too (c/0 = inf).
  return per_gradient(g, loc, grads.size(),
                      [&](std::size_t k) { return grads[k] * minimum(max_norm / sqrt(sum(square(grads[k]))), 1.0); });
}

std::vector<Tensor> clip_by_global_norm(const std::vector<Tensor>& grads, double max_norm, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::tensors_graph("transform::clip_by_global_norm", grads, loc);
  if (!(max_norm > 0)) raise(loc, "transform::clip_by_global_norm: the norm {} is not positive", max_norm);
  Expr scale;
  {
    ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
    scale = minimum(max_norm / sqrt(sum_over(grads, [](const Tensor& t) { return square(t); })), 1.0);
  }
  return per_gradient(g, loc, grads.size(), [&](std::size_t k) {
    return grads[k] * (scale.dtype() == grads[k].dtype() ? scale : cast(scale, grads[k].dtype()));
  });
}

std::vector<Tensor> gradient_noise(const std::vector<Tensor>& grads, double eta, double gamma, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::tensors_graph("transform::gradient_noise", grads, loc);
  if (!(eta >= 0)) raise(loc, "transform::gradient_noise: the variance scale {} is negative", eta);
  Tensor step = g.random_step();
  return per_gradient(g, loc, grads.size(), [&](std::size_t k) {
    const Tensor& grad = grads[k];
    Expr stddev = cast(sqrt(eta / pow(step + 1.0, gamma)), grad.dtype());
    return grad + random_normal(step, grad.type(), g.random_seed(), g.next_random_stream()) * stddev;
  });
}

std::vector<Tensor> one_bit(const std::vector<Tensor>& params, const std::vector<Tensor>& grads, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = frontend::parameters_graph("transform::one_bit", params, grads, loc);
  return per_gradient(g, loc, params.size(), [&](std::size_t k) {
    const Tensor& p = params[k];
    std::string name = frontend::unused_state_name(g, fmt::format("{}.residual", p.name().empty() ? "param" : p.name()));
    Tensor residual = g.shared(name, Array::zeros(p.shape(), p.dtype()));
    Expr carried = grads[k] + residual;
    Tensor quantized = sign(carried) * mean(abs(carried));
    g.add_automatic_update({residual, carried - quantized, /*training_only=*/true});
    return quantized;
  });
}

}  // namespace transform

}  // namespace loom
