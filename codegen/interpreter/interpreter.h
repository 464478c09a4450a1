#pragma once
/// The reference interpreter: runs a function graph node by node with the plain kernels of kernels.h.

#include <memory>

#include "loom/codegen/executable.h"
#include "loom/ir/graph.h"

namespace loom::codegen {

struct InterpreterOptions {
  /// Raise an Error naming the op and source line of the first node that produces a NaN or an infinity.
  bool check_finite = false;
};

/// Takes a verified graph with no `grad` nodes left (run the autodiff pass first).
std::unique_ptr<Executable> make_interpreter(ir::Graph graph, InterpreterOptions options = {});

}  // namespace loom::codegen
