#include "loom/ir/expr.h"

#include <algorithm>

#include <fmt/ranges.h>

namespace loom {

using ir::Attrs;
using ir::OpKind;

namespace {

ir::Graph& graph_of(const Expr& x, std::string_view op, const SourceLoc& loc) {
  if (!x.defined()) raise(loc, "{}: operand is an empty Tensor (default-constructed, never assigned)", op);
  return *x.graph();
}

/// Builds one node whose operands must all live in the same graph.
Expr build(OpKind op, const std::vector<Expr>& operands, Attrs attrs, const SourceLoc& loc) {
  if (operands.empty()) raise(loc, "{}: no operands", ir::op_name(op));
  ir::Graph& g = graph_of(operands[0], ir::op_name(op), loc);
  std::vector<ir::Value> values;
  for (const Expr& x : operands) {
    if (&graph_of(x, ir::op_name(op), loc) != &g)
      raise(loc, "{}: operands belong to different graphs", ir::op_name(op));
    values.push_back(x.value());
  }
  return Expr(&g, ir::Value{g.add_node(op, std::move(values), std::move(attrs), loc), 0});
}

Expr unary(OpKind op, const Expr& x, SrcLoc loc, Attrs attrs = {}) {
  return build(op, {x}, std::move(attrs), SourceLoc::from(loc));
}

/// Turns plain numbers into scalar constants of the other side's dtype.
std::vector<Expr> resolve(OpKind op, std::initializer_list<const Operand*> operands) {
  // The dtype comes from the first value operand; a b8 condition (of `where`) only anchors the graph.
  const Expr* anchor = nullptr;
  for (const Operand* o : operands)
    if (o->expr && (!anchor || (anchor->dtype() == DType::b8 && o->expr->dtype() != DType::b8))) anchor = &*o->expr;
  const SourceLoc& loc = (*operands.begin())->loc;
  if (!anchor) raise(loc, "{}: needs at least one Tensor operand", ir::op_name(op));
  ir::Graph& g = graph_of(*anchor, ir::op_name(op), loc);
  std::vector<Expr> out;
  for (const Operand* o : operands) {
    if (o->expr) {
      out.push_back(*o->expr);
      continue;
    }
    DType dtype = anchor->dtype() == DType::b8 ? DType::f32 : anchor->dtype();
    out.push_back(Expr(&g, ir::Value{g.add_typed_node(OpKind::constant, {}, {{"value", o->scalar}},
                                                       {TensorType{dtype, {}}}, o->loc),
                                     0}));
  }
  return out;
}

Expr binary(OpKind op, const Operand& a, const Operand& b) { return build(op, resolve(op, {&a, &b}), {}, a.loc); }

std::vector<std::int64_t> normalize_axes(const Axes& axes, const Expr& x, std::string_view op, const SourceLoc& loc) {
  std::vector<std::int64_t> out;
  for (auto a : axes.list) out.push_back(ir::normalize_axis(a, x.type(), op, loc));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    raise(loc, "{}: axes [{}] repeat an axis of {}", op, fmt::join(axes.list, ", "), x.type().str());
  return out;
}

Expr reduce(OpKind op, const Expr& x, const Axes& axes, bool keepdims, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  graph_of(x, ir::op_name(op), loc);
  Attrs attrs{{"axes", normalize_axes(axes, x, ir::op_name(op), loc)}, {"keepdims", std::int64_t{keepdims}}};
  return build(op, {x}, std::move(attrs), loc);
}

}  // namespace

namespace ir {
std::int64_t normalize_axis(std::int64_t axis, const TensorType& type, std::string_view op, const SourceLoc& loc) {
  std::int64_t rank = type.rank();
  std::int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) raise(loc, "{}: axis {} is out of range for {} (rank {})", op, axis, type.str(), rank);
  return a;
}
}  // namespace ir

Expr& Expr::no_fuse() {
  node();
  graph_->node(value_.node).attrs.set("fuse", std::string("never"));
  return *this;
}

const ir::Node& Expr::node() const {
  if (!graph_) throw Error("use of an empty Tensor (default-constructed, never assigned)");
  return graph_->node(value_);
}
const TensorType& Expr::type() const { return node().results.at(value_.index); }
Expr& Expr::named(std::string name) {
  node();
  graph_->node(value_.node).name = std::move(name);
  return *this;
}

