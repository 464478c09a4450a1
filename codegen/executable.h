#pragma once
/// What a backend produces from a compiled function graph: something that runs it.

#include <functional>
#include <span>
#include <vector>

#include "loom/ir/graph.h"
#include "loom/runtime/array.h"

namespace loom::codegen {

/// Called with a step's results as soon as the step has run (a copy the callee may keep), to compare backends
/// step by step; node ids are the function graph's. Only for diagnostics: it allocates.
using StepObserver = std::function<void(ir::NodeId, std::span<const Array>)>;

class Executable {
 public:
  virtual ~Executable() = default;

  /// Computes the outputs followed by the new value of every update, all from the given (old) state, in arrays
  /// of their own; nothing given is written. The oracle's interface, used by tests and tools.
  virtual std::vector<Array> run(std::span<const Array> inputs, std::span<const Array> state) const = 0;

  /// One call as a Function makes it: reads `inputs` (never written), writes every output into the caller's
  /// arrays `outputs` (of the output types, aliasing nothing else) and every update into its state array's
  /// buffer; every update is computed from the old state (Theano's semantics). If it throws, no state changed.
  /// The default runs run() and copies; the JIT runs its memory plan, allocating nothing.
  virtual void run_into(std::span<const Array> inputs, std::span<Array> state, std::span<Array> outputs) const;

  /// The graph it runs.
  virtual const ir::Graph& graph() const = 0;
};

}  // namespace loom::codegen
