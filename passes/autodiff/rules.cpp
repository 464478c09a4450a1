#include "loom/passes/autodiff/rules.h"

#include "loom/ir/attribute_schema.h"

#include <array>
#include <numeric>


namespace loom::passes {

namespace {

using ir::OpKind;

/// The reduced result reshaped with size-1 dimensions where axes were reduced, then broadcast to the input.
Expr expand_reduced(const Expr& reduced, const GradInputs& n) {
  const Shape& in = n.in[0].shape();
  const auto& axes = n.attrs.get_ints("axes");
  Shape kept = in;
  for (std::size_t d = 0; d < in.size(); ++d)
    if (axes.empty() || std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) != axes.end()) kept[d] = 1;
  return broadcast_to(reshape(reduced, kept), in);
}

/// Swaps the last two axes.
Expr swap_last2(const Expr& x) {
  std::vector<std::int64_t> perm(static_cast<std::size_t>(x.rank()));
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[perm.size() - 1], perm[perm.size() - 2]);
  return transpose(x, perm);
}

/// The row-wise sum along the normalized axis, kept as size 1 for broadcasting.
Expr axis_sum(const Expr& x, const GradInputs& n) { return sum(x, n.attrs.get_int("axis"), true); }

#define GRAD(op) std::vector<Expr> grad_##op(const GradInputs& n)

GRAD(add) { return {n.g, n.g}; }
GRAD(sub) { return {n.g, -n.g}; }
GRAD(mul) { return {n.g * n.in[1], n.g * n.in[0]}; }
GRAD(div) { return {n.g / n.in[1], -n.g * n.out / n.in[1]}; }
GRAD(pow) { return {n.g * n.in[1] * pow(n.in[0], n.in[1] - 1.0), n.g * n.out * log(n.in[0])}; }
GRAD(maximum) { return {where(n.in[0] >= n.in[1], n.g, 0.0), where(n.in[0] < n.in[1], n.g, 0.0)}; }
GRAD(minimum) { return {where(n.in[0] <= n.in[1], n.g, 0.0), where(n.in[0] > n.in[1], n.g, 0.0)}; }
GRAD(where) { return {Expr(), where(n.in[0], n.g, 0.0), where(n.in[0], 0.0, n.g)}; }
GRAD(cast) { return {is_float(n.in[0].dtype()) ? cast(n.g, n.in[0].dtype()) : Expr()}; }
GRAD(neg) { return {-n.g}; }
GRAD(copy) { return {n.g}; }
GRAD(exp) { return {n.g * n.out}; }
GRAD(log) { return {n.g / n.in[0]}; }
GRAD(log1p) { return {n.g / (1.0 + n.in[0])}; }
GRAD(sqrt) { return {n.g * 0.5 / n.out}; }
GRAD(rsqrt) { return {n.g * -0.5 * n.out / n.in[0]}; }
GRAD(abs) { return {n.g * sign(n.in[0])}; }
GRAD(sign) { return {full_like(n.in[0], 0.0)}; }
GRAD(square) { return {n.g * 2.0 * n.in[0]}; }
GRAD(sigmoid) { return {n.g * n.out * (1.0 - n.out)}; }
GRAD(tanh) { return {n.g * (1.0 - square(n.out))}; }
GRAD(relu) { return {where(n.in[0] > 0.0, n.g, 0.0)}; }
GRAD(leaky_relu) { return {where(n.in[0] > 0.0, n.g, n.g * ir::float_attr(OpKind::leaky_relu, n.attrs, "alpha"))}; }
GRAD(elu) { return {where(n.in[0] > 0.0, n.g, n.g * (n.out + ir::float_attr(OpKind::elu, n.attrs, "alpha")))}; }
GRAD(selu) {
  using ir::kSeluAlpha, ir::kSeluScale;
  return {where(n.in[0] > 0.0, n.g * kSeluScale, n.g * (n.out + kSeluScale * kSeluAlpha))};
}
GRAD(softplus) { return {n.g * sigmoid(n.in[0])}; }
GRAD(swish) {
  Expr s = sigmoid(n.in[0]);
  return {n.g * (s + n.out * (1.0 - s))};
}
GRAD(sum) { return {expand_reduced(n.g, n)}; }
GRAD(max) { return {where(eq(n.in[0], expand_reduced(n.out, n)), expand_reduced(n.g, n), 0.0)}; }
GRAD(min) { return grad_max(n); }
GRAD(logsumexp) { return {expand_reduced(n.g, n) * exp(n.in[0] - expand_reduced(n.out, n))}; }
GRAD(softmax) { return {n.out * (n.g - axis_sum(n.g * n.out, n))}; }
GRAD(log_softmax) { return {n.g - exp(n.out) * axis_sum(n.g, n)}; }
GRAD(softmax_cross_entropy) {
  const Expr &logits = n.in[0], &labels = n.in[1];
  Shape column = n.g.shape();
  column.push_back(1);
  Expr target = one_hot(labels, logits.shape().back(), logits.dtype());
  return {reshape(n.g, column) * (softmax(logits) - target), Expr()};
}

