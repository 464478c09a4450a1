#pragma once
/// The reference interpreter's kernels: plain C++ loops, one family per file, written for obviousness rather than
/// speed. They are the oracle every other backend is compared against. Their math comes from ir/ (scalar,
/// reduction and index semantics), the same definitions the LLVM emitter compiles.

#include <span>

#include "loom/codegen/interpreter/arithmetic.h"
#include "loom/ir/graph.h"
#include "loom/runtime/array.h"

namespace loom::codegen::interp {

using Operands = std::span<const Array* const>;

Array elementwise(const ir::Node& n, Operands in, Arithmetic& arithmetic);
Array reduction(const ir::Node& n, Operands in, Arithmetic& arithmetic);
Array normalize(const ir::Node& n, Operands in, Arithmetic& arithmetic);
Array softmax_cross_entropy(const ir::Node& n, Operands in, Arithmetic& arithmetic);
Array matmul(const ir::Node& n, Operands in, Arithmetic& arithmetic);
/// conv2d, the pools and their backward ops (codegen/window_loops.h).
Array window(const ir::Node& n, Operands in, Arithmetic& arithmetic);
Array layout(const ir::Node& n, Operands in);
/// random_uniform, random_normal: Philox by element position (ir/random_semantics.h), never perturbed.
Array random(const ir::Node& n, Operands in);

/// Calls fn(flat output index, offsets) for every element of `shape` in row-major order, where offsets[k] is
/// the element offset into operand k given its per-axis strides.
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

/// Per-axis strides that read an operand of shape `from` broadcast to `to`, taken from ir::broadcast_index (which
/// keeps or zeroes each coordinate, so the offset it gives is linear in the index).
std::vector<std::int64_t> broadcast_strides(const Shape& from, const Shape& to);

/// The row-major flat position of `at` given `strides` (row_major_strides of its shape).
inline std::int64_t offset_of(const std::vector<std::int64_t>& at, const std::vector<std::int64_t>& strides) {
  std::int64_t offset = 0;
  for (std::size_t d = 0; d < at.size(); ++d) offset += at[d] * strides[d];
  return offset;
}

}  // namespace loom::codegen::interp
