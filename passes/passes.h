#pragma once
/// Every pass of loom, one class each; the implementation and its "why" live in the .cpp named after the pass.

#include "loom/passes/pass.h"

namespace loom::passes {

/// autodiff (autodiff/autodiff.cpp): replaces every `grad` node with the gradient graph built by reverse
/// accumulation from the op rules (autodiff/rules.cpp). Inner grads expand first, so grads of grads work.
class Autodiff final : public Pass {
 public:
  std::string_view name() const override { return "autodiff"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// canonicalize (canonicalize.cpp): constant folding, algebraic identities, layout folding.
class Canonicalize final : public Pass {
 public:
  std::string_view name() const override { return "canonicalize"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override;
};

/// cse (cse.cpp): merges structurally identical nodes.
class CommonSubexpressionElimination final : public Pass {
 public:
  std::string_view name() const override { return "cse"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override { return {"merge"}; }
};

/// stabilize (stabilize.cpp): replaces numerically fragile patterns with stable ops.
class Stabilize final : public Pass {
 public:
  std::string_view name() const override { return "stabilize"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override;
};

/// fuse (fuse.cpp): groups elementwise chains, reductions and row-wise ops with their producers into kernels.
class Fuse final : public Pass {
 public:
  std::string_view name() const override { return "fuse"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// dce (dce.cpp): marks dead every node that no output or update needs. Parameters stay: they are the signature.
class DeadCodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

}  // namespace loom::passes
