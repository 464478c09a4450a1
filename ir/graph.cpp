#include "loom/ir/graph.h"

#include "loom/ir/type_inference.h"

namespace loom::ir {

NodeId Graph::add_node(OpKind op, std::vector<Value> operands, Attrs attrs, const SourceLoc& loc, std::string name) {
  const SourceLoc& at = location_override ? *location_override : loc;
  std::vector<TensorType> results = infer_types(*this, op, operands, attrs, at);
  return add_typed_node(op, std::move(operands), std::move(attrs), std::move(results), at, std::move(name));
}

NodeId Graph::add_typed_node(OpKind op, std::vector<Value> operands, Attrs attrs, std::vector<TensorType> results,
                             const SourceLoc& loc, std::string name) {
  const SourceLoc& at = location_override ? *location_override : loc;
  for (const TensorType& type : results)  // inputs, state and constants: their types come from the caller
    if (auto why = unrepresentable(type)) raise(at, "{}{}: impossible type: {}", op_name(op), name.empty() ? "" : " '" + name + "'", *why);
  nodes_.push_back(Node{op, std::move(operands), std::move(attrs), std::move(results), std::move(name), at, false, nullptr});
  return static_cast<NodeId>(nodes_.size() - 1);
}

void Graph::for_each_use(const std::function<void(Value&)>& fn) {
  for (auto& n : nodes_)
    for (auto& operand : n.operands) fn(operand);
  for (auto& out : outputs) fn(out);
  for (auto& [target, value] : updates) fn(value);
}

void Graph::replace_all_uses(Value from, Value to) {
  for_each_use([&](Value& v) {
    if (v == from) v = to;
  });
}

void Graph::replace_all_uses(const std::map<Value, Value>& replacements) {
  for_each_use([&](Value& v) {
    if (auto found = replacements.find(v); found != replacements.end()) v = found->second;
  });
}

bool is_planned(const Graph& g) {
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).dead && !g.node(id).buffers.empty()) return true;
  return false;
}

void renumber(Graph& g, const std::vector<NodeId>& order) {
  std::vector<NodeId> new_id(g.num_nodes(), kNoNode);
  Graph out(g.name());
  for (NodeId old : order) {
    Node n = g.node(old);
    for (Value& v : n.operands) {
      if (new_id[v.node] == kNoNode) raise(n.loc, "renumber: the order puts {} before its operands", op_name(n.op));
      v.node = new_id[v.node];
    }
    new_id[old] = static_cast<NodeId>(out.num_nodes());
    out.nodes_.push_back(std::move(n));
  }
  auto remap = [&](NodeId id) {
    if (new_id[id] == kNoNode) raise(g.node(id).loc, "renumber: the order leaves out a parameter or result");
    return new_id[id];
  };
  for (NodeId id : g.inputs) out.inputs.push_back(remap(id));
  for (NodeId id : g.state) out.state.push_back(remap(id));
  for (Value v : g.outputs) out.outputs.push_back({remap(v.node), v.index});
  for (const auto& [target, value] : g.updates) out.updates.push_back({remap(target), {remap(value.node), value.index}});
  out.location_override = g.location_override;
  g = std::move(out);
}

std::vector<NodeId> topological_order(const Graph& g) {
  enum Mark : std::uint8_t { unvisited, active, done };
  std::vector<Mark> mark(g.num_nodes(), unvisited);
  std::vector<NodeId> order;
  order.reserve(g.num_nodes());
  // Iterative DFS: graphs of deep nets are deep enough to overflow a recursive one.
  std::vector<std::pair<NodeId, std::size_t>> stack;
  for (NodeId root = 0; root < g.num_nodes(); ++root) {
    if (g.node(root).dead || mark[root] != unvisited) continue;
    stack.push_back({root, 0});
    mark[root] = active;
    while (!stack.empty()) {
      auto& [id, next] = stack.back();
      const Node& n = g.node(id);
      if (next < n.operands.size()) {
        NodeId child = n.operands[next++].node;
        if (mark[child] == active)
          raise(n.loc, "graph has a cycle through {} (node {})", op_name(n.op), id);
        if (mark[child] == unvisited) {
          mark[child] = active;
          stack.push_back({child, 0});
        }
        continue;
      }
      mark[id] = done;
      order.push_back(id);
      stack.pop_back();
    }
  }
  return order;
}

std::vector<bool> needed_nodes(const Graph& g) {
  std::vector<bool> needed(g.num_nodes(), false);
  std::vector<NodeId> work;
  auto want = [&](NodeId id) {
    if (!needed[id]) {
      needed[id] = true;
      work.push_back(id);
    }
  };
  for (NodeId id : g.inputs) want(id);
  for (NodeId id : g.state) want(id);
  for (Value v : g.outputs) want(v.node);
  for (const auto& [target, value] : g.updates) want(value.node);
  while (!work.empty()) {
    NodeId id = work.back();
    work.pop_back();
    for (Value operand : g.node(id).operands) want(operand.node);
  }
  return needed;
}

}  // namespace loom::ir
