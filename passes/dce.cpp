#include "loom/passes/passes.h"

namespace loom::passes {

bool DeadCodeElimination::run(ir::Graph& g, PassContext&) {
  std::vector<bool> needed = ir::needed_nodes(g);
  bool changed = false;
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id)
    if (!needed[id] && !g.node(id).dead) {
      g.node(id).dead = true;
      changed = true;
    }
  return changed;
}

}  // namespace loom::passes
