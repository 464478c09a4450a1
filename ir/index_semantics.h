#pragma once
/// Index arithmetic written once: which element of an operand a layout op, a broadcast or a row of a reduction
/// reads for a given element of its result. The interpreter instantiates it with plain integers (PlainIndex); the
/// LLVM emitter with i64 LLVM values, so the two cannot drift (scalar_semantics.h does the same for elementwise
/// math, reduce_semantics.h for reductions and rows).
///
/// An index algebra I provides: V (an index) and B (a truth value); constant(int64) -> V; add sub mul (V, V) -> V;
/// div rem (V, V) -> V for a non-negative dividend and a positive divisor; lt ge eq (V, V) -> B; both(B, B) -> B;
/// truth(bool) -> B; select(B, V, V) -> V.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::ir {

template <class I>
using IndexOf = std::vector<typename I::V>;

/// The row-major position of `at` in `shape`.
template <class I>
typename I::V flatten(I& ix, const Shape& shape, const IndexOf<I>& at) {
  std::vector<std::int64_t> strides = row_major_strides(shape);
  typename I::V flat = ix.constant(0);
  for (std::size_t d = 0; d < at.size(); ++d) flat = ix.add(flat, ix.mul(at[d], ix.constant(strides[d])));
  return flat;
}

/// Writes the index of position `flat` of the dimensions `axes` of `shape`, counted row-major over those
/// dimensions, into at[axes[k]]. A reduction's rows are its kept axes, the elements of a row its reduced axes.
template <class I>
void unflatten_into(I& ix, const Shape& shape, std::span<const std::size_t> axes, typename I::V flat, IndexOf<I>& at) {
  for (std::size_t k = axes.size(); k-- > 0;) {
    typename I::V dim = ix.constant(shape[axes[k]]);
    at[axes[k]] = k == 0 ? flat : ix.rem(flat, dim);
    if (k > 0) flat = ix.div(flat, dim);
  }
}

/// How a reduction or row op walks its operand (of shape `space`): one row per position of the `kept` axes, and
/// within a row the `along` axes (the reduced axes, or the row op's axis) in row-major order.
struct RowSplit {
  std::vector<std::size_t> kept, along;
  std::int64_t rows = 1, length = 1;
  bool operator==(const RowSplit&) const = default;
};

/// Splits `space` into rows along `along_axes` (sorted, non-negative).
inline RowSplit split_rows(const Shape& space, std::span<const std::int64_t> along_axes) {
  RowSplit split;
  for (std::size_t d = 0; d < space.size(); ++d) {
    bool along = std::find(along_axes.begin(), along_axes.end(), static_cast<std::int64_t>(d)) != along_axes.end();
    (along ? split.along : split.kept).push_back(d);
    (along ? split.length : split.rows) *= space[d];
  }
  return split;
}

/// The index of position `flat` of `shape` (row-major).
template <class I>
IndexOf<I> unflatten(I& ix, const Shape& shape, typename I::V flat) {
  IndexOf<I> at(shape.size(), ix.constant(0));
  std::vector<std::size_t> all(shape.size());
  for (std::size_t d = 0; d < all.size(); ++d) all[d] = d;
  unflatten_into(ix, shape, all, flat, at);
  return at;
}

/// NumPy broadcasting: the element of an operand of shape `from` that element `at` of a result of shape `to`
/// reads. Dimensions align right; a size-1 dimension the result stretches reads index 0.
template <class I>
IndexOf<I> broadcast_index(I& ix, const Shape& from, const Shape& to, const IndexOf<I>& at) {
  IndexOf<I> index(from.size(), ix.constant(0));
  std::size_t shift = to.size() - from.size();
  for (std::size_t d = 0; d < from.size(); ++d)
    if (!(from[d] == 1 && to[d + shift] != 1)) index[d] = at[d + shift];
  return index;
}

/// One element a layout op may read for an element of its result: the element of operand `operand` at `index`,
/// taken when `taken` holds. The index is inside the operand even when not taken, so a backend may load it
/// unconditionally.
template <class I>
struct LayoutRead {
  std::size_t operand;
  IndexOf<I> index;
  typename I::B taken;
};