Expr operator+(const Operand& a, const Operand& b) { return binary(OpKind::add, a, b); }
Expr operator-(const Operand& a, const Operand& b) { return binary(OpKind::sub, a, b); }
Expr operator*(const Operand& a, const Operand& b) { return binary(OpKind::mul, a, b); }
Expr operator/(const Operand& a, const Operand& b) { return binary(OpKind::div, a, b); }
Expr operator<(const Operand& a, const Operand& b) { return binary(OpKind::lt, a, b); }
Expr operator<=(const Operand& a, const Operand& b) { return binary(OpKind::le, a, b); }
Expr operator>(const Operand& a, const Operand& b) { return binary(OpKind::gt, a, b); }
Expr operator>=(const Operand& a, const Operand& b) { return binary(OpKind::ge, a, b); }
Expr eq(const Operand& a, const Operand& b) { return binary(OpKind::eq, a, b); }
Expr ne(const Operand& a, const Operand& b) { return binary(OpKind::ne, a, b); }
Expr pow(const Operand& a, const Operand& b) { return binary(OpKind::pow, a, b); }
Expr maximum(const Operand& a, const Operand& b) { return binary(OpKind::maximum, a, b); }
Expr minimum(const Operand& a, const Operand& b) { return binary(OpKind::minimum, a, b); }
Expr operator-(const Operand& x) {
  if (!x.expr) raise(x.loc, "neg: needs a Tensor operand");
  return build(OpKind::neg, {*x.expr}, {}, x.loc);
}

Expr where(const Expr& condition, const Operand& a, const Operand& b, SrcLoc where) {
  Operand c(condition, where);
  return build(OpKind::where, resolve(OpKind::where, {&c, &a, &b}), {}, c.loc);
}

Expr cast(const Expr& x, DType to, SrcLoc loc) {
  return unary(OpKind::cast, x, loc, {{"to", std::string(to_string(to))}});
}

Expr neg(const Expr& x, SrcLoc loc) { return unary(OpKind::neg, x, loc); }
Expr exp(const Expr& x, SrcLoc loc) { return unary(OpKind::exp, x, loc); }
Expr log(const Expr& x, SrcLoc loc) { return unary(OpKind::log, x, loc); }
Expr log1p(const Expr& x, SrcLoc loc) { return unary(OpKind::log1p, x, loc); }
Expr sqrt(const Expr& x, SrcLoc loc) { return unary(OpKind::sqrt, x, loc); }
Expr rsqrt(const Expr& x, SrcLoc loc) { return unary(OpKind::rsqrt, x, loc); }
Expr abs(const Expr& x, SrcLoc loc) { return unary(OpKind::abs, x, loc); }
Expr sign(const Expr& x, SrcLoc loc) { return unary(OpKind::sign, x, loc); }
Expr square(const Expr& x, SrcLoc loc) { return unary(OpKind::square, x, loc); }
Expr sigmoid(const Expr& x, SrcLoc loc) { return unary(OpKind::sigmoid, x, loc); }
Expr tanh(const Expr& x, SrcLoc loc) { return unary(OpKind::tanh, x, loc); }
Expr relu(const Expr& x, SrcLoc loc) { return unary(OpKind::relu, x, loc); }
Expr leaky_relu(const Expr& x, double alpha, SrcLoc loc) { return unary(OpKind::leaky_relu, x, loc, {{"alpha", alpha}}); }
Expr elu(const Expr& x, double alpha, SrcLoc loc) { return unary(OpKind::elu, x, loc, {{"alpha", alpha}}); }
Expr selu(const Expr& x, SrcLoc loc) { return unary(OpKind::selu, x, loc); }
Expr softplus(const Expr& x, SrcLoc loc) { return unary(OpKind::softplus, x, loc); }
Expr swish(const Expr& x, SrcLoc loc) { return unary(OpKind::swish, x, loc); }
Expr stop_gradient(const Expr& x, SrcLoc loc) { return unary(OpKind::stop_gradient, x, loc); }
Expr copy(const Expr& x, SrcLoc loc) { return unary(OpKind::copy, x, loc); }

