/// modes: lowers the ops whose training and inference behaviour differ, as CompileOptions::training asks (the
/// first pass of every named level, and compile() puts it first in any pipeline):
///
///   dropout(x, step) {rate, seed, stream}   training:  x · where(random_uniform(step) > rate, 1/(1 − rate), 0)
///                                           inference: x
///   rrelu(x, step) {lower, upper, ...}      training:  where(x ≥ 0, x, (lower + (upper − lower)·random_uniform(step))·x)
///                                           inference: where(x ≥ 0, x, (lower + upper)/2 · x)
///   batch_norm(x, γ, β, m, v, rm, rv) {eps} γ·(x − μ)/√(σ² + eps) + β, with (μ, σ²) the batch's (m, v) in training
///                                           and the running (rm, rv) in inference
///
/// Why a pass: the graph a user records holds both behaviours, and a Function is compiled for one. Lowered before
/// autodiff, the gradients differentiate the lowered form: dropout's backward multiplies by the same random
/// values, which fuse recomputes in the backward kernel instead of storing a mask.

#include "loom/ir/expr.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

/// Uniform draws of x's type for the random op `n` (its seed and stream), at the graph's step `step`.
Expr draws(const ir::Node& n, const Expr& x, const Expr& step) {
  return random_uniform(step, x.type(), static_cast<std::uint64_t>(n.attrs.get_int("seed")),
                        static_cast<std::uint32_t>(n.attrs.get_int("stream")));
}

Expr lower(ir::Graph& g, ir::NodeId id, bool training) {
  const ir::Node n = g.node(id);  // a copy: lowering adds nodes
  std::vector<Expr> in;
  for (ir::Value v : n.operands) in.emplace_back(&g, v);
  const Expr& x = in[0];
  auto scalar = [&](double v) { return constant(g, v, TensorType{x.dtype(), {}}); };
  switch (n.op) {
    case ir::OpKind::dropout: {
      double rate = n.attrs.get_float("rate");
      if (!training || rate == 0.0) return x;
      return x * where(draws(n, x, in[1]) > rate, scalar(1.0 / (1.0 - rate)), scalar(0.0));
    }
    case ir::OpKind::rrelu: {
      double lower = n.attrs.get_float("lower"), upper = n.attrs.get_float("upper");
      Expr slope = training ? Expr(lower + (upper - lower) * draws(n, x, in[1])) : scalar((lower + upper) / 2.0);
      return where(x >= 0.0, x, slope * x);
    }
    case ir::OpKind::batch_norm: {
      const Expr &mean = training ? in[3] : in[5], &variance = training ? in[4] : in[6];
      return in[1] * (x - mean) * rsqrt(variance + n.attrs.get_float("eps")) + in[2];
    }
    default: raise(n.loc, "modes: no lowering for {}", ir::op_name(n.op));
  }
}

}  // namespace

bool Modes::run(ir::Graph& g, PassContext& ctx) {
  bool changed = false;
  for (ir::NodeId id = 0, count = static_cast<ir::NodeId>(g.num_nodes()); id < count; ++id) {
    if (g.node(id).dead || g.node(id).info().category != ir::OpCategory::Mode) continue;
    ir::LocationOverride at(g, g.node(id).loc, ir::LocationOverride::Mode::replace);
    Expr lowered = lower(g, id, ctx.training);
    g.replace_all_uses({id, 0}, lowered.value());
    g.node(id).dead = true;
    changed = true;
  }
  return changed;
}

}  // namespace loom::passes
