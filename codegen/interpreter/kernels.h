#pragma once
/// The reference interpreter's kernels: plain C++ loops, one family per file, written for obviousness rather than
/// speed. They are the oracle every other backend is compared against.

#include <span>

#include "loom/ir/graph.h"
#include "loom/runtime/array.h"

namespace loom::codegen::interp {

using Operands = std::span<const Array* const>;

Array elementwise(const ir::Node& n, Operands in);
Array reduction(const ir::Node& n, Operands in);
Array normalize(const ir::Node& n, Operands in);
Array softmax_cross_entropy(const ir::Node& n, Operands in);
Array matmul(const ir::Node& n, Operands in);
Array layout(const ir::Node& n, Operands in);

/// Calls fn(flat output index, offsets) for every element of `shape` in row-major order, where offsets[k] is
/// the element offset into operand k given its per-axis strides (stride 0 on broadcast axes).
template <class Fn>
void for_each_element(const Shape& shape, const std::vector<std::vector<std::int64_t>>& strides, Fn&& fn) {
  const std::size_t rank = shape.size(), n = strides.size();
  std::int64_t total = num_elements(shape);
  std::vector<std::int64_t> index(rank, 0), offsets(n, 0);
  for (std::int64_t flat = 0; flat < total; ++flat) {
    fn(flat, offsets);
    for (std::size_t d = rank; d-- > 0;) {
      ++index[d];
      for (std::size_t k = 0; k < n; ++k) offsets[k] += strides[k][d];
      if (index[d] < shape[d]) break;
      for (std::size_t k = 0; k < n; ++k) offsets[k] -= strides[k][d] * index[d];
      index[d] = 0;
    }
  }
}

/// Strides that read an operand of shape `from` as if broadcast to `to` (0 on broadcast axes).
std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to);

}  // namespace loom::codegen::interp
