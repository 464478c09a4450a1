#include "loom/passes/rewrite.h"

#include <algorithm>

namespace loom::passes {

namespace {

bool match_pattern(const ir::Graph& g, ir::Value v, const Pattern& p, Match& m) {
  const ir::Node& n = g.node(v);
  switch (p.kind) {
    case Pattern::Kind::any:
      break;
    case Pattern::Kind::constant: {
      double value = 0;
      if (!constant_value(g, v, &value) || value != p.value) return false;
      m.nodes.push_back(v.node);
      return true;
    }
    case Pattern::Kind::op: {
      if (n.op != p.op || n.results.size() != 1 || (p.when && !p.when(n))) return false;
      if (p.operands.size() != n.operands.size()) return false;
      Match saved = m;
      m.nodes.push_back(v.node);
      bool ok = true;
      for (std::size_t i = 0; ok && i < p.operands.size(); ++i) ok = match_pattern(g, n.operands[i], p.operands[i], m);
      if (!ok && n.info().has(ir::trait::Commutative) && p.operands.size() == 2) {
        m = saved;
        m.nodes.push_back(v.node);
        ok = match_pattern(g, n.operands[1], p.operands[0], m) && match_pattern(g, n.operands[0], p.operands[1], m);
      }
      if (!ok) {
        m = saved;
        return false;
      }
      break;
    }
  }
  if (p.capture >= 0) {
    if (m.slots[p.capture].valid() && m.slots[p.capture] != v) return false;  // a slot bound twice must agree
    m.slots[p.capture] = v;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> names_of(std::span<const RewriteRule> rules) {
  std::vector<std::string_view> names;
  for (const auto& rule : rules) names.push_back(rule.name);
  return names;
}

bool constant_value(const ir::Graph& g, ir::Value v, double* value) {
  const ir::Node& n = g.node(v);
  if (n.op != ir::OpKind::constant) return false;
  if (value) *value = n.attrs.get_float("value");
  return true;
}

std::set<ir::NodeId> grad_pinned_nodes(const ir::Graph& g) {
  std::set<ir::NodeId> pinned;
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id) {
    const ir::Node& n = g.node(id);
    if (n.dead || n.op != ir::OpKind::grad) continue;
    std::size_t first = n.attrs.get_int("has_cost") ? 1 : 0;
    for (std::size_t i = first; i < n.operands.size(); ++i) pinned.insert(n.operands[i].node);
  }
  return pinned;
}

bool apply_rules(ir::Graph& g, std::span<const RewriteRule> rules, PassContext& ctx, int max_sweeps) {
  bool changed = false;
  for (int sweep = 0; sweep < max_sweeps; ++sweep) {
    bool swept_change = false;
    std::set<ir::NodeId> pinned = grad_pinned_nodes(g);
    std::vector<bool> needed = ir::needed_nodes(g);
    for (ir::NodeId id : ir::topological_order(g)) {
      if (!needed[id] || g.node(id).dead || g.node(id).results.size() != 1) continue;
      for (const RewriteRule& rule : rules) {
        Match m;
        m.graph = &g;
        m.root = id;
        m.pinned = &pinned;
        if (!match_pattern(g, ir::Value{id, 0}, rule.pattern, m)) continue;
        if (pinned.count(id) || std::any_of(m.nodes.begin(), m.nodes.end(), [&](ir::NodeId k) { return pinned.count(k) > 0; }))
          continue;
        const ir::Node& root = g.node(id);
        std::string where = fmt::format("node {} ({}{})", id, ir::op_name(root.op),
                                        root.loc.known() ? ", " + root.loc.str() : "");
        Expr replacement;
        ir::NodeId first_new = static_cast<ir::NodeId>(g.num_nodes());
        {
          ir::LocationOverride at(g, g.node(id).loc, ir::LocationOverride::Mode::replace);
          replacement = rule.build(m);
        }
        if (!replacement.defined() || replacement.value() == ir::Value{id, 0}) continue;
        if (pinned.count(replacement.value().node)) continue;
        if (replacement.type() != g.node(id).results[0])
          throw Error(fmt::format("rewrite rule {} built {} for a {} value at {}", rule.name, replacement.type().str(),
                                  g.node(id).results[0].str(), where));
        if (!ctx.grant_rewrite(rule.name, where)) return changed;
        g.replace_all_uses(ir::Value{id, 0}, replacement.value());
        for (ir::NodeId k = first_new; k < g.num_nodes(); ++k) g.node(k).from_autodiff = g.node(id).from_autodiff;
        swept_change = changed = true;
        break;  // the root is replaced; later rules see the new node on the next sweep
      }
    }
    if (!swept_change) break;
  }
  return changed;
}

}  // namespace loom::passes
