#pragma once
/// Graphviz export of a function graph, for looking at its structure.

#include <string>

#include "loom/ir/graph.h"

namespace loom::ir {

/// A `digraph` with one box per live node (op, attributes, type, source line) and one edge per operand.
std::string to_dot(const Graph& g);

}  // namespace loom::ir
