#include "loom/frontend/extract.h"

#include <algorithm>
#include <map>
#include <set>

namespace loom::frontend {

std::string describe(const Expr& x) {
  const ir::Node& n = x.node();
  std::string what = n.op == ir::OpKind::input ? "input" : n.op == ir::OpKind::state ? "shared" : std::string(ir::op_name(n.op));
  std::string label = n.name.empty() ? "" : "'" + n.name + "' ";
  return fmt::format("{}{} ({}{})", label, x.type().str(), what, n.loc.known() ? ", created at " + n.loc.str() : "");
}

ExtractedFunction extract_function(const Graph& source, const std::vector<Tensor>& inputs,
                                   const std::vector<Tensor>& outputs, const Updates& given_updates,
                                   const std::vector<Graph::AutomaticUpdate>& automatic, const std::string& name,
                                   const SourceLoc& loc) {
  Updates updates = given_updates;
  auto check = [&](const Tensor& t, const std::string& role) {
    if (!t.defined()) raise(loc, "compile: {} is an empty Tensor", role);
    if (t.graph() != &source) raise(loc, "compile: {} belongs to another graph", role);
  };
  if (outputs.empty() && updates.empty()) raise(loc, "compile: nothing to compute (no outputs and no updates)");
  const Graph& g = source;
  std::set<ir::NodeId> listed_inputs;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    check(inputs[i], fmt::format("inputs[{}]", i));
    if (inputs[i].node().op != ir::OpKind::input)
      raise(loc, "compile: inputs[{}] is {}, not an input; only g.input(...) tensors can be passed in", i,
            describe(inputs[i]));
    if (!listed_inputs.insert(inputs[i].value().node).second)
      raise(loc, "compile: inputs[{}] {} is listed twice", i, describe(inputs[i]));
  }
  std::set<ir::NodeId> targets;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    const auto& [target, value] = updates[i];
    check(target, fmt::format("updates[{}] target", i));
    check(value, fmt::format("updates[{}] value", i));
    if (target.node().op != ir::OpKind::state)
      raise(loc, "compile: updates[{}] targets {}, which is not a shared variable; only g.shared(...) tensors can be "
                 "updated", i, describe(target));
    if (target.type() != value.type())
      raise(loc, "compile: updates[{}] gives {} the value {}; the types must match", i, describe(target), describe(value));
    if (!targets.insert(target.value().node).second) raise(loc, "compile: {} is updated twice", describe(target));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) check(outputs[i], fmt::format("outputs[{}]", i));

  // Mark what the outputs and update values need.
  std::vector<bool> needed(g.num_nodes(), false);
  std::vector<ir::NodeId> work;
  auto want = [&](ir::NodeId id) {
    if (!needed[id]) {
      needed[id] = true;
      work.push_back(id);
    }
  };
  for (const Tensor& t : outputs) want(t.value().node);
  for (const auto& [target, value] : updates) {
    want(target.value().node);
    want(value.value().node);
  }
  for (const Tensor& t : inputs) want(t.value().node);
  auto mark = [&] {
    while (!work.empty()) {
      ir::NodeId id = work.back();
      work.pop_back();
      const ir::Node& n = g.node(id);
      if (n.op == ir::OpKind::input && !listed_inputs.count(id))
        raise(loc, "compile: the outputs need input {}, which is not in the inputs list", describe(Expr(const_cast<Graph*>(&g), {id, 0})));
      for (ir::Value v : n.operands) want(v.node);
    }
  };
  mark();
  // The graph's own updates of state the function reads (the random step counter, running statistics), unless
  // the caller updates that state; what they read may bring in more.
  for (bool added = true; added;) {
    added = false;
    for (const Graph::AutomaticUpdate& a : automatic) {
      ir::NodeId state = a.state.value().node;
      if (!needed[state] || targets.count(state)) continue;
      targets.insert(state);
      updates.push_back({a.state, a.value});
      want(a.value.value().node);
      mark();
      added = true;
    }
  }

  ExtractedFunction fn{ir::Graph(name), {}};
  std::map<ir::NodeId, ir::NodeId> mapped;
  for (ir::NodeId id : ir::topological_order(g)) {
    if (!needed[id]) continue;
    const ir::Node& n = g.node(id);
    std::vector<ir::Value> operands;
    for (ir::Value v : n.operands) operands.push_back({mapped.at(v.node), v.index});
    mapped[id] = fn.graph.add_typed_node(n.op, std::move(operands), n.attrs, n.results, n.loc, n.name);
    if (n.op == ir::OpKind::state) {
      fn.graph.state.push_back(mapped[id]);
      fn.state_sources.push_back(id);
    }
  }
  for (const Tensor& t : inputs) fn.graph.inputs.push_back(mapped.at(t.value().node));
  auto map_value = [&](const Expr& x) { return ir::Value{mapped.at(x.value().node), x.value().index}; };
  for (const Tensor& t : outputs) fn.graph.outputs.push_back(map_value(t));
  for (const auto& [target, value] : updates) fn.graph.updates.push_back({mapped.at(target.value().node), map_value(value)});
  return fn;
}

}  // namespace loom::frontend
