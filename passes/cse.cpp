/// cse: structural hashing. Two live nodes with the same op, attributes, operands and result types compute the
/// same values; every use of the later one moves to the earlier one. Parameters are never merged (two inputs of
/// one type are different values), nor are values a pending grad node differentiates with respect to.

#include "loom/passes/passes.h"

#include <unordered_map>

#include "loom/ir/printer.h"
#include "loom/passes/rewrite.h"

namespace loom::passes {

namespace {

std::string structural_key(const ir::Node& n) {
  std::string key = fmt::format("{}(", ir::op_name(n.op));
  for (ir::Value v : n.operands) key += fmt::format("{}#{},", v.node, v.index);
  key += ")" + ir::format_attrs(n.attrs);
  for (const auto& t : n.results) key += ":" + t.str();
  return key;
}

}  // namespace

bool CommonSubexpressionElimination::run(ir::Graph& g, PassContext& ctx) {
  std::set<ir::NodeId> pinned = grad_pinned_nodes(g);
  std::vector<bool> needed = ir::needed_nodes(g);
  std::unordered_map<std::string, ir::NodeId> seen;
  // merged_into[id]: the node id's uses move to. Operands are redirected as the topological walk reaches their
  // users, and everything else once at the end: linear, where a replace_all_uses per merge was quadratic.
  std::vector<ir::NodeId> merged_into(g.num_nodes(), ir::kNoNode);
  auto redirect = [&](ir::Value& v) {
    if (merged_into[v.node] != ir::kNoNode) v.node = merged_into[v.node];
  };
  bool changed = false;
  for (ir::NodeId id : ir::topological_order(g)) {
    ir::Node& n = g.node(id);
    for (ir::Value& operand : n.operands) redirect(operand);
    if (!needed[id] || n.info().category == ir::OpCategory::Param || pinned.count(id)) continue;
    auto [it, fresh] = seen.try_emplace(structural_key(n), id);
    if (fresh || pinned.count(it->second)) continue;
    if (!ctx.grant_rewrite("merge", fmt::format("node {} ({})", id, ir::op_name(n.op)))) break;
    merged_into[id] = it->second;
    // A value the forward pass computes stays a forward value when a gradient's copy of it merges into it.
    g.node(it->second).from_autodiff = g.node(it->second).from_autodiff && n.from_autodiff;
    changed = true;
  }
  g.for_each_use(redirect);
  return changed;
}

}  // namespace loom::passes
