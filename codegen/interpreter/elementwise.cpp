#include "loom/codegen/interpreter/kernels.h"
#include "loom/ir/index_semantics.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen::interp {

namespace {

template <class Math>
Array run(const ir::Node& n, Operands in, Math& math) {
  using T = typename Math::V;
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  std::vector<std::vector<std::int64_t>> strides;
  for (const Array* a : in) strides.push_back(broadcast_strides(a->shape(), type.shape));
  std::vector<T> args(in.size());
  for_each_element(type.shape, strides, [&](std::int64_t i, const std::vector<std::int64_t>& offsets) {
    for (std::size_t k = 0; k < in.size(); ++k) args[k] = static_cast<T>(in[k]->get(offsets[k]));
    out.set(i, static_cast<double>(ir::elementwise(n.op, n.attrs, math, std::span<const T>(args))));
  });
  return out;
}

}  // namespace

std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to) {
  ir::PlainIndex ix;
  std::vector<std::int64_t> own = row_major_strides(from), strides(to.size(), 0);
  for (std::size_t d = 0; d < to.size(); ++d) {
    std::vector<std::int64_t> unit(to.size(), 0);
    unit[d] = 1;
    strides[d] = offset_of(ir::broadcast_index(ix, from, to, unit), own);
  }
  return strides;
}

Array elementwise(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  std::vector<DType> dtypes;
  for (const Array* a : in) dtypes.push_back(a->dtype());
  DType rounding = n.results[0].dtype;
  if (ir::computes_in_f32(rounding, dtypes))
    return with_math<float>(arithmetic, DType::f32, [&](auto& math) { return run(n, in, math); });
  return with_math<double>(arithmetic, DType::f64, [&](auto& math) { return run(n, in, math); });
}

}  // namespace loom::codegen::interp
