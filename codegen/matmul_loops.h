#pragma once
/// The matmul loop nest written once: the interpreter's oracle and the JIT's f64 kernel (oneDNN is f32-only)
/// both use it, so their results are identical. Handles the transpose flags, batched lhs, and a 1-D, 2-D or
/// batched rhs. Accumulation follows the IR's matmul semantics (docs/IR.md): in the result's dtype (the algebra
/// `math` over float for f32, as oneDNN accumulates), adding the products in increasing order of the inner index.

#include <cstdint>

#include "loom/ir/graph.h"

namespace loom::codegen {

/// load_a(offset), load_b(offset) read elements as double; store(offset, value) writes the result; `math` is a
/// scalar algebra (ir/scalar_semantics.h) whose mul and accumulate make each step. With `parallel`, rows are split
/// over OpenMP threads (each output element is still computed alone, in order; `math` must then be stateless).
template <class Math, class LoadA, class LoadB, class Store>
void matmul_loops(const ir::Node& n, const Shape& a, const Shape& b, Math& math, LoadA load_a, LoadB load_b, Store store,
                  bool parallel) {
  using Acc = typename Math::V;
  bool ta = n.attrs.get_int("transpose_a") != 0, tb = n.attrs.get_int("transpose_b") != 0;
  bool b_vector = b.size() == 1, b_batched = b.size() == 3;
  std::int64_t batches = a.size() == 3 ? a[0] : 1;
  std::int64_t a_rows = a[a.size() - 2], a_cols = a.back();
  std::int64_t m = ta ? a_cols : a_rows, k = ta ? a_rows : a_cols;
  std::int64_t b_rows = b_vector ? b[0] : b[b.size() - 2], b_cols = b_vector ? 1 : b.back();
  std::int64_t cols = (tb && !b_vector) ? b_rows : b_cols;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (std::int64_t p = 0; p < batches; ++p)
    for (std::int64_t i = 0; i < m; ++i) {
      std::int64_t a_base = p * a_rows * a_cols, b_base = b_batched ? p * b_rows * b_cols : 0;
      for (std::int64_t j = 0; j < cols; ++j) {
        Acc acc = 0;
        for (std::int64_t q = 0; q < k; ++q)
          acc = math.accumulate(acc, math.mul(static_cast<Acc>(load_a(a_base + (ta ? q * a_cols + i : i * a_cols + q))),
                                              static_cast<Acc>(load_b(b_base + ((tb && !b_vector) ? j * b_cols + q : q * b_cols + j)))));
        store((p * m + i) * cols + j, static_cast<double>(acc));
      }
    }
}

}  // namespace loom::codegen
