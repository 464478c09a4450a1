#include "loom/ir/type_inference.h"

#include "loom/ir/attribute_schema.h"
#include "loom/ir/window_semantics.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace loom::ir {

std::optional<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    std::int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<std::int64_t> reduced_axes(const Graph& g, const Node& n) {
  std::vector<std::int64_t> axes = n.attrs.get_ints("axes");
  if (axes.empty())
    for (std::int64_t d = 0; d < g.type(n.operands[0]).rank(); ++d) axes.push_back(d);
  return axes;
}

namespace {

/// The operands of one node being typed, with the context every error message needs.
struct Typing {
  const Graph& g;
  OpKind op;
  const std::vector<Value>& operands;
  const Attrs& attrs;
  const SourceLoc& loc;

  const TensorType& in(std::size_t i) const { return g.type(operands[i]); }
  std::string_view name() const { return op_name(op); }
  std::string operand_types() const {
    std::vector<std::string> types;
    for (std::size_t i = 0; i < operands.size(); ++i) types.push_back(in(i).str());
    return fmt::format("{}", fmt::join(types, ", "));
  }
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    raise(loc, "{}: {} (operands: {})", name(), fmt::format(format, std::forward<Args>(args)...), operand_types());
  }
  void require_float(std::size_t i) const {
    if (!is_float(in(i).dtype)) fail("operand {} must be f32 or f64, got {}", i, in(i).str());
  }
  void require_same_dtype(std::size_t i, std::size_t j) const {
    if (in(i).dtype != in(j).dtype)
      fail("operand dtypes differ: {} is {}, {} is {}", i, to_string(in(i).dtype), j, to_string(in(j).dtype));
  }
  std::int64_t axis(std::int64_t a, std::int64_t rank) const {
    if (a < 0 || a >= std::max<std::int64_t>(rank, 1)) fail("axis {} is out of range for rank {}", a, rank);
    return a;
  }
};

Shape broadcast_all(const Typing& t) {
  Shape shape = t.in(0).shape;
  for (std::size_t i = 1; i < t.operands.size(); ++i) {
    auto joined = broadcast_shapes(shape, t.in(i).shape);
    if (!joined) {
      const Shape& other = t.in(i).shape;
      for (std::size_t k = 0; k < std::min(shape.size(), other.size()); ++k) {
        std::int64_t da = shape[shape.size() - 1 - k], db = other[other.size() - 1 - k];
        if (da != db && da != 1 && db != 1)
          t.fail("cannot broadcast {} with {}: dimension {} from the right differs ({} vs {})", to_string(shape),
                 to_string(other), k, da, db);
      }
    }
    shape = *joined;
  }
  return shape;
}

/// The graph's step counter: random ops and the ops that lower to them read it.
void require_step_counter(const Typing& t, std::size_t i);

/// The ops the modes pass lowers for training or inference: their result is x's type.
TensorType mode(const Typing& t) {
  t.require_float(0);
  switch (t.op) {
    case OpKind::dropout: {
      require_step_counter(t, 1);
      double rate = t.attrs.get_float("rate");
      if (!(rate >= 0.0 && rate < 1.0)) t.fail("rate {} is not in [0, 1)", rate);
      break;
    }
    case OpKind::rrelu: {
      require_step_counter(t, 1);
      double lower = t.attrs.get_float("lower"), upper = t.attrs.get_float("upper");
      if (!(0.0 <= lower && lower <= upper && upper < 1.0)) t.fail("slopes [{}, {}] are not 0 <= lower <= upper < 1", lower, upper);
      break;
    }
    default:  // batch_norm: every statistic, scale and shift broadcasts to x
      for (std::size_t i = 1; i < t.operands.size(); ++i) {
        t.require_same_dtype(0, i);
        if (broadcast_shapes(t.in(0).shape, t.in(i).shape) != t.in(0).shape)
          t.fail("operand {} ({}) does not broadcast to x ({})", i, t.in(i).str(), t.in(0).str());
      }
      if (!(t.attrs.get_float("eps") > 0.0)) t.fail("eps {} is not positive", t.attrs.get_float("eps"));
  }
  return t.in(0);
}

void require_step_counter(const Typing& t, std::size_t i) {
  if (t.in(i).dtype != DType::f64 || !t.in(i).shape.empty())
    t.fail("operand {} is the step counter, an f64 scalar, not {}", i, t.in(i).str());
}

