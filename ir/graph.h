#pragma once
/// The SSA graph: nodes with an op kind, operands, attributes, typed results, a name and the user's source line.
/// One Graph is one function: its parameters (inputs, state), outputs and state updates.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loom/ir/attributes.h"
#include "loom/ir/buffer.h"
#include "loom/ir/dtype.h"
#include "loom/ir/error.h"
#include "loom/ir/op_table.h"

namespace loom::ir {

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = ~NodeId{0};

/// One result of one node.
struct Value {
  NodeId node = kNoNode;
  std::uint32_t index = 0;

  bool valid() const { return node != kNoNode; }
  bool operator==(const Value&) const = default;
  auto operator<=>(const Value&) const = default;
};

class Graph;
struct KernelShape;

struct Node {
  OpKind op;
  std::vector<Value> operands;
  Attrs attrs;
  std::vector<TensorType> results;
  std::string name;
  SourceLoc loc;
  bool dead = false;
  /// The nested function of a `fused` node (its kernel body); immutable once built, so copies share it.
  std::shared_ptr<const Graph> body;
  /// What the kernel computes and where (ir/kernel_shape.h), set together with `body`.
  std::shared_ptr<const KernelShape> kernel;
  /// One buffer per result once plan-memory has run (empty before).
  std::vector<Buffer> buffers;
  /// Created by the autodiff pass (kept through rewrites and fusion): memory reports call such values gradients.
  /// Not part of the text format.
  bool from_autodiff = false;

  const OpInfo& info() const { return op_info(op); }
};

class Graph {
 public:
  explicit Graph(std::string name = "main") : name_(std::move(name)) {}
  virtual ~Graph() = default;
  Graph(const Graph&) = default;
  Graph& operator=(const Graph&) = default;

  /// Appends a node after inferring and checking its result types; throws Error naming the op, its operand
  /// types and `loc` when the operands do not fit.
  NodeId add_node(OpKind op, std::vector<Value> operands, Attrs attrs, const SourceLoc& loc, std::string name = "");
  /// Appends a node whose result types are already known (the parser and graph cloning use this).
  NodeId add_typed_node(OpKind op, std::vector<Value> operands, Attrs attrs, std::vector<TensorType> results,
                        const SourceLoc& loc, std::string name = "");

  Node& node(NodeId id) { return nodes_.at(id); }
  const Node& node(NodeId id) const { return nodes_.at(id); }
  const Node& node(Value v) const { return nodes_.at(v.node); }
  const TensorType& type(Value v) const { return nodes_.at(v.node).results.at(v.index); }
  std::size_t num_nodes() const { return nodes_.size(); }

  /// Calls `fn` on every use of a value (node operands, outputs, update values); `fn` may change the use.
  void for_each_use(const std::function<void(Value&)>& fn);
  /// Replaces every use of `from` (by nodes, outputs and updates) with `to`.
  void replace_all_uses(Value from, Value to);
  /// Replaces every use of each key with its value, in one pass over the graph (a pass that replaces many values
  /// calls this once rather than replace_all_uses per value, which would be quadratic).
  void replace_all_uses(const std::map<Value, Value>& replacements);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  /// Function signature: `input` nodes in call order, `state` nodes, outputs, and (state node, new value) updates.
  std::vector<NodeId> inputs;
  std::vector<NodeId> state;
  std::vector<Value> outputs;
  std::vector<std::pair<NodeId, Value>> updates;

  /// While set, new nodes take this location instead of the one they are given: passes that expand a node
  /// (autodiff) make the expansion point at the user's line rather than at the pass's own source.
  std::optional<SourceLoc> location_override;

 private:
  friend void renumber(Graph& g, const std::vector<NodeId>& order);
  std::string name_;
  std::vector<Node> nodes_;
};

/// Sets Graph::location_override for one scope. By default the outermost scope wins, so a composite op called
/// from a gradient rule keeps pointing at the line the rule is expanding; `replace` makes this scope win.
class LocationOverride {
 public:
  enum class Mode { keep_outer, replace };
  LocationOverride(Graph& g, SourceLoc loc, Mode mode = Mode::keep_outer) : graph_(g), saved_(g.location_override) {
    if (!saved_ || mode == Mode::replace) g.location_override = std::move(loc);
  }
  ~LocationOverride() { graph_.location_override = saved_; }
  LocationOverride(const LocationOverride&) = delete;
  LocationOverride& operator=(const LocationOverride&) = delete;

 private:
  Graph& graph_;
  std::optional<SourceLoc> saved_;
};

/// Whether plan-memory has assigned buffers.
bool is_planned(const Graph& g);
/// Rebuilds `g` with its live nodes renumbered so that `order` (a topological order of every live node,
/// parameters included) is the id order, which is the order the printer and the backends use. Dead nodes go.
void renumber(Graph& g, const std::vector<NodeId>& order);

/// Live nodes in an order where every node follows its operands; when ids are already such an order, it is the
/// id order. Throws Error on a cycle.
std::vector<NodeId> topological_order(const Graph& g);
/// Live nodes that outputs or updates need (inputs and state are always kept).
std::vector<bool> needed_nodes(const Graph& g);

}  // namespace loom::ir
