#include <cmath>

#include "loom/codegen/interpreter/kernels.h"
#include "loom/codegen/scalar_semantics.h"

namespace loom::codegen::interp {

namespace {

/// The scalar algebra over a plain C++ floating type.
template <class T>
struct PlainMath {
  using V = T;
  using B = bool;
  V constant(double v) { return static_cast<V>(v); }
  V add(V a, V b) { return a + b; }
  V sub(V a, V b) { return a - b; }
  V mul(V a, V b) { return a * b; }
  V div(V a, V b) { return a / b; }
  V pow(V a, V b) { return std::pow(a, b); }
  V neg(V a) { return -a; }
  V exp(V a) { return std::exp(a); }
  V expm1(V a) { return std::expm1(a); }
  V log(V a) { return std::log(a); }
  V log1p(V a) { return std::log1p(a); }
  V sqrt(V a) { return std::sqrt(a); }
  V tanh(V a) { return std::tanh(a); }
  V abs(V a) { return std::fabs(a); }
  B lt(V a, V b) { return a < b; }
  B le(V a, V b) { return a <= b; }
  B gt(V a, V b) { return a > b; }
  B ge(V a, V b) { return a >= b; }
  B eq(V a, V b) { return a == b; }
  B ne(V a, V b) { return a != b; }
  V select(B c, V a, V b) { return c ? a : b; }
  V from_bool(B c) { return c ? V(1) : V(0); }
  B is_true(V a) { return a != V(0); }
};

template <class T>
Array run(const ir::Node& n, Operands in) {
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  std::vector<std::vector<std::int64_t>> strides;
  for (const Array* a : in) strides.push_back(broadcast_strides(a->shape(), type.shape));
  PlainMath<T> math;
  std::vector<T> args(in.size());
  for_each_element(type.shape, strides, [&](std::int64_t i, const std::vector<std::int64_t>& offsets) {
    for (std::size_t k = 0; k < in.size(); ++k) args[k] = static_cast<T>(in[k]->get(offsets[k]));
    out.set(i, static_cast<double>(codegen::elementwise(n.op, n.attrs, math, std::span<const T>(args))));
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
  // f32 math stays in float, as a compiled kernel would compute it; everything else computes in double.
  bool all_f32 = n.results[0].dtype != DType::f64 && n.results[0].dtype != DType::i32 && n.results[0].dtype != DType::i64;
  for (const Array* a : in) all_f32 = all_f32 && (a->dtype() == DType::f32 || a->dtype() == DType::b8);
  return all_f32 ? run<float>(n, in) : run<double>(n, in);
}

}  // namespace loom::codegen::interp