TensorType elementwise(const Typing& t) {
  const OpInfo& info = op_info(t.op);
  if (info.has(trait::Random)) {
    require_step_counter(t, 0);
    auto dtype = parse_dtype(t.attrs.get_string("dtype"));
    if (!dtype || !is_float(*dtype)) t.fail("dtype '{}' is not f32 or f64", t.attrs.get_string("dtype"));
    Shape shape = t.attrs.get_ints("shape");
    for (std::int64_t d : shape)
      if (d < 0) t.fail("shape {} has a negative dimension", to_string(shape));
    return {*dtype, shape};
  }
  Shape shape = broadcast_all(t);
  if (info.has(trait::Float)) {
    for (std::size_t i = 0; i < t.operands.size(); ++i) t.require_float(i);
    for (std::size_t i = 1; i < t.operands.size(); ++i) t.require_same_dtype(0, i);
    return {t.in(0).dtype, shape};
  }
  if (info.has(trait::Predicate)) {
    t.require_same_dtype(0, 1);
    return {DType::b8, shape};
  }
  if (info.has(trait::Select)) {
    if (t.in(0).dtype != DType::b8) t.fail("condition must be b8, got {}", t.in(0).str());
    t.require_same_dtype(1, 2);
    return {t.in(1).dtype, shape};
  }
  if (info.has(trait::Cast)) {
    auto to = parse_dtype(t.attrs.get_string("to"));
    if (!to) t.fail("unknown target dtype '{}'", t.attrs.get_string("to"));
    return {*to, shape};
  }
  return t.in(0);  // Identity
}

TensorType reduction(const Typing& t) {
  const TensorType& x = t.in(0);
  const auto& axes = t.attrs.get_ints("axes");
  for (std::size_t i = 0; i < axes.size(); ++i) {
    t.axis(axes[i], x.rank());
    if (i > 0 && axes[i] <= axes[i - 1]) t.fail("axes {} must be sorted and unique", fmt::join(axes, ","));
  }
  bool keepdims = t.attrs.get_int("keepdims") != 0;
  Shape shape;
  for (std::int64_t d = 0; d < x.rank(); ++d) {
    bool reduced = axes.empty() || std::find(axes.begin(), axes.end(), d) != axes.end();
    if (!reduced)
      shape.push_back(x.shape[d]);
    else if (keepdims)
      shape.push_back(1);
  }
  if (t.op == OpKind::argmax) {
    if (axes.size() != 1) t.fail("argmax takes exactly one axis");
    if (x.shape.empty() || x.shape[axes[0]] == 0) t.fail("argmax over an empty axis");
    return {DType::i32, shape};
  }
  t.require_float(0);
  return {x.dtype, shape};
}

TensorType matmul(const Typing& t) {
  t.require_float(0);
  t.require_same_dtype(0, 1);
  Shape a = t.in(0).shape, b = t.in(1).shape;
  bool ta = t.attrs.get_int("transpose_a") != 0, tb = t.attrs.get_int("transpose_b") != 0;
  if (a.size() < 2 || a.size() > 3) t.fail("lhs must have rank 2 or 3, got {}", t.in(0).str());
  if (b.empty() || b.size() > 3) t.fail("rhs must have rank 1, 2 or 3, got {}", t.in(1).str());
  if (b.size() == 3 && a.size() != 3) t.fail("a batched rhs needs a batched lhs");
  if (ta) std::swap(a[a.size() - 1], a[a.size() - 2]);
  if (tb && b.size() >= 2) std::swap(b[b.size() - 1], b[b.size() - 2]);
  std::int64_t k_a = a.back(), k_b = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (k_a != k_b)
    t.fail("inner dimensions differ: lhs {} has {} columns, rhs {} has {} rows", t.in(0).str(), k_a, t.in(1).str(), k_b);
  if (a.size() == 3 && b.size() == 3 && a[0] != b[0])
    t.fail("batch dimensions differ: {} vs {}", a[0], b[0]);
  Shape out(a.begin(), a.end() - 1);
  if (b.size() >= 2) out.push_back(b.back());
  return {t.in(0).dtype, out};
}

