#include "loom/ir/verifier.h"

#include <set>

#include "loom/ir/attribute_schema.h"
#include "loom/ir/kernel_shape.h"
#include "loom/ir/memory_plan.h"

#include "loom/ir/type_inference.h"

namespace loom::ir {

namespace {

std::string who(std::string_view pass) { return pass.empty() ? "verifier" : fmt::format("verifier (after {})", pass); }

void check_value(const Graph& g, Value v, const SourceLoc& loc, std::string_view pass, std::string_view what) {
  if (!v.valid() || v.node >= g.num_nodes() || g.node(v.node).dead || v.index >= g.node(v.node).results.size())
    raise(loc, "{}: {} refers to a missing value (node {}, result {})", who(pass), what, v.node, v.index);
}

void check_params(const Graph& g, const std::vector<NodeId>& ids, OpKind kind, std::string_view pass) {
  for (NodeId id : ids)
    if (id >= g.num_nodes() || g.node(id).op != kind || g.node(id).dead)
      raise(SourceLoc{}, "{}: signature lists node {} as {}, but it is not a live {} node", who(pass), id,
            op_name(kind), op_name(kind));
}

/// The body is well formed, the kernel shape fuse (or the parser) recorded still describes it, and `kind` says
/// the same.
void check_kernel(const Node& n, NodeId id, std::string_view pass, VerifiedBodies* verified) {
  if (!verified || !verified->contains(n)) {
    verify(*n.body, pass, verified);
    KernelShape now;
    try {
      now = describe_kernel(*n.body);
    } catch (const Error& e) {
      raise(n.loc, "{}: fused node {}: {}", who(pass), id, e.what());
    }
    if (!n.kernel || *n.kernel != now)
      raise(n.loc, "{}: fused node {} carries a kernel shape that no longer describes its body", who(pass), id);
    if (verified) verified->add(n);
  }
  if (n.attrs.get_string("kind") != to_string(n.kernel->kind))
    raise(n.loc, "{}: fused node {} says kind = \"{}\" but its body is a {} kernel", who(pass), id, n.attrs.get_string("kind"),
          to_string(n.kernel->kind));
}

}  // namespace

void verify(const Graph& g, std::string_view pass, VerifiedBodies* verified) {
  check_params(g, g.inputs, OpKind::input, pass);
  check_params(g, g.state, OpKind::state, pass);
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    const Node& n = g.node(id);
    if (n.dead) continue;
    for (Value v : n.operands) check_value(g, v, n.loc, pass, op_name(n.op));
    OpCategory category = n.info().category;
    if (category == OpCategory::Param || category == OpCategory::Constant) {
      if (n.results.size() != 1 || !n.operands.empty())
        raise(n.loc, "{}: {} must have no operands and one result", who(pass), op_name(n.op));
      check_attributes(n.op, n.attrs, n.loc);
      continue;
    }
    if (n.body) check_kernel(n, id, pass, verified);
    std::vector<TensorType> expected = infer_types(g, n.op, n.operands, n.attrs, n.loc, n.body.get());
    if (expected != n.results)
      raise(n.loc, "{}: {} (node {}) records type {} but its operands give {}", who(pass), op_name(n.op), id,
            n.results.empty() ? "()" : n.results[0].str(), expected.empty() ? "()" : expected[0].str());
  }
  topological_order(g);  // throws on cycles
  for (Value v : g.outputs) check_value(g, v, SourceLoc{}, pass, "an output");
  std::set<NodeId> targets;
  for (const auto& [target, value] : g.updates) {
    check_value(g, value, SourceLoc{}, pass, "an update");
    if (std::find(g.state.begin(), g.state.end(), target) == g.state.end())
      raise(g.node(value).loc, "{}: update target node {} is not a state parameter", who(pass), target);
    if (!targets.insert(target).second)
      raise(g.node(value).loc, "{}: state '{}' is updated twice", who(pass), g.node(target).name);
    if (g.type(value) != g.node(target).results[0])
      raise(g.node(value).loc, "{}: update of '{}' has type {}, the state is {}", who(pass), g.node(target).name,
            g.type(value).str(), g.node(target).results[0].str());
  }
  if (is_planned(g)) {
    try {
      check_plan(g);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: {}", who(pass), e.what()));
    }
  }
}

}  // namespace loom::ir
