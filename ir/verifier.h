#pragma once
/// Checks that a graph is well formed: operands defined and acyclic, recorded types equal the inferred ones,
/// the signature refers to the right kinds of nodes and updates keep their state's type; a planned graph's
/// buffers pass check_plan (memory_plan.h).

#include "loom/ir/graph.h"

namespace loom::ir {

/// Throws Error describing the first problem, with the offending node's source line. `pass` names who ran
/// last, so a failure after a pass blames it.
void verify(const Graph& g, std::string_view pass = "");

}  // namespace loom::ir