/// conv2d, the pools and their backward ops (ir/window_semantics.h): NCHW operands, OIHW weights.
TensorType window(const Typing& t) {
  for (std::size_t i = 0; i < t.operands.size(); ++i) {
    t.require_float(i);
    t.require_same_dtype(0, i);
    if (t.in(i).rank() != 4) t.fail("operand {} must have rank 4 (NCHW, or OIHW weights), got {}", i, t.in(i).str());
  }
  // Two entries each, small enough that no size computed from them can overflow.
  for (const AttrSpec& spec : op_info(t.op).attributes) {
    const auto& values = t.attrs.get_ints(std::string(spec.name));
    if (values.size() != 2) t.fail("{} needs two entries, [height, width], got {}", spec.name, values.size());
    for (std::int64_t v : values)
      if (v > (std::int64_t{1} << 31)) t.fail("{} entry {} is larger than 2^31", spec.name, v);
  }
  DType dtype = t.in(0).dtype;
  const Shape& a = t.in(0).shape;
  auto size_of = [&](const char* name) { return t.attrs.get_ints(name); };
  // The window of the forward op, from its input's shape and its kernel; `result_channels` of its output.
  auto window_for = [&](const Shape& x, std::int64_t out_channels, std::int64_t kh, std::int64_t kw) {
    Window2d w = make_window(t.attrs, t.op, x, out_channels, kh, kw);
    for (const WindowAxis& axis : w.axis)
      if (axis.output < 1)
        t.fail("the window spans {} positions but the padded input has {}", axis.dilation * (axis.kernel - 1) + 1,
               axis.input + axis.pad_low + axis.pad_high);
    return w;
  };
  auto output_of = [](const Window2d& w) { return Shape{w.batch, w.out_channels, w.axis[0].output, w.axis[1].output}; };
  auto require_dy = [&](std::size_t i, const Shape& expected) {
    if (t.in(i).shape != expected)
      t.fail("the gradient {} must have the forward result's shape {}", t.in(i).str(), to_string(expected));
  };
  switch (t.op) {
    case OpKind::conv2d: {
      const Shape& w = t.in(1).shape;
      if (a[1] != w[1]) t.fail("x has {} channels but the weights expect {} (weights are OIHW)", a[1], w[1]);
      return {dtype, output_of(window_for(a, w[0], w[2], w[3]))};
    }
    case OpKind::conv2d_backward_data: {
      const Shape& w = t.in(1).shape;
      Shape x{a[0], w[1], size_of("input_size")[0], size_of("input_size")[1]};
      require_dy(0, output_of(window_for(x, w[0], w[2], w[3])));
      return {dtype, x};
    }
    case OpKind::conv2d_backward_weights: {
      const Shape& dy = t.in(1).shape;
      auto kernel = size_of("kernel");
      require_dy(1, output_of(window_for(a, dy[1], kernel[0], kernel[1])));
      return {dtype, Shape{dy[1], a[1], kernel[0], kernel[1]}};
    }
    default: {  // the pools
      auto kernel = size_of("kernel");
      for (std::size_t d = 0; d < 2; ++d)
        if (size_of("pad_low")[d] >= kernel[d] || size_of("pad_high")[d] >= kernel[d])
          t.fail("padding must be smaller than the kernel, so no window lies in the padding alone");
      if (t.op == OpKind::avg_pool2d_backward) {
        Shape x{a[0], a[1], size_of("input_size")[0], size_of("input_size")[1]};
        require_dy(0, output_of(window_for(x, a[1], kernel[0], kernel[1])));
        return {dtype, x};
      }
      Shape y = output_of(window_for(a, a[1], kernel[0], kernel[1]));
      if (t.op == OpKind::max_pool2d_backward) {
        require_dy(1, y);
        return t.in(0);
      }
      return {dtype, y};
    }
  }
}

Shape shape_attr(const Typing& t, const char* name) { return t.attrs.get_ints(name); }

