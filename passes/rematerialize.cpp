/// rematerialize: a kernel that reads a value another kernel stored computes it again from that kernel's operands,
/// when the value is a few cheap elementwise ops over one operand of its own size (and operands that broadcast to
/// it: per-channel statistics, scalars). Loading the operand costs what loading the value did, and the producer no
/// longer stores the value when no one else reads it (the pass drops results nobody reads).
///
/// Why: a training step's backward kernels read many forward values. Batch norm's forward kernel stored the
/// centered, normalized, scaled and activated tensors and the moments an f64 copy of x, all for the backward
/// kernels; recomputed there from x and the statistics, the forward kernels store one tensor (the activation the
/// next layer reads). Fuse cannot make this choice: it decides which ops share a pass over memory, and a value
/// used by kernels on both sides of a convolution is computed in one of them and stored.
///
/// A candidate is kept only when the reader's new body is still one kernel (ir::describe_kernel) of at most
/// kMaxKernelOps ops, never for an op marked fuse = "never", and counted as a
/// `recompute` rewrite, so bisecting finds it.

#include <fmt/format.h>

#include <map>
#include <set>

#include "loom/ir/kernel_shape.h"
#include "loom/passes/passes.h"

namespace loom::passes {

namespace {

using ir::NodeId;
using ir::OpKind;
using ir::Value;

/// How many ops deep a recomputation may go: batch norm's center, normalize, scale, shift and ReLU are five.
constexpr int kMaxDepth = 6;

bool is_cheap(const ir::Node& n) {
  switch (n.op) {
    case OpKind::add: case OpKind::sub: case OpKind::mul: case OpKind::neg: case OpKind::cast: case OpKind::relu:
    case OpKind::maximum: case OpKind::minimum: case OpKind::where: case OpKind::square: case OpKind::abs:
    case OpKind::eq: case OpKind::ne: case OpKind::lt: case OpKind::le: case OpKind::gt: case OpKind::ge:
    case OpKind::reshape:
      return n.results.size() == 1;
    default:
      return false;
  }
}

/// The ops that compute `value` inside kernel body `body` from its parameters and constants, operands first.
class Recipe {
 public:
  Recipe(const ir::Graph& body, Value value) : body_(body), value_(value) { ok_ = visit(value.node, 0); }
  const std::vector<NodeId>& steps() const { return steps_; }

  /// Whether the recipe is at most kMaxDepth cheap ops deep, each over at most one operand of its own size, and
  /// reads one parameter of the value's size with at most its bytes per element: loading that parameter instead of
  /// the value costs no more.
  bool worth_it() const {
    if (!ok_) return false;
    for (NodeId id : steps_) {
      const TensorType& type = body_.node(id).results[0];
      if (body_.node(id).op == OpKind::input && num_elements(type.shape) == num_elements(body_.type(value_).shape))
        return size_of(type.dtype) <= size_of(body_.type(value_).dtype);
    }
    return false;
  }

 private:
  bool visit(NodeId id, int depth) {
    if (!seen_.insert(id).second) return true;
    const ir::Node& n = body_.node(id);
    if (n.op != OpKind::constant && n.op != OpKind::input) {
      if (depth >= kMaxDepth || !is_cheap(n) || n.attrs.get_string("fuse") == "never") return false;
      std::int64_t elements = num_elements(n.results[0].shape);
      int full = 0;
      for (Value v : n.operands) {
        std::int64_t operand = num_elements(body_.type(v).shape);
        if (operand > elements) return false;
        full += operand == elements && elements > 1;
      }
      if (full > 1) return false;
      for (Value v : n.operands)
        if (!visit(v.node, depth + 1)) return false;
    }
    steps_.push_back(id);
    return true;
  }

