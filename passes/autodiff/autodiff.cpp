#include "loom/passes/passes.h"

#include <map>

#include "loom/passes/autodiff/rules.h"

namespace loom::passes {

namespace {

using ir::NodeId;
using ir::OpKind;
using ir::Value;

/// The operands of a grad node, split by role (see ops.def).
struct GradRequest {
  std::optional<Value> cost;
  std::vector<Value> wrt, known_vars, known_grads, constants;
  bool zero_if_disconnected = false;
  SourceLoc loc;

  GradRequest(const ir::Node& n) : loc(n.loc) {
    std::size_t i = 0;
    if (n.attrs.get_int("has_cost")) cost = n.operands[i++];
    auto take = [&](std::vector<Value>& into, std::int64_t count) {
      for (std::int64_t k = 0; k < count; ++k) into.push_back(n.operands[i++]);
    };
    take(wrt, n.attrs.get_int("num_wrt"));
    take(known_vars, n.attrs.get_int("num_known"));
    take(known_grads, n.attrs.get_int("num_known"));
    take(constants, static_cast<std::int64_t>(n.operands.size() - i));
    zero_if_disconnected = n.attrs.get_string("disconnected") == "zero";
  }
};

std::string describe(const ir::Graph& g, Value v) {
  const ir::Node& n = g.node(v);
  std::string what = n.name.empty() ? fmt::format("a {} result", ir::op_name(n.op)) : fmt::format("'{}'", n.name);
  return fmt::format("{} {}{}", what, g.type(v).str(), n.loc.known() ? " from " + n.loc.str() : "");
}

/// Expands one grad node whose operands contain no other grad node.
void expand(ir::Graph& g, NodeId grad_id) {
  GradRequest req(g.node(grad_id));
  ir::LocationOverride at(g, req.loc);
  NodeId first_new = static_cast<NodeId>(g.num_nodes());
  auto expr = [&](Value v) { return Expr(&g, v); };

  // Which values depend on a wrt through differentiable paths.
  std::vector<NodeId> order = ir::topological_order(g);
  std::vector<bool> depends(g.num_nodes(), false), blocked(g.num_nodes(), false);
  for (Value c : req.constants) blocked[c.node] = true;
  for (Value w : req.wrt) depends[w.node] = true;
  for (NodeId id : order) {
    const ir::Node& n = g.node(id);
    if (blocked[id] || n.op == OpKind::stop_gradient || n.results.size() != 1 || !is_float(n.results[0].dtype)) {
      depends[id] = depends[id] && !blocked[id];  // a wrt itself still collects its gradient
      continue;
    }
    for (Value v : n.operands) depends[id] = depends[id] || depends[v.node];
  }

  // Reverse accumulation from the cost (seeded with 1) and the known gradients.
  std::map<NodeId, Expr> grads;
  auto accumulate = [&](NodeId id, const Expr& contribution) {
    auto [it, fresh] = grads.try_emplace(id, contribution);
    if (!fresh) it->second = it->second + contribution;
  };
  if (req.cost && depends[req.cost->node]) accumulate(req.cost->node, full_like(expr(*req.cost), 1.0));
  for (std::size_t k = 0; k < req.known_vars.size(); ++k)
    if (depends[req.known_vars[k].node]) accumulate(req.known_vars[k].node, expr(req.known_grads[k]));

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    auto found = grads.find(*it);
    if (found == grads.end()) continue;
    const ir::Node& n = g.node(*it);
    if (n.operands.empty() || n.op == OpKind::stop_gradient || blocked[*it]) continue;
    GradRule rule = grad_rule(n.op);
    if (!rule)
      raise(n.loc, "grad: no gradient rule for op '{}' (needed to differentiate the cost at {})", ir::op_name(n.op),
            req.loc.str());
    GradInputs inputs{n.op, n.attrs, {}, expr(Value{*it, 0}), found->second};
    for (Value v : n.operands) inputs.in.push_back(expr(v));
    std::vector<Expr> operand_grads;
    {
      // The gradient of a node points at the user's line that created the node.
      ir::LocationOverride rule_at(g, g.node(*it).loc, ir::LocationOverride::Mode::replace);
      operand_grads = rule(inputs);
    }
    for (std::size_t k = 0; k < inputs.in.size(); ++k) {
      Value v = inputs.in[k].value();
      if (!depends[v.node] || k >= operand_grads.size() || !operand_grads[k].defined()) continue;
      accumulate(v.node, sum_to_shape(operand_grads[k], inputs.in[k].shape()));
    }
  }

  for (std::uint32_t k = 0; k < req.wrt.size(); ++k) {
    Value w = req.wrt[k];
    auto found = grads.find(w.node);
    Expr result;
    if (found != grads.end()) {
      result = found->second;
    } else if (req.zero_if_disconnected) {
      result = full_like(expr(w), 0.0);
    } else {
      raise(req.loc, "grad: the cost does not depend on {} (pass disconnected = Disconnected::zero to get zeros)",
            describe(g, w));
    }
    g.replace_all_uses(Value{grad_id, k}, result.value());
  }
  g.node(grad_id).dead = true;
  for (NodeId id = first_new; id < g.num_nodes(); ++id) g.node(id).from_autodiff = true;
}

/// A live grad node none of whose ancestors is another grad node.
std::optional<NodeId> innermost_grad(const ir::Graph& g) {
  std::vector<bool> has_grad_below(g.num_nodes(), false);
  for (NodeId id : ir::topological_order(g)) {
    const ir::Node& n = g.node(id);
    bool below = false;
    for (Value v : n.operands) below = below || has_grad_below[v.node];
    if (n.op == OpKind::grad && !below) return id;
    has_grad_below[id] = below || n.op == OpKind::grad;
  }
  return std::nullopt;
}

}  // namespace

bool Autodiff::run(ir::Graph& g, PassContext&) {
  bool changed = false;
  while (auto id = innermost_grad(g)) {
    expand(g, *id);
    changed = true;
  }
  return changed;
}

}  // namespace loom::passes