TensorType layout(const Typing& t) {
  const TensorType& x = t.in(0);
  switch (t.op) {
    case OpKind::transpose: {
      const auto& perm = t.attrs.get_ints("perm");
      std::vector<std::int64_t> sorted = perm;
      std::sort(sorted.begin(), sorted.end());
      std::vector<std::int64_t> identity(x.shape.size());
      std::iota(identity.begin(), identity.end(), 0);
      if (sorted != identity) t.fail("perm [{}] is not a permutation of the {} axes", fmt::join(perm, ","), x.rank());
      Shape shape;
      for (auto p : perm) shape.push_back(x.shape[p]);
      return {x.dtype, shape};
    }
    case OpKind::reshape: {
      Shape shape = shape_attr(t, "shape");
      if (num_elements(shape) != x.size() || std::any_of(shape.begin(), shape.end(), [](auto d) { return d < 0; }))
        t.fail("cannot reshape {} ({} elements) to {}", x.str(), x.size(), to_string(shape));
      return {x.dtype, shape};
    }
    case OpKind::broadcast_to: {
      Shape shape = shape_attr(t, "shape");
      auto joined = broadcast_shapes(x.shape, shape);
      if (!joined || *joined != shape) t.fail("cannot broadcast {} to {}", x.str(), to_string(shape));
      return {x.dtype, shape};
    }
    case OpKind::concat: {
      if (x.rank() == 0) t.fail("cannot concatenate scalars ({}): there is no axis to join them along", x.str());
      std::int64_t axis = t.axis(t.attrs.get_int("axis"), x.rank());
      Shape shape = x.shape;
      for (std::size_t i = 1; i < t.operands.size(); ++i) {
        t.require_same_dtype(0, i);
        const Shape& other = t.in(i).shape;
        if (other.size() != shape.size()) t.fail("operand {} has rank {}, expected {}", i, other.size(), shape.size());
        for (std::size_t d = 0; d < shape.size(); ++d)
          if (static_cast<std::int64_t>(d) != axis && other[d] != shape[d])
            t.fail("operand {} differs in dimension {} ({} vs {})", i, d, other[d], shape[d]);
        auto joined = checked_add(shape[axis], other[axis]);
        if (!joined) t.fail("the joined dimension {} overflows", axis);
        shape[axis] = *joined;
      }
      return {x.dtype, shape};
    }
    case OpKind::slice: {
      const auto &begin = t.attrs.get_ints("begin"), &end = t.attrs.get_ints("end"), &step = t.attrs.get_ints("step");
      if (begin.size() != x.shape.size() || end.size() != x.shape.size() || step.size() != x.shape.size())
        t.fail("begin, end and step need one entry per axis of {}", x.str());
      Shape shape;
      for (std::size_t d = 0; d < x.shape.size(); ++d) {
        if (step[d] <= 0 || begin[d] < 0 || end[d] > x.shape[d] || begin[d] > end[d])
          t.fail("slice [{}:{}:{}] is out of range for dimension {} of size {}", begin[d], end[d], step[d], d,
                 x.shape[d]);
        shape.push_back((end[d] - begin[d] + step[d] - 1) / step[d]);
      }
      return {x.dtype, shape};
    }
    case OpKind::pad: {
      const auto &low = t.attrs.get_ints("low"), &high = t.attrs.get_ints("high"),
                 &interior = t.attrs.get_ints("interior");
      if (low.size() != x.shape.size() || high.size() != x.shape.size() || interior.size() != x.shape.size())
        t.fail("low, high and interior need one entry per axis of {}", x.str());
      Shape shape;
      for (std::size_t d = 0; d < x.shape.size(); ++d) {
        if (low[d] < 0 || high[d] < 0 || interior[d] < 0) t.fail("padding must be non-negative");
        auto between = checked_mul(std::max<std::int64_t>(x.shape[d] - 1, 0), interior[d]);
        auto size = between ? checked_add(*between, x.shape[d]) : std::nullopt;
        if (size) size = checked_add(*size, low[d]);
        if (size) size = checked_add(*size, high[d]);
        if (!size) t.fail("padding dimension {} by {}, {} and {} between elements overflows", d, low[d], high[d], interior[d]);
        shape.push_back(*size);
      }
      return {x.dtype, shape};
    }
    case OpKind::one_hot: {
      if (!is_integer(x.dtype)) t.fail("indices must be i32 or i64, got {}", x.str());
      auto dtype = parse_dtype(t.attrs.get_string("dtype"));
      if (!dtype || !is_float(*dtype)) t.fail("one_hot needs a float dtype");
      std::int64_t depth = t.attrs.get_int("depth");
      if (depth <= 0) t.fail("depth must be positive, got {}", depth);
      Shape shape = x.shape;
      shape.push_back(depth);
      return {*dtype, shape};
    }
    default:
      t.fail("not a layout op");
  }
}