/// The reads of element `at` of layout node `n` (operand shapes `operands`). The element is the value of the
/// first read taken, or zero when none is (pad's fill). one_hot reads its index operand here; whether the
/// element is 1 is one_hot_hit below.
template <class I>
std::vector<LayoutRead<I>> layout_reads(I& ix, const Node& n, std::span<const Shape> operands, const IndexOf<I>& at) {
  const Shape& to = n.results[0].shape;
  switch (n.op) {
    case OpKind::broadcast_to:
      return {{0, broadcast_index(ix, operands[0], to, at), ix.truth(true)}};
    case OpKind::transpose: {
      const auto& perm = n.attrs.get_ints("perm");
      IndexOf<I> index(at.size(), ix.constant(0));
      for (std::size_t d = 0; d < perm.size(); ++d) index[static_cast<std::size_t>(perm[d])] = at[d];
      return {{0, index, ix.truth(true)}};
    }
    case OpKind::reshape:
      return {{0, unflatten(ix, operands[0], flatten(ix, to, at)), ix.truth(true)}};
    case OpKind::slice: {
      const auto &begin = n.attrs.get_ints("begin"), &step = n.attrs.get_ints("step");
      IndexOf<I> index(at.size(), ix.constant(0));
      for (std::size_t d = 0; d < at.size(); ++d)
        index[d] = ix.add(ix.constant(begin[d]), ix.mul(at[d], ix.constant(step[d])));
      return {{0, index, ix.truth(true)}};
    }
    case OpKind::pad: {  // an operand element sits at low + i·(interior + 1)
      const auto &low = n.attrs.get_ints("low"), &interior = n.attrs.get_ints("interior");
      typename I::B inside = ix.truth(true);
      IndexOf<I> index(at.size(), ix.constant(0));
      for (std::size_t d = 0; d < at.size(); ++d) {
        typename I::V gap = ix.constant(interior[d] + 1), shifted = ix.sub(at[d], ix.constant(low[d]));
        typename I::B after_low = ix.ge(shifted, ix.constant(0));
        typename I::V t = ix.select(after_low, shifted, ix.constant(0));
        typename I::V i = ix.div(t, gap);
        inside = ix.both(inside, ix.both(after_low, ix.both(ix.eq(ix.rem(t, gap), ix.constant(0)),
                                                            ix.lt(i, ix.constant(operands[0][d])))));
        index[d] = i;
      }
      for (auto& i : index) i = ix.select(inside, i, ix.constant(0));
      return {{0, index, inside}};
    }
    case OpKind::concat: {  // the part whose range along the axis holds the position
      auto axis = static_cast<std::size_t>(n.attrs.get_int("axis"));
      std::vector<LayoutRead<I>> reads;
      std::int64_t offset = 0;
      for (std::size_t k = 0; k < operands.size(); ++k) {
        typename I::V local = ix.sub(at[axis], ix.constant(offset));
        typename I::B mine = ix.both(ix.ge(local, ix.constant(0)), ix.lt(local, ix.constant(operands[k][axis])));
        IndexOf<I> index = at;
        index[axis] = ix.select(mine, local, ix.constant(0));
        reads.push_back({k, index, mine});
        offset += operands[k][axis];
      }
      return reads;
    }
    case OpKind::one_hot:
      return {{0, IndexOf<I>(at.begin(), at.end() - 1), ix.truth(true)}};
    default:
      throw Error("layout_reads: " + std::string(op_name(n.op)) + " is not a layout op");
  }
}

/// Whether element `at` of a one_hot result is 1, given the index it read (indices outside [0, depth) give an
/// all-zero row, as in TensorFlow and JAX).
template <class I>
typename I::B one_hot_hit(I& ix, typename I::V index, const IndexOf<I>& at) {
  return ix.eq(index, at.back());
}

/// The index algebra over plain integers: the interpreter's.
struct PlainIndex {
  using V = std::int64_t;
  using B = bool;
  V constant(std::int64_t v) { return v; }
  V add(V a, V b) { return a + b; }
  V sub(V a, V b) { return a - b; }
  V mul(V a, V b) { return a * b; }
  V div(V a, V b) { return a / b; }
  V rem(V a, V b) { return a % b; }
  B lt(V a, V b) { return a < b; }
  B ge(V a, V b) { return a >= b; }
  B eq(V a, V b) { return a == b; }
  B both(B a, B b) { return a && b; }
  B truth(bool v) { return v; }
  V select(B c, V a, V b) { return c ? a : b; }
};

}  // namespace loom::ir
