#pragma once
#include "loom/passes/pass.h"

namespace loom::passes {

/// dce: marks dead every node that no output or update needs. Parameters stay: they are the signature.
class DeadCodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

}  // namespace loom::passes
