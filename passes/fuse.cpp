/// fuse: groups ops into kernels, so each group is one pass over memory instead of one pass per op.
///
/// A group grows from a root (an elementwise or layout op, a reduction, a row-wise normalization or loss) backwards
/// into its producers: an elementwise or layout producer joins when every one of its users is in the
/// group, or when its other users cannot reach the group (it then becomes an extra output: a multi-output kernel,
/// e.g. a forward activation and the value its gradient needs). Both conditions keep groups convex: no path leaves
/// a group and comes back. Constants are copied into each kernel that reads them.
///
/// What one kernel can compute is not decided here: ir::analyze_kernel (ir/kernel_shape.h) says whether a group
/// is one kernel, and where it stores each result; fuse decides which legal groups to form (growing from roots,
/// keeping groups convex, merging where a pass over memory is saved). Every refusal is recorded on the refused
/// node as `unfused = "<reason>"`, so dumps say why; `fuse = "never"` on a node (Expr::no_fuse()) keeps it out of
/// every group. Each group becomes one `fused` node whose body is a nested function and whose kernel shape
/// (ir::attach_body) gives its `kind`: "loop" (elementwise), "reduce" (reductions sharing a pass), "row"
/// (softmax-like), "matmul" or "conv" (a oneDNN matmul or convolution with its bias and activation).
///
/// Two bounds keep fuse and the code generator near-linear on deep graphs (a chain of 16,000 ops with its
/// gradient): a kernel holds at most kMaxKernelOps ops, and all of a kernel's ops lie in one window of kWindow
/// consecutive positions of the program order. Edges only go forward in that order and a kernel never spans two
/// windows, so no path leaves a window and comes back: a search for a path that would close a cycle stays inside
/// the kernel's window, and the merge phase pairs only kernels of one window.

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "loom/ir/kernel_shape.h"
#include "loom/ir/type_inference.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

using ir::NodeId;
using ir::OpCategory;
using ir::OpKind;
using ir::Value;

/// Ops a kernel computes element by element: elementwise math and every layout op (an index computation).
bool is_loop_op(const ir::Node& n) {
  return n.info().category == OpCategory::Elementwise || n.info().category == OpCategory::Layout;
}

bool can_root(const ir::Node& n) {
  return (is_loop_op(n) || n.info().is_row_op()) && n.results.size() == 1;
}

/// Random ops (dropout's mask) are recomputed in every kernel that reads them, from the step counter, rather than
/// stored: the backward kernel regenerates the forward mask.
bool is_random(const ir::Node& n) { return n.info().has(ir::trait::Random); }


/// The length of a window of the program order (see the top of the file). Graphs of fewer ops are one window.
constexpr std::size_t kWindow = 2048;

class Fusion {
 public:
  explicit Fusion(ir::Graph& g) : g_(g), group_of_(g.num_nodes(), -1), users_(g.num_nodes()), node_seen_(g.num_nodes(), 0) {
    std::vector<bool> needed = ir::needed_nodes(g);
    for (NodeId id : ir::topological_order(g))
      if (needed[id]) order_.push_back(id);
    position_.assign(g.num_nodes(), 0);
    for (std::size_t i = 0; i < order_.size(); ++i) position_[order_[i]] = i;
    for (NodeId id : order_)
      for (Value v : g.node(id).operands) users_[v.node].push_back(id);
    for (Value v : g.outputs) escapes_.insert(v.node);
    for (const auto& update : g.updates) escapes_.insert(update.second.node);
  }

