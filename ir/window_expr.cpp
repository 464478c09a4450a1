/// The sliding-window builders of ir/expr.h: conv2d, the pools, flatten, and window_op for the gradient rules.

#include <fmt/ranges.h>

#include "loom/ir/expr.h"
#include "loom/ir/window_semantics.h"

namespace loom {

using ir::Attrs;
using ir::OpKind;

namespace {

const Expr& require_nchw(const Expr& x, std::string_view op, std::string_view what, const SourceLoc& loc) {
  if (!x.defined()) raise(loc, "{}: {} is an empty Tensor (default-constructed, never assigned)", op, what);
  if (x.rank() != 4) raise(loc, "{}: {} must have rank 4 ({}), got {}", op, what, what == "w" ? "OIHW" : "NCHW", x.type().str());
  return x;
}

Expr build(OpKind op, const std::vector<Expr>& operands, Attrs attrs, const SourceLoc& loc) {
  ir::Graph& g = *operands[0].graph();
  std::vector<ir::Value> values;
  for (const Expr& x : operands) {
    if (!x.defined()) raise(loc, "{}: operand is an empty Tensor (default-constructed, never assigned)", ir::op_name(op));
    if (x.graph() != &g) raise(loc, "{}: operands belong to different graphs", ir::op_name(op));
    values.push_back(x.value());
  }
  return Expr(&g, ir::Value{g.add_node(op, std::move(values), std::move(attrs), loc), 0});
}

/// stride, pad_low and pad_high of a window of `kernel` taps `dilation` apart over x's spatial axes.
Attrs window_attrs(const Expr& x, Size2 kernel, Size2 stride, const Padding& padding, Size2 dilation, std::string_view op,
                   const SourceLoc& loc) {
  std::vector<std::int64_t> low, high;
  std::int64_t kernels[2] = {kernel.height, kernel.width}, strides[2] = {stride.height, stride.width},
               dilations[2] = {dilation.height, dilation.width};
  if (padding.mode == "same") {
    for (std::size_t d = 0; d < 2; ++d) {
      if (strides[d] < 1) break;  // refused with the attributes
      std::int64_t in = x.shape()[2 + d], out = (in + strides[d] - 1) / strides[d];
      std::int64_t total = std::max<std::int64_t>((out - 1) * strides[d] + dilations[d] * (kernels[d] - 1) + 1 - in, 0);
      low.push_back(total / 2);
      high.push_back(total - total / 2);
    }
  } else if (padding.mode == "valid") {
    low = high = {0, 0};
  } else if (padding.mode.empty() && padding.sides.size() == 2) {
    low = high = padding.sides;
  } else if (padding.mode.empty() && padding.sides.size() == 4) {
    low = {padding.sides[0], padding.sides[2]};
    high = {padding.sides[1], padding.sides[3]};
  } else if (padding.mode.empty()) {
    raise(loc, "{}: explicit padding takes 2 numbers ({{height, width}}) or 4 ({{top, bottom, left, right}}), got [{}]", op,
          fmt::join(padding.sides, ", "));
  } else {
    raise(loc, "{}: padding \"{}\" is not \"valid\", \"same\" or a list of sizes", op, padding.mode);
  }
  return {{"stride", std::vector<std::int64_t>{stride.height, stride.width}}, {"pad_low", low}, {"pad_high", high}};
}

Expr pool(OpKind op, const Expr& x, Size2 kernel, std::optional<Size2> stride, const Padding& padding, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  require_nchw(x, ir::op_name(op), "x", loc);
  Attrs attrs = window_attrs(x, kernel, stride.value_or(kernel), padding, 1, ir::op_name(op), loc);
  attrs.set("kernel", std::vector<std::int64_t>{kernel.height, kernel.width});
  return build(op, {x}, std::move(attrs), loc);
}

}  // namespace

Expr conv2d(const Expr& x, const Expr& w, Size2 stride, Padding padding, Size2 dilation, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  require_nchw(x, "conv2d", "x", loc);
  require_nchw(w, "conv2d", "w", loc);
  Attrs attrs = window_attrs(x, {w.shape()[2], w.shape()[3]}, stride, padding, dilation, "conv2d", loc);
  attrs.set("dilation", std::vector<std::int64_t>{dilation.height, dilation.width});
  return build(OpKind::conv2d, {x, w}, std::move(attrs), loc);
}

Expr conv2d(const Expr& x, const Expr& w, const Expr& bias, Size2 stride, Padding padding, Size2 dilation, SrcLoc where) {
  Expr y = conv2d(x, w, stride, std::move(padding), dilation, where);
  SourceLoc loc = SourceLoc::from(where);
  if (!bias.defined() || bias.rank() != 1 || bias.shape()[0] != w.shape()[0])
    raise(loc, "conv2d: the bias must have one element per output channel, [{}], got {}", w.shape()[0],
          bias.defined() ? bias.type().str() : "an empty Tensor");
  return y + reshape(bias, {bias.shape()[0], 1, 1}, where);
}

Expr max_pool2d(const Expr& x, Size2 kernel, std::optional<Size2> stride, Padding padding, SrcLoc loc) {
  return pool(OpKind::max_pool2d, x, kernel, stride, padding, loc);
}

Expr avg_pool2d(const Expr& x, Size2 kernel, std::optional<Size2> stride, Padding padding, SrcLoc loc) {
  return pool(OpKind::avg_pool2d, x, kernel, stride, padding, loc);
}

Expr flatten(const Expr& x, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  if (!x.defined() || x.rank() < 1)
    raise(loc, "flatten: x must have a batch axis, got {}", x.defined() ? x.type().str() : "an empty Tensor");
  std::int64_t rest = 1;
  for (std::size_t d = 1; d < x.shape().size(); ++d) rest *= x.shape()[d];
  return reshape(x, {x.shape()[0], rest}, where);
}

namespace ir {

Expr window_op(OpKind op, const std::vector<Expr>& operands, const Attrs& window, const Attrs& extra, SrcLoc where) {
  Attrs attrs;
  for (const AttrSpec& spec : op_info(op).attributes) {
    std::string name(spec.name);
    attrs.set(name, extra.has(name) ? extra.get_ints(name) : window.get_ints(name));
  }
  return build(op, operands, std::move(attrs), SourceLoc::from(where));
}

}  // namespace ir

}  // namespace loom