GRAD(matmul) {
  bool ta = n.attrs.get_int("transpose_a") != 0, tb = n.attrs.get_int("transpose_b") != 0;
  Expr a = ta ? swap_last2(n.in[0]) : n.in[0];
  Expr b = n.in[1];
  if (b.rank() == 1) {  // out[..., m] = sum_k a[..., m, k] b[k]
    Shape column = n.g.shape();
    column.push_back(1);
    Expr da = reshape(n.g, column) * b;
    // db[k] = sum over the rows of a of a[row, k] g[row]: a matrix-vector product with a's rows flattened.
    Expr rows = a.rank() == 2 ? a : reshape(a, {-1, a.shape().back()});
    Expr db = matmul(swap_last2(rows), reshape(n.g, {-1}));
    return {ta ? swap_last2(da) : da, db};
  }
  if (tb) b = swap_last2(b);
  Expr da = matmul(n.g, swap_last2(b)), db = matmul(swap_last2(a), n.g);
  return {ta ? swap_last2(da) : da, tb ? swap_last2(db) : db};
}

/// The window ops' gradients are window ops in the same window (each is linear in every operand but max pooling's
/// x): conv2d's are its backward-data and backward-weights ops, and those two are each other's and conv2d's.
std::vector<std::int64_t> spatial(const Expr& x) { return {x.shape()[2], x.shape()[3]}; }
Expr window_grad(OpKind op, const std::vector<Expr>& operands, const GradInputs& n, const ir::Attrs& extra = {}) {
  return ir::window_op(op, operands, n.attrs, extra);
}
GRAD(conv2d) {
  const Expr &x = n.in[0], &w = n.in[1];
  return {window_grad(OpKind::conv2d_backward_data, {n.g, w}, n, {{"input_size", spatial(x)}}),
          window_grad(OpKind::conv2d_backward_weights, {x, n.g}, n, {{"kernel", spatial(w)}})};
}
GRAD(conv2d_backward_data) {  // (dy, w) -> dx
  const Expr &dy = n.in[0], &w = n.in[1];
  return {window_grad(OpKind::conv2d, {n.g, w}, n),
          window_grad(OpKind::conv2d_backward_weights, {n.g, dy}, n, {{"kernel", spatial(w)}})};
}
GRAD(conv2d_backward_weights) {  // (x, dy) -> dw
  const Expr &x = n.in[0], &dy = n.in[1];
  return {window_grad(OpKind::conv2d_backward_data, {dy, n.g}, n, {{"input_size", spatial(x)}}),
          window_grad(OpKind::conv2d, {x, n.g}, n)};
}
GRAD(max_pool2d) { return {window_grad(OpKind::max_pool2d_backward, {n.in[0], n.g}, n)}; }
GRAD(avg_pool2d) { return {window_grad(OpKind::avg_pool2d_backward, {n.g}, n, {{"input_size", spatial(n.in[0])}})}; }
GRAD(avg_pool2d_backward) { return {window_grad(OpKind::avg_pool2d, {n.g}, n)}; }

