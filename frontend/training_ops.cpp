#include "loom/frontend/training_ops.h"

namespace loom {

namespace {

Graph& recording_graph(const Tensor& x, std::string_view op, const SourceLoc& loc) {
  auto* g = x.defined() ? dynamic_cast<Graph*>(x.graph()) : nullptr;
  if (!g) raise(loc, "{}: the operand is not a tensor of a loom::Graph", op);
  return *g;
}

}  // namespace

Tensor dropout(const Tensor& x, double rate, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = recording_graph(x, "dropout", loc);
  ir::Attrs attrs{{"rate", rate},
                  {"seed", static_cast<std::int64_t>(g.random_seed())},
                  {"stream", static_cast<std::int64_t>(g.next_random_stream())}};
  ir::NodeId id = g.add_node(ir::OpKind::dropout, {x.value(), g.random_step().value()}, std::move(attrs), loc);
  return Tensor(Expr(&g, {id, 0}));
}

Tensor rrelu(const Tensor& x, double lower, double upper, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = recording_graph(x, "rrelu", loc);
  ir::Attrs attrs{{"lower", lower},
                  {"upper", upper},
                  {"seed", static_cast<std::int64_t>(g.random_seed())},
                  {"stream", static_cast<std::int64_t>(g.next_random_stream())}};
  ir::NodeId id = g.add_node(ir::OpKind::rrelu, {x.value(), g.random_step().value()}, std::move(attrs), loc);
  return Tensor(Expr(&g, {id, 0}));
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, double momentum, double eps, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  Graph& g = recording_graph(x, "batch_norm", loc);
  if (x.rank() < 2) raise(loc, "batch_norm: x is {}; it needs a batch axis and a feature axis ([N, C, ...])", x.type().str());
  std::int64_t features = x.shape()[1];
  for (const Tensor* t : {&gamma, &beta, &running_mean, &running_var})
    if (!t->defined() || t->graph() != &g || t->type() != TensorType{x.dtype(), {features}})
      raise(loc, "batch_norm: x is {}, so scale, shift and running statistics must be {}[{}], got {}", x.type().str(),
            to_string(x.dtype()), features, t->defined() ? t->type().str() : "an empty Tensor");
  for (const Tensor* t : {&running_mean, &running_var})
    if (t->node().op != ir::OpKind::state) raise(loc, "batch_norm: the running statistics must be shared variables");
  if (!(momentum >= 0 && momentum <= 1)) raise(loc, "batch_norm: momentum {} is not in [0, 1]", momentum);
  ir::LocationOverride at_user(g, loc, ir::LocationOverride::Mode::replace);
  // [C] as [C, 1, ...]: broadcast along the features' axis of x.
  Shape per_feature(static_cast<std::size_t>(x.rank() - 1), 1);
  per_feature[0] = features;
  auto spread = [&](const Tensor& t) { return reshape(t, per_feature); };
  std::vector<std::int64_t> axes{0};
  for (std::int64_t d = 2; d < x.rank(); ++d) axes.push_back(d);
  Moments batch = moments(x, axes);
  double n = static_cast<double>(x.type().size()) / static_cast<double>(features);
  g.add_automatic_update({running_mean, (1.0 - momentum) * running_mean + momentum * reshape(batch.mean, {features})});
  g.add_automatic_update({running_var, (1.0 - momentum) * running_var +
                                           (momentum * n / std::max(n - 1.0, 1.0)) * reshape(batch.variance, {features})});
  std::vector<ir::Value> operands{x.value(),          spread(gamma).value(),        spread(beta).value(),
                                  batch.mean.value(), batch.variance.value(),       spread(running_mean).value(),
                                  spread(running_var).value()};
  ir::NodeId id = g.add_node(ir::OpKind::batch_norm, std::move(operands), {{"eps", eps}}, loc);
  return Tensor(Expr(&g, {id, 0}));
}

}  // namespace loom