  bool run() {
    group_matmul_epilogues();
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      NodeId id = *it;
      const ir::Node& n = g_.node(id);
      if (is_matmul_group(group_of_[id])) continue;  // complete already
      if (group_of_[id] < 0) {
        if (!can_root(n) || (is_random(n) && !computed_alone(id))) continue;
        new_group({id});
        shapes_.push_back(std::get<ir::KernelShape>(analyze({id})));
        if (never(n)) continue;  // a kernel of its own, alone
      }
      for (Value v : g_.node(id).operands) consider(v.node, group_of_[id]);
    }
    merge_groups();
    // A refusal stands unless the merge phase put the node in that kernel after all.
    for (const auto& [id, refusal] : refusals_)
      if (group_of_[id] < 0 || group_of_[id] != group_of_[refusal.first]) g_.node(id).attrs.set("unfused", refusal.second);
    std::erase_if(groups_, [](const std::vector<NodeId>& members) { return members.empty(); });
    if (groups_.empty()) return false;
    for (std::size_t k = 0; k < groups_.size(); ++k)
      for (NodeId id : groups_[k]) group_of_[id] = static_cast<int>(k);
    build_kernels();
    return true;
  }

 private:
  static bool never(const ir::Node& n) { return n.attrs.get_string("fuse") == "never"; }

  /// The only user of `id`, if it has exactly one and its value is not a function result.
  std::optional<NodeId> only_user(NodeId id) const {
    if (users_[id].size() != 1 || escapes_.count(id)) return std::nullopt;
    return users_[id][0];
  }

  /// An f32 matmul followed by a bias add (a vector along the last dimension) and optionally an activation that
  /// oneDNN applies as a post-op becomes a "matmul" kernel, and a conv2d with a bias per output channel and such an
  /// activation a "conv" kernel: oneDNN computes each in one primitive (the epilogue never makes a pass of its
  /// own). Formed first, so no other kernel takes these nodes.
  void group_matmul_epilogues() {
    for (NodeId id : order_) {
      if ((g_.node(id).op != OpKind::matmul && g_.node(id).op != OpKind::conv2d) || never(g_.node(id))) continue;
      auto add = only_user(id);
      if (!add || g_.node(*add).op != OpKind::add || never(g_.node(*add)) || group_of_[*add] >= 0) continue;
      std::vector<NodeId> members{id, *add};
      if (auto act = only_user(*add); act && ir::is_matmul_activation(g_.node(*act).op) && !never(g_.node(*act)) && group_of_[*act] < 0)
        members.push_back(*act);
      std::erase_if(members, [&](NodeId m) { return window(m) != window(id); });
      if (members.size() < 2) continue;
      auto shape = analyze(members);
      if (!std::holds_alternative<ir::KernelShape>(shape) && members.size() == 3) {  // try without the activation
        members.pop_back();
        shape = analyze(members);
      }
      if (!std::holds_alternative<ir::KernelShape>(shape)) continue;
      matmul_groups_.insert(new_group(members));
      shapes_.push_back(std::get<ir::KernelShape>(shape));
    }
  }

  /// ir::analyze_kernel of `members` (any order) as one kernel, whose results are the members read outside it.
  std::variant<ir::KernelShape, std::string> analyze(std::vector<NodeId> members) const {
    std::sort(members.begin(), members.end(), [&](NodeId a, NodeId b) { return position_[a] < position_[b]; });
    std::set<NodeId> inside(members.begin(), members.end());
    std::vector<Value> results;
    for (NodeId id : members) {
      bool outside = escapes_.count(id) > 0;
      for (NodeId u : users_[id]) outside = outside || !inside.count(u);
      if (outside) results.push_back({id, 0});
    }
    return ir::analyze_kernel(g_, members, results);
  }

  bool is_matmul_group(int group) const { return group >= 0 && matmul_groups_.count(group) > 0; }

  /// Whether a random op needs a kernel of its own: a reader that is not a loop, reduce or row kernel (a matmul,
  /// an output) reads its values from memory. Its users precede it in the reverse order, so their groups are known.
  bool computed_alone(NodeId id) const {
    if (escapes_.count(id)) return true;
    for (NodeId u : users_[id])
      if (group_of_[u] < 0 || is_matmul_group(group_of_[u])) return true;
    return false;
  }

  /// Second phase: merges whole groups where one pass over memory then does the work of two: a reduction with
  /// another over the same elements, with a loop group over its elements (extra outputs), or with a loop group
  /// computed from its results (the per-row epilogue); loop groups of one shape with each other. Row kernels
  /// (softmax-like) and matmul kernels stay as they are. Whether the merged group is one kernel is
  /// ir::analyze_kernel's decision; that no path leaves it and comes back (convexity) is fuse's.
  ///
  /// A pair that cannot merge stays unmergeable while other groups merge (its kernel shape depends on its own
  /// members, and merging only adds paths between groups), so a sweep tries only the pairs with a group that
  /// changed since the previous sweep: each pair is tried once per change of one of its groups, not once per merge.
  /// Only groups of one window pair up.
  void merge_groups() {
    std::map<std::size_t, std::vector<std::size_t>> by_window;
    for (std::size_t k = 0; k < groups_.size(); ++k) by_window[group_window(static_cast<int>(k))].push_back(k);
    for (const auto& [window, candidates] : by_window) merge_within(candidates);
  }

  void merge_within(const std::vector<std::size_t>& candidates) {
    std::set<std::size_t> changed(candidates.begin(), candidates.end());
    for (bool merged = true; merged;) {
      merged = false;
      std::set<std::size_t> changed_now;
      for (std::size_t i = 0; i < candidates.size(); ++i)
        for (std::size_t j = i + 1; j < candidates.size() && !groups_[candidates[i]].empty(); ++j) {
          std::size_t a = candidates[i], b = candidates[j];
          if (groups_[b].empty() || !(changed.count(a) || changed.count(b))) continue;
          auto shape = merged_shape(a, b);
          if (!shape) continue;
          for (NodeId id : groups_[b]) join(id, static_cast<int>(a));
          groups_[b].clear();
          outside_users_[b].clear();
          shapes_[a] = std::move(*shape);
          changed.insert(a);
          changed_now.insert(a);
          merged = true;
        }
      changed = std::move(changed_now);
    }
  }

  /// The shape of groups a and b as one kernel, when they may merge.
  std::optional<ir::KernelShape> merged_shape(std::size_t a, std::size_t b) {
    if (groups_[a].size() + groups_[b].size() > kMaxKernelOps) return std::nullopt;
    for (std::size_t k : {a, b}) {
      if (is_matmul_group(static_cast<int>(k)) || shapes_[k].kind == ir::KernelKind::row) return std::nullopt;
      for (NodeId id : groups_[k])
        if (never(g_.node(id))) return std::nullopt;
    }
    std::vector<NodeId> members = groups_[a];
    members.insert(members.end(), groups_[b].begin(), groups_[b].end());
    auto shape = analyze(members);
    auto* kernel = std::get_if<ir::KernelShape>(&shape);
    if (!kernel) return std::nullopt;
    // Convexity: nothing outside the merged kernel may lie on a path between two of its members.
    auto in_merged = [&](NodeId id) { return group_of_[id] == static_cast<int>(a) || group_of_[id] == static_cast<int>(b); };
    std::vector<NodeId> starts;
    for (std::size_t k : {a, b})
      for (NodeId u : outside_users_[k])
        if (!in_merged(u)) starts.push_back(u);
    if (first_reached(starts, window(members.front()), in_merged)) return std::nullopt;
    return std::move(*kernel);
  }

  void consider(NodeId p, int group) {
    const ir::Node& n = g_.node(p);
    if (group_of_[p] >= 0 || n.info().category == OpCategory::Param || n.op == OpKind::constant || is_random(n)) return;
    std::string reason = why_not(p, group);
    if (reason.empty()) {
      join(p, group);
    } else if (can_root(n) && !refusals_.count(p)) {
      NodeId root = groups_[static_cast<std::size_t>(group)].front();
      refusals_[p] = {root, fmt::format("kept out of the kernel of {} (node {}): {}", ir::op_name(g_.node(root).op), root, reason)};
    }
  }

  /// Empty when producer p may join `group`; otherwise the reason it may not (recorded when p could root a kernel).
  std::string why_not(NodeId p, int group) {
    const ir::Node& n = g_.node(p);
    if (never(n)) return "fuse = never";
    if (!is_loop_op(n)) {
      if (can_root(n))
        return fmt::format("a {} result can join its consumer's kernel only as the per-row epilogue of a kernel with "
                           "the same rows", ir::op_name(n.op));
      return "not a loop op";  // matmul: never recorded as a refusal
    }
    // A value read outside the kernel becomes one of its results, stored where the kernel can store it.
    bool escapes = escapes_.count(p) > 0;
    for (NodeId u : users_[p]) escapes = escapes || group_of_[u] != group;
    const ir::KernelShape& shape = shapes_[static_cast<std::size_t>(group)];
    if (escapes && !ir::placement_in(shape, n))
      return fmt::format("it is also used outside the kernel, and the kernel stores results at each element of {}{}, not {}",
                         loom::to_string(shape.space), shape.kind == ir::KernelKind::reduce ? fmt::format(" or once per row ({} rows)", shape.rows) : "",
                         n.results[0].str());
    if (groups_[static_cast<std::size_t>(group)].size() >= kMaxKernelOps)
      return fmt::format("the kernel has {} ops, the most one kernel takes", kMaxKernelOps);
    if (window(p) != group_window(group))
      return fmt::format("it lies in another window of {} positions of the program order (a kernel stays in one, so "
                         "that fuse stays near-linear on deep graphs)", kWindow);
    // With every group contracted to one node, p joining the group must not close a cycle: no path may lead
    // from p to the group, or from the group to p, through anything else.
    std::vector<NodeId> from_p, from_group;
    for (NodeId u : users_[p])
      if (group_of_[u] != group) from_p.push_back(u);
    for (NodeId u : outside_users_[static_cast<std::size_t>(group)])
      if (group_of_[u] != group && u != p) from_group.push_back(u);
    auto in_group = [&](NodeId id) { return group_of_[id] == group; };
    auto is_p = [&](NodeId id) { return id == p; };
    if (auto via = first_reached(from_p, window(p), in_group))
      return fmt::format("another kernel or op (node {}) uses it and feeds this kernel; fusing would form a cycle", *via);
    if (auto via = first_reached(from_group, window(p), is_p))
      return fmt::format("it depends on this kernel through node {}; fusing would form a cycle", *via);
    return "";
  }

  /// Follows users from `starts`, treating every group as one node (reaching a member reaches all members, and
  /// the search goes on from the group's outside users); returns the start node of the first path that reaches a
  /// node satisfying `target`, which lies in window `in_window`. Paths never return to a window they left, so the
  /// search stops at later windows; visits are marked with a per-search epoch, so a search costs what it visits.
  template <class Target>
  std::optional<NodeId> first_reached(const std::vector<NodeId>& starts, std::size_t in_window, Target target) {
    ++epoch_;
    for (NodeId start : starts) {
      std::vector<NodeId> work{start};
      while (!work.empty()) {
        NodeId id = work.back();
        work.pop_back();
        if (node_seen_[id] == epoch_ || window(id) != in_window) continue;
        node_seen_[id] = epoch_;
        if (target(id)) return start;
        int h = group_of_[id];
        if (h < 0) {
          for (NodeId u : users_[id]) work.push_back(u);
        } else if (group_seen_[static_cast<std::size_t>(h)] != epoch_) {
          group_seen_[static_cast<std::size_t>(h)] = epoch_;
          for (NodeId u : outside_users_[static_cast<std::size_t>(h)])
            if (group_of_[u] != h) work.push_back(u);
        }
      }
    }
    return std::nullopt;
  }

  std::size_t window(NodeId id) const { return position_[id] / kWindow; }
  std::size_t group_window(int group) const { return window(groups_[static_cast<std::size_t>(group)].front()); }

  /// Starts a group of `members`; returns its index.
  int new_group(const std::vector<NodeId>& members) {
    int group = static_cast<int>(groups_.size());
    groups_.emplace_back();
    outside_users_.emplace_back();
    group_seen_.push_back(0);
    for (NodeId id : members) join(id, group);
    return group;
  }

  /// Adds `id` to `group`, and its users to the group's outside users (a user that joins later stays listed;
  /// readers skip members).
  void join(NodeId id, int group) {
    group_of_[id] = group;
    groups_[static_cast<std::size_t>(group)].push_back(id);
    for (NodeId u : users_[id])
      if (group_of_[u] != group) outside_users_[static_cast<std::size_t>(group)].push_back(u);
  }

  void build_kernels() {
    for (auto& members : groups_)
      std::sort(members.begin(), members.end(), [&](NodeId a, NodeId b) { return position_[a] < position_[b]; });
    std::vector<std::size_t> by_position(groups_.size());
    for (std::size_t i = 0; i < groups_.size(); ++i) by_position[i] = i;
    std::sort(by_position.begin(), by_position.end(),
              [&](std::size_t a, std::size_t b) { return position_[groups_[a].back()] < position_[groups_[b].back()]; });
    std::vector<std::pair<NodeId, std::shared_ptr<ir::Graph>>> kernels;
    std::map<Value, Value> replacements;  // member values read outside their kernel -> the fused node's results
    for (std::size_t k : by_position) kernels.push_back(build_kernel(groups_[k], replacements));
    g_.replace_all_uses(replacements);
    // Names follow the order in which the kernels run (and print): k0, k1, ...
    std::map<NodeId, std::size_t> rank;
    for (NodeId id : ir::topological_order(g_)) rank.emplace(id, rank.size());
    std::sort(kernels.begin(), kernels.end(), [&](const auto& a, const auto& b) { return rank[a.first] < rank[b.first]; });
    for (std::size_t k = 0; k < kernels.size(); ++k) {
      std::string name = fmt::format("k{}", k);
      kernels[k].second->set_name(name);
      g_.node(kernels[k].first).attrs.set("kernel", name);
      ir::attach_body(g_.node(kernels[k].first), std::move(kernels[k].second));
    }
  }

  /// Replaces a group by a fused node; returns the node and its body, which build_kernels names. The uses of its
  /// results are redirected to the fused node once every kernel is built (`replacements`); until then kernels
  /// built later name the members' values, as the rest of the graph does.
  std::pair<NodeId, std::shared_ptr<ir::Graph>> build_kernel(const std::vector<NodeId>& members,
                                                             std::map<Value, Value>& replacements) {
    int group = group_of_[members[0]];
    auto body = std::make_shared<ir::Graph>();
    std::map<Value, Value> inner;
    std::vector<Value> operands;
    // The body's value for an operand from outside: a copy of a constant or of a random op (recomputed here), or
    // a parameter of the kernel.
    std::function<Value(Value)> inner_value = [&](Value v) {
      if (auto found = inner.find(v); found != inner.end()) return found->second;
      const ir::Node& producer = g_.node(v);
      Value value;
      if (producer.op == OpKind::constant) {
        value = {body->add_typed_node(OpKind::constant, {}, producer.attrs, producer.results, producer.loc), 0};
      } else if (is_random(producer) && group_of_[v.node] != group) {
        std::vector<Value> random_operands;
        for (Value o : producer.operands) random_operands.push_back(inner_value(o));
        value = {body->add_typed_node(producer.op, random_operands, producer.attrs, producer.results, producer.loc, producer.name), 0};
      } else {
        NodeId param = body->add_typed_node(OpKind::input, {}, {}, {g_.type(v)}, SourceLoc{},
                                            producer.name.empty() ? fmt::format("p{}", operands.size()) : producer.name);
        body->inputs.push_back(param);
        operands.push_back(v);
        value = {param, 0};
      }
      inner[v] = value;
      return value;
    };
    for (NodeId id : members) {
      ir::Node n = g_.node(id);  // a copy: the body grows, the outer graph does not
      for (Value& v : n.operands) v = inner_value(v);
      inner[{id, 0}] = {body->add_typed_node(n.op, n.operands, n.attrs, n.results, n.loc, n.name), 0};
      body->node(inner[{id, 0}].node).from_autodiff = n.from_autodiff;
    }
    // Results: member values read outside the kernel, in member order.
    std::vector<Value> results;
    for (NodeId id : members) {
      bool outside = escapes_.count(id) > 0;
      for (NodeId u : users_[id]) outside = outside || group_of_[u] != group;
      if (outside) {
        results.push_back({id, 0});
        body->outputs.push_back(inner[{id, 0}]);
      }
    }
    std::vector<TensorType> types;
    for (Value v : results) types.push_back(g_.type(v));
    // A kernel with one result takes that value's name, so dumps keep the user's names.
    std::string name = results.size() == 1 ? g_.node(results[0]).name : "";
    NodeId fused = g_.add_typed_node(OpKind::fused, operands, {}, types, SourceLoc(g_.node(members.back()).loc), name);
    for (std::uint32_t k = 0; k < results.size(); ++k) replacements[results[k]] = {fused, k};
    for (NodeId id : members) {
      g_.node(fused).from_autodiff = g_.node(fused).from_autodiff || g_.node(id).from_autodiff;
      g_.node(id).dead = true;
    }
    return {fused, body};
  }

  ir::Graph& g_;
  std::vector<NodeId> order_;
  std::vector<int> group_of_;
  std::vector<std::vector<NodeId>> users_;
  std::set<NodeId> escapes_;
  std::vector<std::size_t> position_;  ///< each needed node's place in order_
  std::vector<std::vector<NodeId>> groups_;
  /// Per group: users of its members outside it when they joined (members that joined since are skipped).
  std::vector<std::vector<NodeId>> outside_users_;
  /// first_reached's marks: a node or group is visited in the current search when its mark equals epoch_.
  std::vector<std::uint32_t> node_seen_, group_seen_;
  std::uint32_t epoch_ = 0;
  std::vector<ir::KernelShape> shapes_;  ///< each group's shape as one kernel
  std::map<NodeId, std::pair<NodeId, std::string>> refusals_;  ///< node -> (root of the kernel it was kept out of, why)
  std::set<int> matmul_groups_;
};

bool has_grad_nodes(const ir::Graph& g) {
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).dead && g.node(id).op == OpKind::grad) return true;
  return false;
}

}  // namespace

bool Fuse::run(ir::Graph& g, PassContext&) {
  if (has_grad_nodes(g)) throw Error("fuse: run autodiff first (the graph still has grad nodes)");
  return Fusion(g).run();
}

}  // namespace loom::passes
