#pragma once
/// The reference interpreter: runs a function graph node by node with the plain kernels of kernels.h.

#include <cstdint>
#include <memory>

#include "loom/codegen/executable.h"
#include "loom/ir/graph.h"

namespace loom::codegen {

struct InterpreterOptions {
  /// Raise an Error naming the op and source line of the first node that produces a NaN or an infinity.
  bool check_finite = false;
  /// Non-zero: Monte Carlo arithmetic (interpreter/arithmetic.h) seeded with it, to measure how rounding moves
  /// each result; 0: the exact oracle.
  std::uint64_t perturbation_seed = 0;
  /// Called with each top-level node's results as it is computed.
  StepObserver observe;
};

/// Takes a verified graph with no `grad` nodes left (run the autodiff pass first).
std::unique_ptr<Executable> make_interpreter(ir::Graph graph, InterpreterOptions options = {});

}  // namespace loom::codegen
