#pragma once
/// Result types of an op from its operand types and attributes. This is where user mistakes surface, so every
/// failure names the op, every operand's type, the offending dimension and the user's line.

#include <vector>

#include "loom/ir/graph.h"

namespace loom::ir {

/// `body` is the nested function of a `fused` node (nullptr for every other op).
std::vector<TensorType> infer_types(const Graph& g, OpKind op, const std::vector<Value>& operands,
                                    const Attrs& attrs, const SourceLoc& loc, const Graph* body = nullptr);

/// NumPy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace loom::ir
