#include "loom/codegen/executable.h"

#include <algorithm>
#include <cstring>

namespace loom::codegen {

void Executable::run_into(std::span<const Array> inputs, std::span<Array> state, std::span<Array> outputs) const {
  const ir::Graph& g = graph();
  std::vector<Array> old_state(state.begin(), state.end());
  std::vector<Array> results = run(inputs, old_state);
  auto copy_into = [](Array& to, const Array& from) { std::memcpy(to.raw(), from.raw(), from.nbytes()); };
  for (std::size_t k = 0; k < g.outputs.size(); ++k) copy_into(outputs[k], results[k]);
  for (std::size_t k = 0; k < g.updates.size(); ++k) {
    auto slot = std::find(g.state.begin(), g.state.end(), g.updates[k].first) - g.state.begin();
    copy_into(state[static_cast<std::size_t>(slot)], results[g.outputs.size() + k]);
  }
}

}  // namespace loom::codegen