TensorType softmax_cross_entropy(const Typing& t) {
  const TensorType &logits = t.in(0), &labels = t.in(1);
  t.require_float(0);
  if (!is_integer(labels.dtype)) t.fail("labels must be i32 or i64, got {}", labels.str());
  if (logits.rank() < 1) t.fail("logits must have a class axis");
  Shape expected(logits.shape.begin(), logits.shape.end() - 1);
  if (labels.shape != expected)
    t.fail("labels {} must have the logits' shape without the class axis, {}", labels.str(), to_string(expected));
  return {logits.dtype, expected};
}

std::vector<TensorType> grad(const Typing& t) {
  // The attributes are in range (check_attributes); here they must also fit the operands.
  std::size_t first = t.attrs.get_int("has_cost") ? 1 : 0;
  auto num_wrt = static_cast<std::uint64_t>(t.attrs.get_int("num_wrt"));
  auto num_known = static_cast<std::uint64_t>(int_attr(OpKind::grad, t.attrs, "num_known"));
  std::uint64_t count = t.operands.size();
  if (first + num_wrt > count || num_known > (count - first - num_wrt) / 2)
    t.fail("has {} operands, fewer than its cost ({}), num_wrt = {} and twice num_known = {} need", count, first,
           num_wrt, num_known);
  if (first == 1 && (t.in(0).rank() != 0 || !is_float(t.in(0).dtype)))
    t.fail("cost must be a float scalar, got {}", t.in(0).str());
  std::vector<TensorType> results;
  for (std::size_t i = first; i < first + num_wrt; ++i) {
    if (!is_float(t.in(i).dtype)) t.fail("cannot differentiate with respect to {} (not float)", t.in(i).str());
    results.push_back(t.in(i));
  }
  return results;
}

/// A fused node gives its operands to its body's parameters and returns what the body returns.
std::vector<TensorType> kernel(const Typing& t, const Graph* body) {
  if (!body) t.fail("has no body");
  if (body->inputs.size() != t.operands.size() || !body->state.empty() || !body->updates.empty())
    t.fail("body takes {} parameters and no state, but has {} operands", body->inputs.size(), t.operands.size());
  for (std::size_t i = 0; i < t.operands.size(); ++i)
    if (body->node(body->inputs[i]).results[0] != t.in(i))
      t.fail("operand {} is {}, the body's parameter is {}", i, t.in(i).str(), body->node(body->inputs[i]).results[0].str());
  std::vector<TensorType> results;
  for (Value v : body->outputs) results.push_back(body->type(v));
  return results;
}

/// infer_types before the check that every result is a type a value can have.
std::vector<TensorType> infer_unchecked(const Graph& g, OpKind op, const std::vector<Value>& operands, const Attrs& attrs,
                                        const SourceLoc& loc, const Graph* body) {
  Typing t{g, op, operands, attrs, loc};
  const OpInfo& info = op_info(op);
  check_attributes(op, attrs, loc);
  if (info.arity >= 0 && operands.size() != static_cast<std::size_t>(info.arity))
    t.fail("expects {} operands, got {}", info.arity, operands.size());
  if (info.arity < 0 && operands.empty() && info.category != OpCategory::Meta && info.category != OpCategory::Kernel)
    t.fail("expects at least one operand");
  switch (info.category) {
    case OpCategory::Param:
    case OpCategory::Constant:
      t.fail("parameters and constants carry their type; build them with add_typed_node");
    case OpCategory::Elementwise:
      return {elementwise(t)};
    case OpCategory::Reduction:
      return {reduction(t)};
    case OpCategory::Normalize:
      t.require_float(0);
      t.axis(attrs.get_int("axis"), t.in(0).rank());
      return {t.in(0)};
    case OpCategory::Contraction:
      return {matmul(t)};
    case OpCategory::Window:
      return {window(t)};
    case OpCategory::Layout:
      return {layout(t)};
    case OpCategory::Loss:
      return {softmax_cross_entropy(t)};
    case OpCategory::Kernel:
      return kernel(t, body);
    case OpCategory::Meta:
      return grad(t);
    case OpCategory::Mode:
      return {mode(t)};
  }
  t.fail("unknown op category");
}

}  // namespace

std::vector<TensorType> infer_types(const Graph& g, OpKind op, const std::vector<Value>& operands, const Attrs& attrs,
                                    const SourceLoc& loc, const Graph* body) {
  std::vector<TensorType> results = infer_unchecked(g, op, operands, attrs, loc, body);
  for (const TensorType& r : results)
    if (auto why = unrepresentable(r)) Typing{g, op, operands, attrs, loc}.fail("its result {}", *why);
  return results;
}

}  // namespace loom::ir
