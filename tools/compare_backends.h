#pragma once
/// loom-opt --compare-backends: runs a compiled function on the interpreter and on the JIT with the same inputs and
/// names the first output, and the first step (kernel, matmul or op) in execution order, whose numbers differ by
/// more than rounding explains (codegen/agreement.h), so that a wrong number found anywhere becomes a dump anyone
/// can replay with one command.

#include <vector>

#include "loom/ir/graph.h"
#include "loom/runtime/array.h"

namespace loom::tools {

/// Prints the comparison to stdout; returns the number of outputs and updates that differ.
int compare_backends(const ir::Graph& planned, const std::vector<Array>& inputs, const std::vector<Array>& state);

}  // namespace loom::tools
