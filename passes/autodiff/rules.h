#pragma once
/// Gradient rules: one per differentiable op, written with the same ops users write, so a gradient is ordinary
/// IR that prints, optimizes and can be differentiated again.

#include <vector>

#include "loom/ir/expr.h"

namespace loom::passes {

/// What a rule sees of the node it differentiates. Copies, not references: rules add nodes, which may move the
/// graph's node storage.
struct GradInputs {
  ir::OpKind op;
  ir::Attrs attrs;
  std::vector<Expr> in;  ///< the node's operands
  Expr out;              ///< the node's (single) result
  Expr g;                ///< d cost / d out
};

/// Returns d cost / d operand for each operand, or an empty Expr where no gradient flows (integer operands,
/// conditions). Results may have the broadcast shape; the caller sums them back to each operand's shape.
using GradRule = std::vector<Expr> (*)(const GradInputs&);

/// The rule for `op`, or nullptr when the op has none.
GradRule grad_rule(ir::OpKind op);

/// Sums `g` over the axes that broadcasting added or stretched, so it has `shape`. The one place broadcasting is
/// undone.
Expr sum_to_shape(const Expr& g, const Shape& shape);

}  // namespace loom::passes
