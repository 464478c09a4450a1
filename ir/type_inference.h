#pragma once
/// Result types of an op from its operand types and attributes. This is where user mistakes surface, so every
/// failure names the op, every operand's type, the offending dimension and the user's line.

#include <vector>

#include "loom/ir/graph.h"

namespace loom::ir {

/// `body` is the nested function of a `fused` node (nullptr for every other op).
std::vector<TensorType> infer_types(const Graph& g, OpKind op, const std::vector<Value>& operands,
                                    const Attrs& attrs, const SourceLoc& loc, const Graph* body = nullptr);

/// The axes a reduction node reduces, with "all" spelled out (axes = [] and axes = [0, 1] of a matrix are the same).
std::vector<std::int64_t> reduced_axes(const Graph& g, const Node& n);

/// NumPy broadcasting of two shapes; nullopt when they do not broadcast.
std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b);

}  // namespace loom::ir