Expr matmul(const Expr& a, const Expr& b, SrcLoc loc) { return build(OpKind::matmul, {a, b}, {}, SourceLoc::from(loc)); }

Expr transpose(const Expr& x, std::vector<std::int64_t> perm, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "transpose", at);
  if (perm.empty())
    for (std::int64_t d = x.rank(); d-- > 0;) perm.push_back(d);
  for (auto& p : perm) p = p < 0 ? p + x.rank() : p;
  return build(OpKind::transpose, {x}, {{"perm", perm}}, at);
}

Expr reshape(const Expr& x, Shape shape, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "reshape", at);
  const Shape written = shape;
  if (std::count(shape.begin(), shape.end(), -1) > 1)
    raise(at, "reshape: {} has more than one -1; at most one dimension can be inferred from {}", to_string(written), x.type().str());
  for (auto d : shape)
    if (d < -1) raise(at, "reshape: {} has the negative dimension {}", to_string(written), d);
  auto inferred = std::find(shape.begin(), shape.end(), -1);
  if (inferred != shape.end()) {
    std::int64_t known = 1;
    for (auto d : shape)
      if (d != -1) known = checked_mul(known, d).value_or(0);
    if (known <= 0 || x.type().size() % known != 0)
      raise(at, "reshape: cannot infer the -1 in {} from {}", to_string(written), x.type().str());
    *inferred = x.type().size() / known;
  }
  return build(OpKind::reshape, {x}, {{"shape", shape}}, at);
}

Expr broadcast_to(const Expr& x, Shape shape, SrcLoc loc) {
  return build(OpKind::broadcast_to, {x}, {{"shape", shape}}, SourceLoc::from(loc));
}

Expr concat(const std::vector<Expr>& parts, std::int64_t axis, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  if (parts.empty()) raise(at, "concat: needs at least one operand");
  graph_of(parts[0], "concat", at);
  return build(OpKind::concat, parts, {{"axis", ir::normalize_axis(axis, parts[0].type(), "concat", at)}}, at);
}

Expr slice(const Expr& x, std::vector<std::int64_t> begin, std::vector<std::int64_t> end,
           std::vector<std::int64_t> step, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "slice", at);
  const Shape& shape = x.shape();
  if (begin.size() > shape.size() || end.size() > shape.size() || step.size() > shape.size())
    raise(at, "slice: more indices than the {} axes of {}", shape.size(), x.type().str());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    auto fix = [&](std::vector<std::int64_t>& v, std::int64_t whole) {
      if (d >= v.size()) v.push_back(whole);
      if (v[d] < 0) v[d] += shape[d];
      v[d] = std::clamp<std::int64_t>(v[d], 0, shape[d]);
    };
    fix(begin, 0);
    fix(end, shape[d]);
    if (d >= step.size()) step.push_back(1);
    end[d] = std::max(end[d], begin[d]);
  }
  return build(OpKind::slice, {x}, {{"begin", begin}, {"end", end}, {"step", step}}, at);
}

Expr pad(const Expr& x, std::vector<std::int64_t> low, std::vector<std::int64_t> high,
         std::vector<std::int64_t> interior, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "pad", at);
  if (interior.empty()) interior.assign(x.shape().size(), 0);
  return build(OpKind::pad, {x}, {{"low", low}, {"high", high}, {"interior", interior}}, at);
}

Expr one_hot(const Expr& indices, std::int64_t depth, DType dtype, SrcLoc loc) {
  return unary(OpKind::one_hot, indices, loc, {{"depth", depth}, {"dtype", std::string(to_string(dtype))}});
}

Expr sum(const Expr& x, Axes axes, bool keepdims, SrcLoc loc) { return reduce(OpKind::sum, x, axes, keepdims, loc); }
Expr max(const Expr& x, Axes axes, bool keepdims, SrcLoc loc) { return reduce(OpKind::max, x, axes, keepdims, loc); }
Expr min(const Expr& x, Axes axes, bool keepdims, SrcLoc loc) { return reduce(OpKind::min, x, axes, keepdims, loc); }
Expr logsumexp(const Expr& x, Axes axes, bool keepdims, SrcLoc loc) {
  return reduce(OpKind::logsumexp, x, axes, keepdims, loc);
}

