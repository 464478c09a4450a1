#pragma once
#include "loom/passes/pass.h"

namespace loom::passes {

/// autodiff: replaces every `grad` node with the gradient graph built by reverse accumulation from the op rules
/// (rules.h). Inner grads are expanded before the grads that differentiate through them, so grads of grads
/// (Hessian-vector products) work.
class Autodiff final : public Pass {
 public:
  std::string_view name() const override { return "autodiff"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

}  // namespace loom::passes
