#pragma once
/// Symbolic differentiation, as in Theano: grad() records a node that the autodiff pass expands.

#include <utility>
#include <vector>

#include "loom/frontend/graph.h"

namespace loom {

struct GradOptions {
  /// Gradients of the cost with respect to intermediate values, given by the caller (Theano's known_grads).
  std::vector<std::pair<Tensor, Tensor>> known_grads;
  /// Values treated as constants: no gradient flows through them.
  std::vector<Tensor> consider_constant;
  /// What to do for a `wrt` the cost does not depend on.
  Disconnected disconnected = Disconnected::raise;
};

/// d cost / d w for each w in `wrt`, as tensors of the same graph. `cost` must be a float scalar, or empty when
/// known_grads seeds the gradients. Grads of grads work (Hessian-vector products).
std::vector<Tensor> grad(const Expr& cost, const std::vector<Tensor>& wrt, const GradOptions& options = {},
                         SrcLoc loc = SrcLoc::current());

}  // namespace loom