Expr mean(const Expr& x, Axes axes, bool keepdims, SrcLoc loc) {
  Expr total = sum(x, axes, keepdims, loc);
  ir::LocationOverride at(*x.graph(), SourceLoc::from(loc));
  double count = static_cast<double>(x.type().size()) / static_cast<double>(std::max<std::int64_t>(total.type().size(), 1));
  return total * (1.0 / count);
}

Expr argmax(const Expr& x, std::int64_t axis, bool keepdims, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "argmax", at);
  std::int64_t a = ir::normalize_axis(axis, x.type(), "argmax", at);
  return build(OpKind::argmax, {x}, {{"axes", std::vector<std::int64_t>{a}}, {"keepdims", std::int64_t{keepdims}}}, at);
}

Expr softmax(const Expr& x, std::int64_t axis, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "softmax", at);
  return build(OpKind::softmax, {x}, {{"axis", ir::normalize_axis(axis, x.type(), "softmax", at)}}, at);
}

Expr log_softmax(const Expr& x, std::int64_t axis, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  graph_of(x, "log_softmax", at);
  return build(OpKind::log_softmax, {x}, {{"axis", ir::normalize_axis(axis, x.type(), "log_softmax", at)}}, at);
}

// Composite losses record every node at the caller's line.
Expr mse(const Expr& prediction, const Expr& target, SrcLoc loc) {
  ir::LocationOverride at(graph_of(prediction, "mse", SourceLoc::from(loc)), SourceLoc::from(loc));
  return mean(square(prediction - target));
}

Expr binary_cross_entropy(const Expr& p, const Expr& target, SrcLoc loc) {
  ir::LocationOverride at(graph_of(p, "binary_cross_entropy", SourceLoc::from(loc)), SourceLoc::from(loc));
  return -mean(target * log(p) + (1.0 - target) * log(1.0 - p));
}

Expr softmax_cross_entropy_rows(const Expr& logits, const Expr& labels, SrcLoc loc) {
  return build(OpKind::softmax_cross_entropy, {logits, labels}, {}, SourceLoc::from(loc));
}

Expr softmax_cross_entropy(const Expr& logits, const Expr& labels, SrcLoc loc) {
  return mean(softmax_cross_entropy_rows(logits, labels, loc), {}, false, loc);
}

Expr softmax_cross_entropy(const Expr& logits, const Expr& labels, double label_smoothing, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    raise(at, "softmax_cross_entropy: label smoothing {} is not in [0, 1)", label_smoothing);
  ir::LocationOverride here(graph_of(logits, "softmax_cross_entropy", at), at);
  Expr hard = softmax_cross_entropy_rows(logits, labels, loc);
  if (label_smoothing == 0) return mean(hard);
  // −mean_k log p_k = logsumexp(x) − mean_k x_k: the uniform target's cross-entropy, stable for any logits.
  Expr uniform = logsumexp(logits, -1) - mean(logits, -1);
  return mean(hard * (1.0 - label_smoothing) + uniform * label_smoothing);
}

Expr mixup_cross_entropy(const Expr& logits, const Expr& labels_a, const Expr& labels_b, const Expr& lambda, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  ir::LocationOverride here(graph_of(logits, "mixup_cross_entropy", at), at);
  if (!lambda.shape().empty()) raise(at, "mixup_cross_entropy: lambda is {}, not a scalar", lambda.type().str());
  return lambda * softmax_cross_entropy(logits, labels_a) + (1.0 - lambda) * softmax_cross_entropy(logits, labels_b);
}

Moments moments(const Expr& x, Axes axes, SrcLoc loc) {
  ir::LocationOverride at(graph_of(x, "moments", SourceLoc::from(loc)), SourceLoc::from(loc));
  Expr wide = x.dtype() == DType::f64 ? x : cast(x, DType::f64);
  Expr mean_wide = mean(wide, axes, true), squares = mean(square(wide), axes, true);
  Expr variance_wide = maximum(squares - square(mean_wide), 0.0);  // rounding may leave a tiny negative
  auto narrow = [&](const Expr& v) { return v.dtype() == x.dtype() ? v : cast(v, x.dtype()); };
  return {narrow(mean_wide), narrow(variance_wide)};
}