GRAD(transpose) {
  const auto& perm = n.attrs.get_ints("perm");
  std::vector<std::int64_t> inverse(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) inverse[static_cast<std::size_t>(perm[d])] = static_cast<std::int64_t>(d);
  return {transpose(n.g, inverse)};
}
GRAD(reshape) { return {reshape(n.g, n.in[0].shape())}; }
GRAD(broadcast_to) { return {n.g}; }
GRAD(concat) {
  std::int64_t axis = n.attrs.get_int("axis"), offset = 0;
  std::vector<Expr> parts;
  for (const Expr& part : n.in) {
    std::vector<std::int64_t> begin(static_cast<std::size_t>(part.rank()), 0), end(part.shape());
    begin[static_cast<std::size_t>(axis)] = offset;
    offset += part.shape()[static_cast<std::size_t>(axis)];
    end[static_cast<std::size_t>(axis)] = offset;
    parts.push_back(slice(n.g, begin, end));
  }
  return parts;
}
GRAD(slice) {
  const auto &begin = n.attrs.get_ints("begin"), &step = n.attrs.get_ints("step");
  const Shape &in = n.in[0].shape(), &out = n.out.shape();
  if (num_elements(out) == 0) return {full_like(n.in[0], 0.0)};
  std::vector<std::int64_t> high, interior;
  for (std::size_t d = 0; d < in.size(); ++d) {
    high.push_back(in[d] - (begin[d] + (out[d] - 1) * step[d] + 1));
    interior.push_back(step[d] - 1);
  }
  return {pad(n.g, begin, high, interior)};
}
GRAD(pad) {
  const auto &low = n.attrs.get_ints("low"), &interior = n.attrs.get_ints("interior");
  const Shape& in = n.in[0].shape();
  std::vector<std::int64_t> end, step;
  for (std::size_t d = 0; d < in.size(); ++d) {
    step.push_back(interior[d] + 1);
    end.push_back(low[d] + std::max<std::int64_t>(in[d] - 1, 0) * step[d] + (in[d] > 0 ? 1 : 0));
  }
  return {slice(n.g, low, end, step)};
}

#undef GRAD

constexpr std::size_t kNumOps = 0
#define OP(name, arity, category, traits, ...) +1
#include "loom/ir/ops.def"
#undef OP
    ;

std::array<GradRule, kNumOps> make_table() {
  std::array<GradRule, kNumOps> table{};
  auto set = [&](OpKind op, GradRule rule) { table[static_cast<std::size_t>(op)] = rule; };
#define RULE(op) set(OpKind::op, grad_##op);
  RULE(add) RULE(sub) RULE(mul) RULE(div) RULE(pow) RULE(maximum) RULE(minimum) RULE(where) RULE(cast) RULE(copy)
  RULE(neg) RULE(exp) RULE(log) RULE(log1p) RULE(sqrt) RULE(rsqrt) RULE(abs) RULE(sign) RULE(square)
  RULE(sigmoid) RULE(tanh) RULE(relu) RULE(leaky_relu) RULE(elu) RULE(selu) RULE(softplus) RULE(swish)
  RULE(sum) RULE(max) RULE(min) RULE(logsumexp) RULE(softmax) RULE(log_softmax) RULE(softmax_cross_entropy)
  RULE(matmul) RULE(conv2d) RULE(conv2d_backward_data) RULE(conv2d_backward_weights) RULE(max_pool2d)
  RULE(avg_pool2d) RULE(avg_pool2d_backward) RULE(transpose) RULE(reshape) RULE(broadcast_to) RULE(concat) RULE(slice) RULE(pad)
#undef RULE
  return table;
}

}  // namespace

GradRule grad_rule(OpKind op) {
  static const std::array<GradRule, kNumOps> kTable = make_table();
  return kTable[static_cast<std::size_t>(op)];
}

Expr sum_to_shape(const Expr& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const Shape& from = g.shape();
  std::size_t lead = from.size() - shape.size();
  std::vector<std::int64_t> axes;
  for (std::size_t d = 0; d < from.size(); ++d)
    if (d < lead || (shape[d - lead] == 1 && from[d] != 1)) axes.push_back(static_cast<std::int64_t>(d));
  Expr summed = axes.empty() ? g : sum(g, axes);
  return summed.shape() == shape ? summed : reshape(summed, shape);
}

}  // namespace loom::passes
