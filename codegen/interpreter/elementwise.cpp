#include "loom/codegen/interpreter/kernels.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen::interp {

namespace {

template <class T>
Array run(const ir::Node& n, Operands in) {
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  std::vector<std::vector<std::int64_t>> strides;
  for (const Array* a : in) strides.push_back(broadcast_strides(a->shape(), type.shape));
  ir::PlainMath<T> math;
  std::vector<T> args(in.size());
  for_each_element(type.shape, strides, [&](std::int64_t i, const std::vector<std::int64_t>& offsets) {
    for (std::size_t k = 0; k < in.size(); ++k) args[k] = static_cast<T>(in[k]->get(offsets[k]));
    out.set(i, static_cast<double>(ir::elementwise(n.op, n.attrs, math, std::span<const T>(args))));
  });
  return out;
}

}  // namespace

std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to) {
  std::vector<std::int64_t> own = row_major_strides(from), out(to.size(), 0);
  std::size_t shift = to.size() - from.size();
  for (std::size_t d = 0; d < from.size(); ++d) out[shift + d] = from[d] == 1 ? 0 : own[d];
  return out;
}

Array elementwise(const ir::Node& n, Operands in) {
  std::vector<DType> dtypes;
  for (const Array* a : in) dtypes.push_back(a->dtype());
  return ir::computes_in_f32(n.results[0].dtype, dtypes) ? run<float>(n, in) : run<double>(n, in);
}

}  // namespace loom::codegen::interp
