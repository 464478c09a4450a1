#pragma once
/// Rewrite rules as data: a pattern over the graph and a function that builds the replacement with the same ops
/// users write. canonicalize and stabilize are tables of these; apply_rules drives them.

#include <functional>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "loom/ir/expr.h"
#include "loom/passes/pass.h"

namespace loom::passes {

/// A tree pattern. Leaves bind a value to a slot (`capture`) or match a scalar-fill constant of a given value.
struct Pattern {
  enum class Kind { any, op, constant };
  Kind kind = Kind::any;
  ir::OpKind op{};
  std::vector<Pattern> operands;
  int capture = -1;       ///< slot that receives the matched value (any node kind)
  double value = 0;       ///< for constants
  std::function<bool(const ir::Node&)> when;  ///< extra condition on an op node (attributes)

  /// Matches anything and binds it to `slot`.
  static Pattern bind(int slot) { return Pattern{Kind::any, {}, {}, slot}; }
  /// Matches a node of `op` whose operands match `operands` (both orders for commutative binary ops).
  static Pattern node(ir::OpKind op, std::vector<Pattern> operands, int slot = -1) {
    return Pattern{Kind::op, op, std::move(operands), slot};
  }
  /// Matches a constant whose every element is `v`.
  static Pattern constant(double v) { return Pattern{Kind::constant, {}, {}, -1, v}; }
  Pattern& only_if(std::function<bool(const ir::Node&)> condition) {
    when = std::move(condition);
    return *this;
  }
};

/// What a match bound, and the nodes it consumed (the root included).
struct Match {
  ir::Graph* graph = nullptr;
  ir::NodeId root = ir::kNoNode;
  ir::Value slots[4];
  std::vector<ir::NodeId> nodes;

  const std::set<ir::NodeId>* pinned = nullptr;

  Expr operator[](int slot) const { return Expr(graph, slots[slot]); }
  /// Builders that consume nodes beyond the pattern must decline when one is pinned (see grad_pinned_nodes).
  bool is_pinned(ir::NodeId id) const { return pinned && pinned->count(id) > 0; }
  const ir::Node& root_node() const { return graph->node(root); }
};

/// A named rule: when `pattern` matches at a node, `build` returns the replacement value (or an empty Expr to
/// decline). The replacement must have the root's type.
struct RewriteRule {
  std::string_view name;
  Pattern pattern;
  std::function<Expr(const Match&)> build;
};

/// Values whose identity matters to a pending `grad` node (its wrt, known and constant operands). Rewrites never
/// consume, replace or merge into them: that would change which paths the gradient counts.
std::set<ir::NodeId> grad_pinned_nodes(const ir::Graph& g);

/// Applies `rules` at every live node in topological order, sweeping until nothing changes (at most `max_sweeps`
/// times). Each rewrite asks ctx for permission (the bisect limit) and is counted under its rule name.
bool apply_rules(ir::Graph& g, std::span<const RewriteRule> rules, PassContext& ctx, int max_sweeps = 8);

/// The names of a rule table, in order.
std::vector<std::string_view> names_of(std::span<const RewriteRule> rules);

/// True when `v` is a constant node (every element the same value); sets *value.
bool constant_value(const ir::Graph& g, ir::Value v, double* value = nullptr);

}  // namespace loom::passes
