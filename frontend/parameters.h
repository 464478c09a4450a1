#pragma once
/// Checks shared by the optimizers and the gradient transforms.

#include <string_view>
#include <vector>

#include "loom/frontend/graph.h"

namespace loom::frontend {

/// The graph of `params`, after checking that they are float shared variables of one loom::Graph and that each
/// gradient has its parameter's type (`grads` may be empty: only the parameters are checked). Throws Error naming
/// `op`, the parameter and the types, at `loc`.
Graph& parameters_graph(std::string_view op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                        const SourceLoc& loc);

/// The graph of `tensors` (all of one loom::Graph, none empty), or an Error naming `op` at `loc`.
Graph& tensors_graph(std::string_view op, const std::vector<Tensor>& tensors, const SourceLoc& loc);

/// `base`, or `base.1`, `base.2`, ...: a shared-variable name `g` does not use yet.
std::string unused_state_name(const Graph& g, const std::string& base);

}  // namespace loom::frontend
