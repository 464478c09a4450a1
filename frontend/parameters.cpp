#include "loom/frontend/parameters.h"

#include <fmt/format.h>

namespace loom::frontend {

Graph& tensors_graph(std::string_view op, const std::vector<Tensor>& tensors, const SourceLoc& loc) {
  if (tensors.empty()) raise(loc, "{}: no tensors", op);
  auto* g = tensors[0].defined() ? dynamic_cast<Graph*>(tensors[0].graph()) : nullptr;
  for (std::size_t k = 0; k < tensors.size(); ++k)
    if (!g || !tensors[k].defined() || tensors[k].graph() != g)
      raise(loc, "{}: tensor {} is not a tensor of the first one's loom::Graph", op, k);
  return *g;
}

Graph& parameters_graph(std::string_view op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                        const SourceLoc& loc) {
  if (params.empty()) raise(loc, "{}: no parameters", op);
  if (!grads.empty() && params.size() != grads.size())
    raise(loc, "{}: {} parameters but {} gradients", op, params.size(), grads.size());
  auto* g = params[0].defined() ? dynamic_cast<Graph*>(params[0].graph()) : nullptr;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Tensor& p = params[k];
    if (!g || !p.defined() || p.graph() != g || p.node().op != ir::OpKind::state)
      raise(loc, "{}: parameter {} is not a shared variable of the parameters' graph", op, k);
    if (!is_float(p.dtype())) raise(loc, "{}: parameter '{}' is {}, not a float tensor", op, p.name(), p.type().str());
    if (grads.empty()) continue;
    const Tensor& grad = grads[k];
    if (!grad.defined() || grad.graph() != g || grad.type() != p.type())
      raise(loc, "{}: the gradient of '{}' ({}) is {}; it must have the parameter's type", op, p.name(), p.type().str(),
            grad.defined() ? grad.type().str() : "an empty Tensor");
  }
  return *g;
}

std::string unused_state_name(const Graph& g, const std::string& base) {
  auto taken = [&](const std::string& name) {
    for (ir::NodeId id : g.state)
      if (g.node(id).name == name) return true;
    return false;
  };
  std::string name = base;
  for (int k = 1; taken(name); ++k) name = fmt::format("{}.{}", base, k);
  return name;
}

}  // namespace loom::frontend
