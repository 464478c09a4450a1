#include "loom/codegen/interpreter/kernels.h"

namespace loom::codegen::interp {

namespace {

/// Copies every element of `x` viewed through `strides` (one per output axis) into a new array of `type`.
Array gather(const Array& x, const TensorType& type, std::vector<std::int64_t> strides, std::int64_t base = 0) {
  Array out(type.dtype, type.shape);
  for_each_element(type.shape, {strides}, [&](std::int64_t i, const std::vector<std::int64_t>& o) {
    out.set(i, x.get(base + o[0]));
  });
  return out;
}

}  // namespace

Array layout(const ir::Node& n, Operands in) {
  const Array& x = *in[0];
  const TensorType& type = n.results[0];
  std::vector<std::int64_t> own = row_major_strides(x.shape());
  switch (n.op) {
    case ir::OpKind::reshape: return x.reshaped(type.shape);
    case ir::OpKind::broadcast_to: return gather(x, type, broadcast_strides(x.shape(), type.shape));
    case ir::OpKind::transpose: {
      std::vector<std::int64_t> strides;
      for (auto p : n.attrs.get_ints("perm")) strides.push_back(own[static_cast<std::size_t>(p)]);
      return gather(x, type, strides);
    }
    case ir::OpKind::slice: {
      const auto &begin = n.attrs.get_ints("begin"), &step = n.attrs.get_ints("step");
      std::vector<std::int64_t> strides;
      std::int64_t base = 0;
      for (std::size_t d = 0; d < own.size(); ++d) {
        strides.push_back(own[d] * step[d]);
        base += begin[d] * own[d];
      }
      return gather(x, type, strides, base);
    }
    case ir::OpKind::pad: {
      const auto &low = n.attrs.get_ints("low"), &interior = n.attrs.get_ints("interior");
      Array out(type.dtype, type.shape);
      std::vector<std::int64_t> out_strides = row_major_strides(type.shape), scatter;
      std::int64_t base = 0;
      for (std::size_t d = 0; d < out_strides.size(); ++d) {
        scatter.push_back(out_strides[d] * (interior[d] + 1));
        base += low[d] * out_strides[d];
      }
      for_each_element(x.shape(), {scatter}, [&](std::int64_t i, const std::vector<std::int64_t>& o) {
        out.set(base + o[0], x.get(i));
      });
      return out;
    }
    case ir::OpKind::concat: {
      Array out(type.dtype, type.shape);
      auto axis = static_cast<std::size_t>(n.attrs.get_int("axis"));
      std::vector<std::int64_t> out_strides = row_major_strides(type.shape);
      std::int64_t offset = 0;
      for (const Array* part : in) {
        for_each_element(part->shape(), {out_strides}, [&](std::int64_t i, const std::vector<std::int64_t>& o) {
          out.set(o[0] + offset * out_strides[axis], part->get(i));
        });
        offset += part->shape()[axis];
      }
      return out;
    }
    case ir::OpKind::one_hot: {
      // Indices outside [0, depth) give an all-zero row, as in TensorFlow and JAX.
      Array out(type.dtype, type.shape);
      std::int64_t depth = n.attrs.get_int("depth");
      for (std::int64_t i = 0; i < x.size(); ++i) {
        auto k = static_cast<std::int64_t>(x.get(i));
        if (k >= 0 && k < depth) out.set(i * depth + k, 1.0);
      }
      return out;
    }
    default: throw Error("interpreter: not a layout op: " + std::string(ir::op_name(n.op)));
  }
}

}  // namespace loom::codegen::interp
