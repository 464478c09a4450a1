#include <algorithm>
#include <cmath>
#include <limits>

#include "loom/codegen/interpreter/kernels.h"

namespace loom::codegen::interp {

namespace {

/// Strides that map an input element to its reduced output element: 0 on reduced axes.
std::vector<std::int64_t> reduced_strides(const Shape& in, const std::vector<std::int64_t>& axes) {
  Shape kept = in;
  for (std::size_t d = 0; d < in.size(); ++d)
    if (axes.empty() || std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) != axes.end()) kept[d] = 1;
  return broadcast_strides(kept, in);
}

/// Views a shape as [outer, n, inner] around one axis, for row-wise ops.
struct AxisView {
  std::int64_t outer = 1, n = 1, inner = 1;
  AxisView(const Shape& shape, std::int64_t axis) {
    for (std::int64_t d = 0; d < static_cast<std::int64_t>(shape.size()); ++d)
      (d < axis ? outer : d == axis ? n : inner) *= shape[d];
  }
  std::int64_t at(std::int64_t o, std::int64_t k, std::int64_t i) const { return (o * n + k) * inner + i; }
};

}  // namespace

Array reduction(const ir::Node& n, Operands in) {
  const Array& x = *in[0];
  const TensorType& type = n.results[0];
  const auto& axes = n.attrs.get_ints("axes");
  std::vector<std::vector<std::int64_t>> strides{row_major_strides(x.shape()), reduced_strides(x.shape(), axes)};
  std::int64_t count = type.size();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  // Accumulate in double: the oracle should be more accurate than anything it checks.
  std::vector<double> acc(static_cast<std::size_t>(count), 0.0);
  std::vector<std::int64_t> arg(static_cast<std::size_t>(count), 0);
  auto visit = [&](auto&& fn) {
    for_each_element(x.shape(), strides, [&](std::int64_t, const std::vector<std::int64_t>& o) {
      fn(x.get(o[0]), static_cast<std::size_t>(o[1]), o[0]);
    });
  };
  switch (n.op) {
    case ir::OpKind::sum: visit([&](double v, std::size_t r, std::int64_t) { acc[r] += v; }); break;
    case ir::OpKind::max:
      std::fill(acc.begin(), acc.end(), -kInf);
      visit([&](double v, std::size_t r, std::int64_t) { acc[r] = std::isnan(v) || v > acc[r] ? v : acc[r]; });
      break;
    case ir::OpKind::min:
      std::fill(acc.begin(), acc.end(), kInf);
      visit([&](double v, std::size_t r, std::int64_t) { acc[r] = std::isnan(v) || v < acc[r] ? v : acc[r]; });
      break;
    case ir::OpKind::logsumexp: {
      std::vector<double> peak(acc.size(), -kInf);
      visit([&](double v, std::size_t r, std::int64_t) { peak[r] = std::max(peak[r], v); });
      visit([&](double v, std::size_t r, std::int64_t) {
        if (std::isfinite(peak[r])) acc[r] += std::exp(v - peak[r]);
      });
      for (std::size_t r = 0; r < acc.size(); ++r) acc[r] = std::isfinite(peak[r]) ? peak[r] + std::log(acc[r]) : peak[r];
      break;
    }
    case ir::OpKind::argmax: {
      std::int64_t axis_stride = row_major_strides(x.shape())[static_cast<std::size_t>(axes[0])];
      std::int64_t axis_size = x.shape()[static_cast<std::size_t>(axes[0])];
      std::fill(acc.begin(), acc.end(), -kInf);
      std::vector<bool> seen(acc.size(), false);
      visit([&](double v, std::size_t r, std::int64_t offset) {
        if (!seen[r] || v > acc[r]) {
          acc[r] = v;
          arg[r] = (offset / axis_stride) % axis_size;
          seen[r] = true;
        }
      });
      for (std::size_t r = 0; r < acc.size(); ++r) acc[r] = static_cast<double>(arg[r]);
      break;
    }
    default: throw Error("interpreter: not a reduction: " + std::string(ir::op_name(n.op)));
  }
  Array out(type.dtype, type.shape);
  for (std::int64_t r = 0; r < count; ++r) out.set(r, acc[static_cast<std::size_t>(r)]);
  return out;
}

Array normalize(const ir::Node& n, Operands in) {
  const Array& x = *in[0];
  Array out(x.dtype(), x.shape());
  AxisView v(x.shape(), n.attrs.get_int("axis"));
  for (std::int64_t o = 0; o < v.outer; ++o)
    for (std::int64_t i = 0; i < v.inner; ++i) {
      double peak = -std::numeric_limits<double>::infinity(), total = 0.0;
      for (std::int64_t k = 0; k < v.n; ++k) peak = std::max(peak, x.get(v.at(o, k, i)));
      for (std::int64_t k = 0; k < v.n; ++k) total += std::exp(x.get(v.at(o, k, i)) - peak);
      for (std::int64_t k = 0; k < v.n; ++k) {
        double shifted = x.get(v.at(o, k, i)) - peak;
        out.set(v.at(o, k, i), n.op == ir::OpKind::softmax ? std::exp(shifted) / total : shifted - std::log(total));
      }
    }
  return out;
}

Array softmax_cross_entropy(const ir::Node& n, Operands in) {
  const Array &logits = *in[0], &labels = *in[1];
  Array out(n.results[0].dtype, n.results[0].shape);
  AxisView v(logits.shape(), logits.rank() - 1);
  for (std::int64_t row = 0; row < v.outer; ++row) {
    auto label = static_cast<std::int64_t>(labels.get(row));
    if (label < 0 || label >= v.n)
      throw Error(fmt::format("softmax_cross_entropy: label {} at row {} is outside [0, {})\n  at {}", label, row, v.n,
                              n.loc.str()));
    double peak = -std::numeric_limits<double>::infinity(), total = 0.0;
    for (std::int64_t k = 0; k < v.n; ++k) peak = std::max(peak, logits.get(v.at(row, k, 0)));
    for (std::int64_t k = 0; k < v.n; ++k) total += std::exp(logits.get(v.at(row, k, 0)) - peak);
    out.set(row, peak + std::log(total) - logits.get(v.at(row, label, 0)));
  }
  return out;
}

}  // namespace loom::codegen::interp
