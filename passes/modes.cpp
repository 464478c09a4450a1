/// modes: lowers the ops whose training and inference behaviour differ, as CompileOptions::training asks (the
/// first pass of every named level, and compile() puts it first in any pipeline):
///
///   dropout(x, step) {rate, seed, stream}   training:  x · where(random_uniform(step) > rate, 1/(1 − rate), 0)
///                                           inference: x
///
/// Why a pass: the graph a user records holds both behaviours, and a Function is compiled for one. Lowered before
/// autodiff, the gradients differentiate the lowered form: dropout's backward multiplies by the same random
/// values, which fuse recomputes in the backward kernel instead of storing a mask.

#include "loom/ir/expr.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

Expr lower_dropout(ir::Graph& g, ir::NodeId id, bool training) {
  const ir::Node& n = g.node(id);
  Expr x(&g, n.operands[0]), step(&g, n.operands[1]);
  double rate = n.attrs.get_float("rate");
  if (!training || rate == 0.0) return x;
  Expr u = random_uniform(step, x.type(), static_cast<std::uint64_t>(n.attrs.get_int("seed")),
                          static_cast<std::uint32_t>(n.attrs.get_int("stream")));
  auto scalar = [&](double v) { return constant(g, v, TensorType{x.dtype(), {}}); };
  return x * where(u > rate, scalar(1.0 / (1.0 - rate)), scalar(0.0));
}

}  // namespace

bool Modes::run(ir::Graph& g, PassContext& ctx) {
  bool changed = false;
  for (ir::NodeId id = 0, count = static_cast<ir::NodeId>(g.num_nodes()); id < count; ++id) {
    if (g.node(id).dead || g.node(id).info().category != ir::OpCategory::Mode) continue;
    ir::LocationOverride at(g, g.node(id).loc, ir::LocationOverride::Mode::replace);
    Expr lowered = lower_dropout(g, id, ctx.training);
    g.replace_all_uses({id, 0}, lowered.value());
    g.node(id).dead = true;
    changed = true;
  }
  return changed;
}

}  // namespace loom::passes
