#pragma once
/// What a backend produces from a compiled function graph: something that runs it.

#include <span>
#include <vector>

#include "loom/runtime/array.h"

namespace loom::codegen {

class Executable {
 public:
  virtual ~Executable() = default;
  /// Computes the outputs followed by the new value of every update, all from the given (old) state. The caller
  /// assigns the updates afterwards, which gives Theano's semantics.
  virtual std::vector<Array> run(std::span<const Array> inputs, std::span<const Array> state) const = 0;
};

}  // namespace loom::codegen