Expr layer_norm(const Expr& x, const Expr& gamma, const Expr& beta, double eps, SrcLoc loc) {
  ir::LocationOverride at(graph_of(x, "layer_norm", SourceLoc::from(loc)), SourceLoc::from(loc));
  if (x.rank() == 0) raise(SourceLoc::from(loc), "layer_norm: x is a scalar ({}); it normalizes over the last axis", x.type().str());
  Moments m = moments(x, -1, loc);
  return gamma * ((x - m.mean) * rsqrt(m.variance + eps)) + beta;
}

Expr prelu(const Expr& x, const Expr& alpha, SrcLoc loc) {
  ir::LocationOverride at(graph_of(x, "prelu", SourceLoc::from(loc)), SourceLoc::from(loc));
  return where(x > 0.0, x, alpha * x);
}

Expr constant(ir::Graph& g, double value, TensorType type, SrcLoc loc) {
  return Expr(&g, ir::Value{g.add_typed_node(OpKind::constant, {}, {{"value", value}}, {std::move(type)},
                                             SourceLoc::from(loc)),
                            0});
}

namespace {

Expr random(OpKind op, const Expr& step, TensorType type, std::uint64_t seed, std::uint32_t stream, SrcLoc loc) {
  ir::Attrs attrs{{"shape", type.shape},
                  {"dtype", std::string(to_string(type.dtype))},
                  {"seed", static_cast<std::int64_t>(seed)},
                  {"stream", static_cast<std::int64_t>(stream)}};
  return build(op, {step}, std::move(attrs), SourceLoc::from(loc));
}

}  // namespace

Expr random_uniform(const Expr& step, TensorType type, std::uint64_t seed, std::uint32_t stream, SrcLoc loc) {
  return random(OpKind::random_uniform, step, std::move(type), seed, stream, loc);
}

Expr random_normal(const Expr& step, TensorType type, std::uint64_t seed, std::uint32_t stream, SrcLoc loc) {
  return random(OpKind::random_normal, step, std::move(type), seed, stream, loc);
}

Expr full_like(const Expr& x, double value, SrcLoc loc) {
  return constant(graph_of(x, "full_like", SourceLoc::from(loc)), value, x.type(), loc);
}

std::vector<Expr> record_grad(const Expr& cost, const std::vector<Expr>& wrt,
                              const std::vector<std::pair<Expr, Expr>>& known, const std::vector<Expr>& constants,
                              Disconnected disconnected, SrcLoc loc) {
  SourceLoc at = SourceLoc::from(loc);
  if (wrt.empty()) raise(at, "grad: no variables to differentiate with respect to");
  if (!cost.defined() && known.empty()) raise(at, "grad: needs a cost or known_grads");
  std::vector<Expr> operands;
  if (cost.defined()) operands.push_back(cost);
  operands.insert(operands.end(), wrt.begin(), wrt.end());
  for (const auto& [var, g] : known) {
    if (graph_of(var, "grad", at).type(var.value()) != graph_of(g, "grad", at).type(g.value()))
      raise(at, "grad: known gradient {} does not match its variable {}", g.type().str(), var.type().str());
    operands.push_back(var);
  }
  for (const auto& kv : known) operands.push_back(kv.second);
  operands.insert(operands.end(), constants.begin(), constants.end());
  Attrs attrs{{"has_cost", std::int64_t{cost.defined()}},
              {"num_wrt", static_cast<std::int64_t>(wrt.size())},
              {"num_known", static_cast<std::int64_t>(known.size())},
              {"disconnected", std::string(disconnected == Disconnected::raise ? "raise" : "zero")}};
  Expr first = build(OpKind::grad, operands, std::move(attrs), at);
  std::vector<Expr> results;
  for (std::uint32_t i = 0; i < wrt.size(); ++i) results.push_back(Expr(first.graph(), ir::Value{first.value().node, i}));
  return results;
}

}  // namespace loom
