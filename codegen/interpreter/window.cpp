#include "loom/codegen/interpreter/kernels.h"
#include "loom/codegen/window_loops.h"

namespace loom::codegen::interp {

Array window(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  Array out(n.results[0].dtype, n.results[0].shape);
  const Shape* second = in.size() > 1 ? &in[1]->shape() : nullptr;
  ir::Window2d w = ir::window_of(n, in[0]->shape(), second);
  auto run = [&]<class T>(auto& math, T*) {
    const T* b = in.size() > 1 ? static_cast<const T*>(in[1]->raw()) : nullptr;
    window_loops(n, w, math, static_cast<const T*>(in[0]->raw()), b, static_cast<T*>(out.raw()), /*parallel=*/false);
  };
  // Sums accumulate in the result's dtype (docs/IR.md), as oneDNN does for f32.
  if (out.dtype() == DType::f32) with_math<float>(arithmetic, DType::f32, [&](auto& math) { run(math, static_cast<float*>(nullptr)); });
  else with_math<double>(arithmetic, DType::f64, [&](auto& math) { run(math, static_cast<double*>(nullptr)); });
  return out;
}

}  // namespace loom::codegen::interp
