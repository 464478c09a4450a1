#include "loom/frontend/nn.h"

#include <fmt/format.h>

#include "loom/frontend/init.h"
#include "loom/frontend/parameters.h"

namespace loom::nn {

namespace {

Graph& graph_of(const Tensor& x, std::string_view layer, const SourceLoc& loc) {
  auto* g = x.defined() ? dynamic_cast<Graph*>(x.graph()) : nullptr;
  if (!g) raise(loc, "nn::{}: the input is not a tensor of a loom::Graph", layer);
  return *g;
}

/// A new shared variable "<layer>.<what>" (made unique), recorded in `into`.
Tensor create(Graph& g, const std::string& layer, const std::string& what, const Array& initial, std::vector<Tensor>& into) {
  Tensor t = g.shared(frontend::unused_state_name(g, fmt::format("{}.{}", layer, what)), initial);
  into.push_back(t);
  return t;
}

Array draw(Init init, double stddev, const Shape& shape, std::uint64_t seed, DType dtype) {
  switch (init) {
    case Init::normal: return init::normal(shape, 0.0, stddev, seed, dtype);
    case Init::glorot_uniform: return init::glorot_uniform(shape, seed, dtype);
    case Init::glorot_normal: return init::glorot_normal(shape, seed, dtype);
    case Init::he_uniform: return init::he_uniform(shape, seed, dtype);
    case Init::lecun_uniform: return init::lecun_uniform(shape, seed, dtype);
    case Init::he_normal: break;
  }
  return init::he_normal(shape, seed, dtype);
}

std::int64_t last_dimension(const Tensor& x, std::string_view layer, const SourceLoc& loc) {
  if (x.rank() == 0) raise(loc, "nn::{}: the input is a scalar ({})", layer, x.type().str());
  return x.shape().back();
}

}  // namespace

Tensor dense(const Tensor& x, std::int64_t units, Parameters& params, const DenseOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = graph_of(x, "dense", loc);
  if (units <= 0) raise(loc, "nn::dense: {} units", units);
  std::int64_t in = last_dimension(x, "dense", loc);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Tensor w = create(g, options.name, "W", draw(options.init, options.stddev, {in, units}, params.seed + params.drawn++, x.dtype()), params.trainable);
  Tensor y = matmul(x, w);
  if (options.bias) y = y + create(g, options.name, "b", init::zeros({units}, x.dtype()), params.trainable);
  return y;
}

Tensor conv2d(const Tensor& x, std::int64_t filters, Size2 kernel, Parameters& params, const ConvOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = graph_of(x, "conv2d", loc);
  if (filters <= 0 || kernel.height <= 0 || kernel.width <= 0)
    raise(loc, "nn::conv2d: {} filters of {} x {}", filters, kernel.height, kernel.width);
  if (x.rank() != 4) raise(loc, "nn::conv2d: the input is {}; it needs NCHW (rank 4)", x.type().str());
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Shape shape{filters, x.shape()[1], kernel.height, kernel.width};
  Tensor w = create(g, options.name, "W", draw(options.init, options.stddev, shape, params.seed + params.drawn++, x.dtype()), params.trainable);
  if (!options.bias) return loom::conv2d(x, w, options.stride, options.padding, options.dilation, where);
  Tensor b = create(g, options.name, "b", init::zeros({filters}, x.dtype()), params.trainable);
  return loom::conv2d(x, w, b, options.stride, options.padding, options.dilation, where);
}

Tensor batch_norm2d(const Tensor& x, Parameters& params, const NormOptions& options, SrcLoc where) {
  if (x.defined() && x.rank() != 4)
    raise(SourceLoc::from(where), "nn::batch_norm2d: the input is {}; it needs NCHW (rank 4)", x.type().str());
  return batch_norm(x, params, options, where);
}

Tensor batch_norm(const Tensor& x, Parameters& params, const NormOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = graph_of(x, "batch_norm", loc);
  if (x.rank() < 2) raise(loc, "nn::batch_norm: the input is {}; it needs a batch axis and a feature axis", x.type().str());
  Shape features{x.shape()[1]};
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Tensor gamma = create(g, options.name, "gamma", init::constant(features, 1.0, x.dtype()), params.trainable);
  Tensor beta = create(g, options.name, "beta", init::zeros(features, x.dtype()), params.trainable);
  Tensor mean = create(g, options.name, "running_mean", init::zeros(features, x.dtype()), params.state);
  Tensor var = create(g, options.name, "running_var", init::constant(features, 1.0, x.dtype()), params.state);
  return loom::batch_norm(x, gamma, beta, mean, var, options.momentum, options.eps, where);
}

Tensor layer_norm(const Tensor& x, Parameters& params, const NormOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = graph_of(x, "layer_norm", loc);
  Shape features{last_dimension(x, "layer_norm", loc)};
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Tensor gamma = create(g, options.name, "gamma", init::constant(features, 1.0, x.dtype()), params.trainable);
  Tensor beta = create(g, options.name, "beta", init::zeros(features, x.dtype()), params.trainable);
  return loom::layer_norm(x, gamma, beta, options.eps, where);
}

Tensor prelu(const Tensor& x, Parameters& params, double slope, const std::string& name, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = graph_of(x, "prelu", loc);
  Shape features{last_dimension(x, "prelu", loc)};
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  Tensor alpha = create(g, name, "alpha", init::constant(features, slope, x.dtype()), params.trainable);
  return loom::prelu(x, alpha, where);
}

}  // namespace loom::nn
