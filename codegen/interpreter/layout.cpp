#include "loom/codegen/interpreter/kernels.h"
#include "loom/ir/index_semantics.h"

namespace loom::codegen::interp {

/// Every element through ir::layout_reads, the index arithmetic the emitted kernels use.
Array layout(const ir::Node& n, Operands in) {
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  std::vector<Shape> shapes;
  std::vector<std::vector<std::int64_t>> strides;
  for (const Array* a : in) {
    shapes.push_back(a->shape());
    strides.push_back(row_major_strides(a->shape()));
  }
  ir::PlainIndex ix;
  for (std::int64_t i = 0; i < out.size(); ++i) {
    std::vector<std::int64_t> at = ir::unflatten(ix, type.shape, i);
    double value = 0.0;
    for (const ir::LayoutRead<ir::PlainIndex>& read : ir::layout_reads(ix, n, shapes, at)) {
      if (!read.taken) continue;
      value = in[read.operand]->get(offset_of(read.index, strides[read.operand]));
      if (n.op == ir::OpKind::one_hot) value = ir::one_hot_hit(ix, static_cast<std::int64_t>(value), at) ? 1.0 : 0.0;
      break;
    }
    out.set(i, value);
  }
  return out;
}

}  // namespace loom::codegen::interp
