#include "loom/ir/kernel_shape.h"

#include "loom/ir/attribute_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "loom/ir/type_inference.h"

namespace loom::ir {

std::string_view to_string(KernelKind kind) {
  switch (kind) {
    case KernelKind::loop:
      return "loop";
    case KernelKind::reduce:
      return "reduce";
    case KernelKind::row:
      return "row";
    case KernelKind::matmul:
      return "matmul";
    case KernelKind::conv:
      return "conv";
  }
  return "loop";
}

bool is_matmul_activation(OpKind op) {
  return op == OpKind::relu || op == OpKind::leaky_relu || op == OpKind::tanh || op == OpKind::sigmoid ||
         op == OpKind::elu;
}

std::optional<Placement> placement_in(const KernelShape& k, const Node& n) {
  if (n.results[0].shape == k.space) return Placement::element;
  if (k.kind == KernelKind::reduce && n.info().category == OpCategory::Elementwise &&
      num_elements(n.results[0].shape) == k.rows)
    return Placement::row;
  return std::nullopt;
}

namespace {

bool is_loop_op(const Node& n) {
  return n.info().category == OpCategory::Elementwise || n.info().category == OpCategory::Layout;
}

using Analysis = std::variant<KernelShape, std::string>;

std::string named(const Graph& g, NodeId id) { return fmt::format("{} (node {})", op_name(g.node(id).op), id); }

/// matmul, add of a bias along the last dimension, optionally an activation oneDNN applies as a post-op; or conv2d,
/// add of a bias per output channel ([O, 1, 1] or [1, O, 1, 1]), optionally such an activation.
Analysis analyze_matmul(const Graph& g, std::span<const NodeId> members, std::span<const Value> results) {
  KernelShape k;
  const Node& m = g.node(members[0]);
  bool conv = m.op == OpKind::conv2d;
  k.kind = conv ? KernelKind::conv : KernelKind::matmul;
  auto is_constant = [&](Value v) { return g.node(v).op == OpKind::constant; };
  if ((m.op != OpKind::matmul && !conv) || m.results[0].dtype != DType::f32 || m.results[0].rank() < 2)
    return fmt::format("a matmul kernel starts with an f32 matmul of rank 2 or more (or a conv kernel with an f32 conv2d), "
                       "not {}", named(g, members[0]));
  if (is_constant(m.operands[0]) || is_constant(m.operands[1]))
    return std::string("a matmul kernel's operands are not constants");
  if (g.type(m.operands[0]).size() == 0 || g.type(m.operands[1]).size() == 0)
    return std::string("oneDNN runs no matmul with an empty operand");
  if (members.size() < 2 || members.size() > 3)
    return std::string("a matmul kernel is a matmul, a bias add and at most one activation");
  const Node& add = g.node(members[1]);
  if (add.op != OpKind::add || (add.operands[0].node != members[0]) == (add.operands[1].node != members[0]))
    return fmt::format("{} does not add a bias to the matmul", named(g, members[1]));
  Value bias = add.operands[0].node == members[0] ? add.operands[1] : add.operands[0];
  const Shape& bias_shape = g.type(bias).shape;
  if (conv) {
    std::int64_t channels = m.results[0].shape[1];
    if (is_constant(bias) || (bias_shape != Shape{channels, 1, 1} && bias_shape != Shape{1, channels, 1, 1}) ||
        add.results[0] != m.results[0])
      return fmt::format("the bias {} is not one value per output channel of the convolution ([{}, 1, 1])", g.type(bias).str(), channels);
  } else {
    std::int64_t n = m.results[0].shape.back();
    if (is_constant(bias) || bias_shape.empty() || bias_shape.back() != n || num_elements(bias_shape) != n ||
        bias_shape.size() > m.results[0].shape.size() || add.results[0] != m.results[0])
      return fmt::format("the bias {} is not a vector along the matmul's last dimension {}", g.type(bias).str(), n);
  }
  k.matmul = {members[0], m.operands[0], m.operands[1], bias, std::nullopt, 0.0};
  if (members.size() == 3) {
    const Node& act = g.node(members[2]);
    if (!is_matmul_activation(act.op) || act.operands[0].node != members[1])
      return fmt::format("{} is not an activation of the biased matmul that oneDNN applies", named(g, members[2]));
    k.matmul.activation = act.op;
    // oneDNN's relu takes the negative slope as alpha (0 for relu); elu takes its alpha.
    k.matmul.alpha = act.op == OpKind::leaky_relu ? float_attr(act.op, act.attrs, "alpha")
                     : act.op == OpKind::elu      ? float_attr(act.op, act.attrs, "alpha")
                                                  : 0.0;
  }
  if (results.size() != 1 || results[0].node != members.back())
    return std::string("a matmul kernel returns its last op only");
  k.space = m.results[0].shape;
  k.rows = 1;
  k.placements = {Placement::element};
  return k;
}

/// Whether one loop can visit the space's axes [first, space.size()) as a single axis when it computes `nodes` of
/// `g` at each element: the index (0, ..., 0, j), j below the axes' product, addresses what the full index does in
/// every row-major buffer whose dimensions over those axes are all the space's or all 1, when none of the axes has
/// size 1 (a broadcast reads index 0 there, whatever it is given). So each node must be a parameter, a constant, an
/// elementwise op, a reshape or a broadcast (ops that flatten and unflatten row-major indices, or read their
/// operands at their own index), and it and its operands such a buffer; a reshape's operands need not be: it
/// unflattens its own index anew.
bool one_loop_over_tail(const Graph& g, std::span<const NodeId> nodes, const Shape& space, std::size_t first) {
  for (std::size_t axis = first; axis < space.size(); ++axis)
    if (space[axis] <= 1) return false;
  auto fits = [&](const Shape& dims) {
    if (dims.size() > space.size()) return false;
    std::size_t offset = space.size() - dims.size();
    bool all_full = true, all_one = true;
    for (std::size_t axis = first; axis < space.size(); ++axis) {
      std::int64_t dim = axis < offset ? 1 : dims[axis - offset];
      all_full = all_full && dim == space[axis];
      all_one = all_one && dim == 1;
    }
    return all_full || all_one;
  };
  for (NodeId id : nodes) {
    const Node& n = g.node(id);
    OpCategory category = n.info().category;
    bool indexable = category == OpCategory::Param || category == OpCategory::Constant ||
                     category == OpCategory::Elementwise || n.op == OpKind::reshape || n.op == OpKind::broadcast_to;
    if (!indexable || !fits(n.results[0].shape)) return false;
    if (n.op != OpKind::reshape)
      for (Value v : n.operands)
        if (!fits(g.type(v).shape)) return false;
  }
  return true;
}

/// The roots, kind, space and rows of a loop, reduce or row kernel.
std::optional<std::string> organize(const Graph& g, std::span<const NodeId> members, std::span<const Value> results,
                                    KernelShape& k) {
  for (NodeId id : members)
    if (g.node(id).info().is_row_op()) k.roots.push_back(id);
  if (k.roots.empty()) {
    k.kind = KernelKind::loop;
    k.space = g.type(results[0]).shape;
    k.tail = k.space.empty() ? 0 : k.space.size() - 1;
    while (k.tail > 0 && one_loop_over_tail(g, members, k.space, k.tail - 1)) --k.tail;
    std::int64_t outer = 1, inner = 1;
    for (std::size_t d = 0; d < k.space.size(); ++d) (d < k.tail ? outer : inner) *= k.space[d];
    k.rows = outer * ((inner + kLoopBlock - 1) / kLoopBlock);
    return std::nullopt;
  }
  const Node& first = g.node(k.roots[0]);
  k.space = g.type(first.operands[0]).shape;
  std::vector<std::int64_t> along;
  if (first.info().category == OpCategory::Reduction) {
    k.kind = KernelKind::reduce;
    along = reduced_axes(g, first);
    for (NodeId r : k.roots) {
      const Node& n = g.node(r);
      if (r == k.roots[0]) continue;
      if (n.info().category != OpCategory::Reduction || n.op == OpKind::logsumexp || first.op == OpKind::logsumexp)
        return fmt::format(
            "{} cannot share a pass with {}: only reductions other than logsumexp (which makes two "
            "passes) share one",
            named(g, r), named(g, k.roots[0]));
      if (g.type(n.operands[0]).shape != k.space || reduced_axes(g, n) != along)
        return fmt::format("{} reduces other elements than {}", named(g, r), named(g, k.roots[0]));
    }
  } else {
    k.kind = KernelKind::row;
    if (k.roots.size() > 1)
      return fmt::format("{} and {} are row ops; a row kernel has one", named(g, k.roots[0]), named(g, k.roots[1]));
    along = {first.op == OpKind::softmax_cross_entropy ? static_cast<std::int64_t>(k.space.size()) - 1
                                                       : first.attrs.get_int("axis")};
  }
  k.split = split_rows(k.space, along);
  k.rows = k.split.rows;
  return std::nullopt;
}

/// Which members are computed from a root's result (once per row, after the pass); every epilogue node is
/// elementwise with one element per row.
std::optional<std::string> find_epilogue(const Graph& g, std::span<const NodeId> members, KernelShape& k) {
  auto is_root = [&](NodeId id) { return std::find(k.roots.begin(), k.roots.end(), id) != k.roots.end(); };
  for (NodeId id : members) {
    const Node& n = g.node(id);
    bool from_root = false;
    for (Value v : n.operands) from_root = from_root || is_root(v.node) || k.epilogue.count(v.node);
    if (!from_root) continue;
    if (is_root(id)) return fmt::format("{} reads another row op's result, which needs a second pass", named(g, id));
    if (k.kind == KernelKind::row)
      return fmt::format("{} reads the result of {}, which a row kernel returns as it is", named(g, id),
                         named(g, k.roots[0]));
    // A reshape keeps every element at its row-major position, so at row r it reads row r: the emitter's
    // per-row values (a root's result is the current row's) stay right. Other layout ops move elements.
    bool per_row_op = n.info().category == OpCategory::Elementwise || n.op == OpKind::reshape;
    if (!per_row_op || num_elements(n.results[0].shape) != k.rows)
      return fmt::format(
          "{} reads a reduction's result, so it is computed once per row: it must be elementwise (or a reshape) "
          "with one element per row ({}), not {}",
          named(g, id), k.rows, n.results[0].str());
    k.epilogue.insert(id);
  }
  return std::nullopt;
}

/// The parameters a loop kernel reads only at the element it stores: every path from them to a result goes
/// through elementwise ops of their shape, which is the space (no broadcast, layout op or reduction between).
void find_read_at_store_index(const Graph& g, std::span<const NodeId> members, KernelShape& k) {
  if (k.kind != KernelKind::loop) return;
  // Positions instead of ordered maps: fuse asks this of every kernel it grows.
  std::unordered_map<NodeId, std::size_t> position;
  for (std::size_t i = 0; i < members.size(); ++i) position.emplace(members[i], i);
  std::vector<std::vector<std::size_t>> member_users(members.size());  // members have one result each
  std::map<Value, std::vector<std::size_t>> outside_users;
  for (std::size_t i = 0; i < members.size(); ++i)
    for (Value v : g.node(members[i]).operands) {
      auto found = position.find(v.node);
      (found != position.end() ? member_users[found->second] : outside_users[v]).push_back(i);
    }
  std::vector<bool> at_store(members.size(), false);  // members read (and stored) only at the store index
  // A value is read there when every user is; a loop kernel stores each result at the store index (its shape is
  // the space).
  auto read_there = [&](Value v, const std::vector<std::size_t>& users) {
    const Shape& shape = g.type(v).shape;
    for (std::size_t u : users) {
      const Node& user = g.node(members[u]);
      if (user.info().category != OpCategory::Elementwise || user.results[0].shape != shape || !at_store[u]) return false;
    }
    return shape == k.space;
  };
  for (std::size_t i = members.size(); i-- > 0;) at_store[i] = read_there(Value{members[i], 0}, member_users[i]);
  for (const auto& [v, users] : outside_users)
    if (read_there(v, users)) k.read_at_store_index.insert(v);
}

}  // namespace

Analysis analyze_kernel(const Graph& g, std::span<const NodeId> members, std::span<const Value> results) {
  if (members.empty() || results.empty()) return std::string("a kernel computes at least one result");
  std::set<NodeId> member_set(members.begin(), members.end());
  for (NodeId id : members)
    if (g.node(id).results.size() != 1) return fmt::format("{} has several results", named(g, id));
  for (Value v : results)
    if (!member_set.count(v.node)) return fmt::format("result {} is not computed by the kernel", named(g, v.node));
  if (std::any_of(members.begin(), members.end(), [&](NodeId id) {
        return g.node(id).info().category == OpCategory::Contraction || g.node(id).op == OpKind::conv2d;
      }))
    return analyze_matmul(g, members, results);
  for (NodeId id : members)
    if (!is_loop_op(g.node(id)) && !g.node(id).info().is_row_op())
      return fmt::format("{} cannot be part of a loop, reduce or row kernel", named(g, id));

  KernelShape k;
  if (auto why = organize(g, members, results, k)) return *why;
  if (auto why = find_epilogue(g, members, k)) return *why;
  for (Value v : results) {
    const Node& n = g.node(v);
    bool root = std::find(k.roots.begin(), k.roots.end(), v.node) != k.roots.end();
    std::optional<Placement> placement = root || k.epilogue.count(v.node) ? Placement::row : placement_in(k, n);
    if (!placement)
      return fmt::format("{} is a result of type {}, but the kernel stores results at each element of {}{}",
                         named(g, v.node), n.results[0].str(), loom::to_string(k.space),
                         k.kind == KernelKind::reduce ? fmt::format(" or once per row ({} rows)", k.rows) : "");
    k.placements.push_back(*placement);
  }
  find_read_at_store_index(g, members, k);
  k.may_raise = std::any_of(members.begin(), members.end(),
                            [&](NodeId id) { return g.node(id).op == OpKind::softmax_cross_entropy; });
  return k;
}

KernelShape describe_kernel(const Graph& body) {
  std::vector<NodeId> members;
  for (NodeId id : topological_order(body)) {
    OpCategory category = body.node(id).info().category;
    if (category != OpCategory::Param && category != OpCategory::Constant) members.push_back(id);
  }
  Analysis analysis = analyze_kernel(body, members, body.outputs);
  if (auto* why = std::get_if<std::string>(&analysis)) {
    SourceLoc loc = body.outputs.empty() ? SourceLoc{} : body.node(body.outputs[0]).loc;
    raise(loc, "kernel {} is not one kernel: {}", body.name(), *why);
  }
  return std::get<KernelShape>(analysis);
}

void attach_body(Node& n, std::shared_ptr<const Graph> body) {
  auto kernel = std::make_shared<const KernelShape>(describe_kernel(*body));
  n.attrs.set("kind", std::string(to_string(kernel->kind)));
  n.body = std::move(body);
  n.kernel = std::move(kernel);
}

bool may_overwrite(const Graph& g, NodeId id, std::uint32_t result, std::size_t operand) {
  const Node& n = g.node(id);
  const TensorType &in = g.type(n.operands.at(operand)), &out = n.results.at(result);
  if (in.shape != out.shape || size_of(in.dtype) != size_of(out.dtype)) return false;
  if (n.op == OpKind::fused) {
    if (!n.kernel) return false;
    return n.kernel->kind == KernelKind::loop &&
           n.kernel->read_at_store_index.count(Value{n.body->inputs.at(operand), 0}) > 0;
  }
  if (n.info().category != OpCategory::Elementwise) return false;
  NodeId members[] = {id};
  Value results[] = {Value{id, 0}};
  Analysis analysis = analyze_kernel(g, members, results);
  const auto* k = std::get_if<KernelShape>(&analysis);
  return k && k->read_at_store_index.count(n.operands[operand]) > 0;
}

std::size_t merged_reduced_tail(const Graph& body, const KernelShape& shape) {
  const std::vector<std::size_t>& along = shape.split.along;
  const Shape& space = shape.space;
  std::size_t start = along.size();
  while (start > 0 && along[start - 1] == space.size() - (along.size() - start + 1)) --start;
  // The values computed per element: what the roots reduce and the results stored at each element, with their
  // operands (a value with one element per row is computed once per row, by its own index).
  std::vector<bool> per_element(body.num_nodes(), false);
  std::vector<NodeId> work;
  for (NodeId root : shape.roots) work.push_back(body.node(root).operands[0].node);
  for (std::size_t r = 0; r < body.outputs.size(); ++r)
    if (shape.placements[r] == Placement::element) work.push_back(body.outputs[r].node);
  std::vector<NodeId> nodes;
  while (!work.empty()) {
    NodeId id = work.back();
    work.pop_back();
    if (per_element[id] || shape.epilogue.count(id) || std::count(shape.roots.begin(), shape.roots.end(), id)) continue;
    per_element[id] = true;
    nodes.push_back(id);
    if (body.node(id).op == OpKind::reshape) continue;  // what lies behind it does not matter (one_loop_over_tail)
    for (Value v : body.node(id).operands) work.push_back(v.node);
  }
  for (; start + 1 < along.size(); ++start)
    if (one_loop_over_tail(body, nodes, space, along[start])) return start;
  return along.size();
}

bool may_raise(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  if (n.op == OpKind::fused) return n.kernel && n.kernel->may_raise;
  return n.op == OpKind::softmax_cross_entropy;
}

}  // namespace loom::ir