  const ir::Graph& body_;
  Value value_;
  std::set<NodeId> seen_;
  std::vector<NodeId> steps_;
  bool ok_ = false;
};

/// Kernel `reader` with its parameter `param` computed from `recipe` (in the body of `producer`, the kernel that
/// stores it) instead of read: the new body and operands, or nothing when the body would not be one kernel.
std::optional<std::pair<std::shared_ptr<ir::Graph>, std::vector<Value>>> recompute(const ir::Graph& g, const ir::Node& reader,
                                                                                  std::size_t param, const ir::Node& producer,
                                                                                  const Recipe& recipe) {
  auto body = std::make_shared<ir::Graph>(*reader.body);
  std::vector<Value> operands = reader.operands;
  const ir::Graph& source = *producer.body;
  std::map<NodeId, Value> copied;  // producer body node -> value in the new body
  for (NodeId id : recipe.steps()) {
    const ir::Node& n = source.node(id);
    if (n.op == OpKind::input) {  // the producer's operand: one of the reader's too, or a new parameter
      std::size_t k = static_cast<std::size_t>(std::find(source.inputs.begin(), source.inputs.end(), id) - source.inputs.begin());
      Value outer = producer.operands[k];
      auto existing = std::find(operands.begin(), operands.end(), outer);
      if (existing != operands.end()) {
        copied[id] = {body->inputs[static_cast<std::size_t>(existing - operands.begin())], 0};
      } else {
        NodeId p = body->add_typed_node(OpKind::input, {}, {}, {g.type(outer)}, SourceLoc{}, n.name);
        body->inputs.push_back(p);
        operands.push_back(outer);
        copied[id] = {p, 0};
      }
      continue;
    }
    std::vector<Value> inner;
    for (Value v : n.operands) inner.push_back(copied.at(v.node));
    ir::Attrs attrs;  // without fuse's note on why the op was kept out of this kernel: it is in it now
    for (const auto& [name, value] : n.attrs.items())
      if (name != "unfused") attrs.set(name, value);
    copied[id] = {body->add_typed_node(n.op, inner, attrs, n.results, n.loc, n.name), 0};
  }
  NodeId old_param = body->inputs[param];
  body->replace_all_uses({old_param, 0}, copied.at(recipe.steps().back()));
  body->node(old_param).dead = true;
  body->inputs.erase(body->inputs.begin() + static_cast<std::ptrdiff_t>(param));
  operands.erase(operands.begin() + static_cast<std::ptrdiff_t>(param));
  ir::renumber(*body, ir::topological_order(*body));
  std::size_t ops = 0;
  for (NodeId id = 0; id < body->num_nodes(); ++id)
    ops += body->node(id).info().category != ir::OpCategory::Param && body->node(id).op != OpKind::constant;
  if (ops > kMaxKernelOps) return std::nullopt;
  try {
    ir::describe_kernel(*body);
  } catch (const Error&) {
    return std::nullopt;  // e.g. the value has another shape than the reader's space and no place in its loops
  }
  return std::pair{body, operands};
}

bool is_plain_kernel(const ir::Node& n) {
  return !n.dead && n.op == OpKind::fused && n.kernel && !ir::is_onednn_kernel(n.kernel->kind);
}

/// Removes the results of fused nodes that nothing reads any more, and the body ops only they needed.
void drop_unread_results(ir::Graph& g) {
  std::set<Value> read(g.outputs.begin(), g.outputs.end());  // by live nodes (fuse's dead members still name them)
  for (const auto& update : g.updates) read.insert(update.second);
  for (NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).dead) read.insert(g.node(id).operands.begin(), g.node(id).operands.end());
  for (NodeId id = 0; id < g.num_nodes(); ++id) {
    ir::Node& n = g.node(id);
    if (!is_plain_kernel(n) || n.results.size() < 2) continue;
    std::vector<std::uint32_t> kept;
    for (std::uint32_t r = 0; r < n.results.size(); ++r)
      if (read.count({id, r})) kept.push_back(r);
    if (kept.empty() || kept.size() == n.results.size()) continue;  // an unread kernel is dce's
    auto body = std::make_shared<ir::Graph>(*n.body);
    std::vector<Value> outputs;
    std::vector<TensorType> results;
    std::map<Value, Value> renamed;
    for (std::uint32_t r : kept) {
      renamed[{id, r}] = {id, static_cast<std::uint32_t>(outputs.size())};
      outputs.push_back(body->outputs[r]);
      results.push_back(n.results[r]);
    }
    body->outputs = outputs;
    std::vector<bool> needed = ir::needed_nodes(*body);
    for (NodeId b = 0; b < body->num_nodes(); ++b)
      if (!needed[b]) body->node(b).dead = true;
    ir::renumber(*body, ir::topological_order(*body));
    g.replace_all_uses(renamed);
    ir::Node& kernel = g.node(id);
    kernel.results = results;
    ir::attach_body(kernel, std::move(body));
  }
}

}  // namespace

bool Rematerialize::run(ir::Graph& g, PassContext& ctx) {
  bool changed = false;
  for (NodeId id : ir::topological_order(g)) {
    if (!is_plain_kernel(g.node(id))) continue;
    for (std::size_t param = 0; param < g.node(id).operands.size();) {
      const ir::Node& reader = g.node(id);
      Value v = reader.operands[param];
      const ir::Node& producer = g.node(v);
      std::optional<std::pair<std::shared_ptr<ir::Graph>, std::vector<Value>>> rebuilt;
      if (is_plain_kernel(producer)) {
        Recipe recipe(*producer.body, producer.body->outputs[v.index]);
        if (recipe.worth_it()) rebuilt = recompute(g, reader, param, producer, recipe);
      }
      if (!rebuilt) {
        ++param;
        continue;
      }
      std::string where = fmt::format("%{} in kernel {}", v.node, reader.attrs.get_string("kernel"));
      if (!ctx.grant_rewrite("recompute", where)) return changed;
      ir::Node& kernel = g.node(id);
      kernel.operands = std::move(rebuilt->second);
      ir::attach_body(kernel, std::move(rebuilt->first));
      changed = true;  // the next operand is now at `param`
    }
  }
  if (changed) drop_unread_results(g);
  return changed;
}

}  // namespace loom::passes
