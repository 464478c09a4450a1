/// canonicalize: constant folding, algebraic identities and layout folding, so later passes and fusion see one
/// form of each computation.
/// Never x·0 → 0 or x−x → 0: they are wrong for NaN and Inf under IEEE semantics.

#include "loom/passes/passes.h"

#include <cmath>
#include <numeric>

#include "loom/ir/scalar_semantics.h"
#include "loom/ir/type_inference.h"
#include "loom/passes/rewrite.h"

namespace loom::passes {

namespace {

using ir::OpKind;
using P = Pattern;
enum Slot { X, Y };

/// A new node built from parts of a match, recorded at the root's line.
Expr rebuild(const Match& m, OpKind op, std::vector<ir::Value> operands, ir::Attrs attrs) {
  SourceLoc loc = m.root_node().loc;  // a copy: add_node may move the node storage
  return Expr(m.graph, ir::Value{m.graph->add_node(op, std::move(operands), std::move(attrs), loc), 0});
}

/// The value a tensor of `dtype` holds after storing `v` (as Array::set would).
double representable(double v, DType dtype) {
  switch (dtype) {
    case DType::f32: return static_cast<float>(v);
    case DType::i32: return static_cast<double>(static_cast<std::int32_t>(v));
    case DType::i64: return static_cast<double>(static_cast<std::int64_t>(v));
    case DType::b8: return v != 0.0 ? 1.0 : 0.0;
    case DType::f64: return v;
  }
  return v;
}

/// Folds an op whose operands are all constants into a constant, computing as the interpreter would.
Expr fold_constants(const Match& m) {
  const ir::Node& n = m.root_node();
  if (n.operands.empty() || n.results.size() != 1) return Expr();
  std::vector<double> values;
  std::vector<DType> dtypes;
  for (ir::Value v : n.operands) {
    double c = 0;
    if (!constant_value(*m.graph, v, &c)) return Expr();
    values.push_back(c);
    dtypes.push_back(m.graph->type(v).dtype);
  }
  const TensorType& type = n.results[0];
  double result = 0;
  switch (n.info().category) {
    case ir::OpCategory::Elementwise:
      if (ir::computes_in_f32(type.dtype, dtypes)) {
        ir::PlainMath<float> math;
        std::vector<float> args(values.begin(), values.end());
        result = ir::elementwise(n.op, n.attrs, math, std::span<const float>(args));
      } else {
        ir::PlainMath<double> math;
        result = ir::elementwise(n.op, n.attrs, math, std::span<const double>(values));
      }
      break;
    case ir::OpCategory::Layout:
      if (n.op == OpKind::one_hot || n.op == OpKind::pad) return Expr();
      if (std::any_of(values.begin(), values.end(), [&](double v) { return v != values[0]; })) return Expr();
      result = values[0];
      break;
    case ir::OpCategory::Reduction:
      if (n.op == OpKind::max || n.op == OpKind::min) result = values[0];
      else if (n.op == OpKind::sum)
        result = values[0] * static_cast<double>(m.graph->type(n.operands[0]).size() / std::max<std::int64_t>(type.size(), 1));
      else return Expr();
      break;
    default:
      return Expr();
  }
  return constant(*m.graph, representable(result, type.dtype), type);
}

/// Whether elementwise operands of these types still broadcast to `shape`.
bool keeps_shape(const ir::Graph& g, const std::vector<ir::Value>& operands, const Shape& shape) {
  Shape joined = g.type(operands[0]).shape;
  for (std::size_t k = 1; k < operands.size(); ++k) {
    auto next = ir::broadcast_shapes(joined, g.type(operands[k]).shape);
    if (!next) return false;
    joined = *next;
  }
  return joined == shape;
}

/// Uses y in place of broadcast_to(y) (or a size-1 reshape of y, or a scalar for a filled constant) as an
/// elementwise operand when the result's shape stays the same: elementwise ops broadcast on their own, and a
/// materialized broadcast is wasted work.
Expr drop_explicit_broadcasts(const Match& m) {
  // Copies, not references: building the scalar constant adds a node, which may move the graph's node storage.
  const ir::Node root = m.root_node();
  if (root.info().category != ir::OpCategory::Elementwise) return Expr();
  std::vector<ir::Value> operands = root.operands;
  bool changed = false;
  for (std::size_t i = 0; i < operands.size(); ++i) {
    const ir::Node producer = m.graph->node(operands[i]);
    std::vector<ir::Value> trial = operands;
    if (producer.op == OpKind::constant && producer.results[0].rank() > 0) {  // a filled constant: use a scalar
      trial[i] = constant(*m.graph, producer.attrs.get_float("value"), TensorType{producer.results[0].dtype, {}}).value();
    } else if ((producer.op == OpKind::broadcast_to ||
                (producer.op == OpKind::reshape && producer.results[0].size() == 1)) &&
               !m.is_pinned(operands[i].node)) {
      trial[i] = producer.operands[0];
    } else {
      continue;
    }
    if (keeps_shape(*m.graph, trial, root.results[0].shape)) {
      operands = trial;
      changed = true;
    }
  }
  return changed ? rebuild(m, root.op, operands, root.attrs) : Expr();
}

bool swaps_last_two(const std::vector<std::int64_t>& perm) {
  if (perm.size() < 2) return false;
  for (std::size_t i = 0; i + 2 < perm.size(); ++i)
    if (perm[i] != static_cast<std::int64_t>(i)) return false;
  auto r = static_cast<std::int64_t>(perm.size());
  return perm[r - 2] == r - 1 && perm[r - 1] == r - 2;
}

/// matmul(transpose(a), b) → matmul(a, b) {transpose_a}: oneDNN reads transposed operands in place, so a
/// transpose is never materialized for a matmul.
Expr fold_transpose_into_matmul(const Match& m) {
  const ir::Node& n = m.root_node();
  bool flags[2] = {n.attrs.get_int("transpose_a") != 0, n.attrs.get_int("transpose_b") != 0};
  std::vector<ir::Value> operands = n.operands;
  bool changed = false;
  for (int side = 0; side < 2; ++side) {
    const ir::Node& producer = m.graph->node(operands[side]);
    if (producer.op != OpKind::transpose || !swaps_last_two(producer.attrs.get_ints("perm")) ||
        m.is_pinned(operands[side].node))
      continue;
    operands[side] = producer.operands[0];
    flags[side] = !flags[side];
    changed = true;
  }
  if (!changed) return Expr();
  ir::Attrs attrs;
  if (flags[0]) attrs.set("transpose_a", std::int64_t{1});
  if (flags[1]) attrs.set("transpose_b", std::int64_t{1});
  return rebuild(m, OpKind::matmul, operands, attrs);
}

Expr compose_transposes(const Match& m) {
  const auto& outer = m.root_node().attrs.get_ints("perm");
  const auto& inner = m.graph->node(m.root_node().operands[0]).attrs.get_ints("perm");
  std::vector<std::int64_t> composed;
  for (auto p : outer) composed.push_back(inner[static_cast<std::size_t>(p)]);
  return transpose(m[X], composed);
}

bool is_identity_perm(const ir::Node& n) {
  const auto& perm = n.attrs.get_ints("perm");
  for (std::size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != static_cast<std::int64_t>(i)) return false;
  return true;
}

bool has_grad_nodes(const ir::Graph& g) {
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id)
    if (!g.node(id).dead && g.node(id).op == OpKind::grad) return true;
  return false;
}

/// X itself when it already has the root's type (the identity did not broadcast it).
Expr same_type(const Match& m) { return m[X].type() == m.root_node().results[0] ? m[X] : Expr(); }

const std::vector<RewriteRule>& rules() {
  static const std::vector<RewriteRule> kRules = {
      {"fold-constants", P::bind(X), fold_constants},
      {"add-zero", P::node(OpKind::add, {P::bind(X), P::constant(0.0)}), same_type},
      {"sub-zero", P::node(OpKind::sub, {P::bind(X), P::constant(0.0)}), same_type},
      {"mul-one", P::node(OpKind::mul, {P::bind(X), P::constant(1.0)}), same_type},
      {"div-one", P::node(OpKind::div, {P::bind(X), P::constant(1.0)}), same_type},
      {"pow-one", P::node(OpKind::pow, {P::bind(X), P::constant(1.0)}), same_type},
      {"pow-two", P::node(OpKind::pow, {P::bind(X), P::constant(2.0)}),
       [](const Match& m) { return m[X].type() == m.root_node().results[0] ? square(m[X]) : Expr(); }},
      {"double-neg", P::node(OpKind::neg, {P::node(OpKind::neg, {P::bind(X)})}), same_type},
      {"identity-transpose", P::node(OpKind::transpose, {P::bind(X)}).only_if(is_identity_perm), same_type},
      {"transpose-transpose", P::node(OpKind::transpose, {P::node(OpKind::transpose, {P::bind(X)})}), compose_transposes},
      {"reshape-chain", P::node(OpKind::reshape, {P::node(OpKind::reshape, {P::bind(X)})}),
       [](const Match& m) { return reshape(m[X], m.root_node().results[0].shape); }},
      {"identity-reshape", P::node(OpKind::reshape, {P::bind(X)}), same_type},
      {"identity-broadcast", P::node(OpKind::broadcast_to, {P::bind(X)}), same_type},
      {"identity-cast", P::node(OpKind::cast, {P::bind(X)}), same_type},
      {"implicit-broadcast", P::bind(X), drop_explicit_broadcasts},
      {"matmul-transpose", P::node(OpKind::matmul, {P::bind(X), P::bind(Y)}), fold_transpose_into_matmul},
      // After autodiff nothing reads the barrier; before it, it is what blocks the gradient.
      {"drop-stop-gradient", P::node(OpKind::stop_gradient, {P::bind(X)}),
       [](const Match& m) { return has_grad_nodes(*m.graph) ? Expr() : m[X]; }},
  };
  return kRules;
}

}  // namespace

bool Canonicalize::run(ir::Graph& g, PassContext& ctx) { return apply_rules(g, rules(), ctx); }

std::vector<std::string_view> Canonicalize::rule_names() const { return names_of(rules()); }

}  // namespace loom::passes
