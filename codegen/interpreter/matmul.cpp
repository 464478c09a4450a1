#include "loom/codegen/interpreter/kernels.h"

namespace loom::codegen::interp {

Array matmul(const ir::Node& n, Operands in) {
  const Array &a = *in[0], &b = *in[1];
  const TensorType& type = n.results[0];
  bool ta = n.attrs.get_int("transpose_a") != 0, tb = n.attrs.get_int("transpose_b") != 0;
  bool batched = a.rank() == 3, b_batched = b.rank() == 3, b_vector = b.rank() == 1;
  std::int64_t batches = batched ? a.shape()[0] : 1;
  std::int64_t a_rows = a.shape()[a.rank() - 2], a_cols = a.shape()[a.rank() - 1];
  std::int64_t m = ta ? a_cols : a_rows, k = ta ? a_rows : a_cols;
  std::int64_t b_rows = b_vector ? b.shape()[0] : b.shape()[b.rank() - 2];
  std::int64_t b_cols = b_vector ? 1 : b.shape()[b.rank() - 1];
  std::int64_t cols = (tb && !b_vector) ? b_rows : b_cols;
  Array out(type.dtype, type.shape);
  for (std::int64_t p = 0; p < batches; ++p) {
    std::int64_t a_base = p * a_rows * a_cols, b_base = b_batched ? p * b_rows * b_cols : 0;
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < cols; ++j) {
        double acc = 0.0;
        for (std::int64_t q = 0; q < k; ++q) {
          double av = a.get(a_base + (ta ? q * a_cols + i : i * a_cols + q));
          double bv = b.get(b_base + ((tb && !b_vector) ? j * b_cols + q : q * b_cols + j));
          acc += av * bv;
        }
        out.set((p * m + i) * cols + j, acc);
      }
  }
  return out;
}

}  // namespace loom::codegen::interp
