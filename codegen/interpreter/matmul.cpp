#include "loom/codegen/interpreter/kernels.h"
#include "loom/codegen/matmul_loops.h"

namespace loom::codegen::interp {

Array matmul(const ir::Node& n, Operands in) {
  const Array &a = *in[0], &b = *in[1];
  Array out(n.results[0].dtype, n.results[0].shape);
  matmul_loops(
      n, a.shape(), b.shape(), [&](std::int64_t i) { return a.get(i); }, [&](std::int64_t i) { return b.get(i); },
      [&](std::int64_t i, double v) { out.set(i, v); }, /*parallel=*/false);
  return out;
}

}  // namespace loom::codegen::interp
