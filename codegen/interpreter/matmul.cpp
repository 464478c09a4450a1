#include "loom/codegen/interpreter/kernels.h"
#include "loom/codegen/matmul_loops.h"

namespace loom::codegen::interp {

Array matmul(const ir::Node& n, Operands in, Arithmetic& arithmetic) {
  const Array &a = *in[0], &b = *in[1];
  Array out(n.results[0].dtype, n.results[0].shape);
  auto run = [&](auto& math) {
    matmul_loops(
        n, a.shape(), b.shape(), math, [&](std::int64_t i) { return a.get(i); }, [&](std::int64_t i) { return b.get(i); },
        [&](std::int64_t i, double v) { out.set(i, v); }, /*parallel=*/false);
  };
  // The IR's matmul accumulates in its result's dtype (docs/IR.md), as oneDNN does for f32.
  if (out.dtype() == DType::f32) with_math<float>(arithmetic, DType::f32, run);
  else with_math<double>(arithmetic, DType::f64, run);
  return out;
}

}  // namespace loom::codegen::interp
