#pragma once
/// The math of reductions and of row ops (softmax, log_softmax, softmax cross-entropy), written once over the
/// scalar algebra of scalar_semantics.h. The interpreter and the LLVM emitter run the same steps in the same
/// order within a row; only how the loops are laid out differs (the emitter's sums may reassociate, see
/// `accumulate`).
///
/// Besides what scalar_semantics.h lists, the algebra S provides: any(B, B) -> B; accumulate(V acc, V x) -> V, an
/// addition whose order over a row the backend may change (the emitter keeps vector partial sums);
/// exp_nonpositive(V) -> V, exp for arguments <= 0 or NaN (the emitter's f32 rows use an inline polynomial).

#include <limits>

#include "loom/ir/op_table.h"

namespace loom::ir {

/// The state of a reduction over one row: the value so far and, for argmax, its position (-1: none yet).
template <class S>
struct Accumulator {
  typename S::V value, position;
};

/// The state before the first element. logsumexp starts as max (its first pass finds the row's peak).
template <class S>
Accumulator<S> reduction_start(OpKind op, S& s) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (op) {
    case OpKind::sum:
      return {s.constant(0.0), s.constant(-1.0)};
    case OpKind::max:
    case OpKind::argmax:
    case OpKind::logsumexp:
      return {s.constant(-kInf), s.constant(-1.0)};
    case OpKind::min:
      return {s.constant(kInf), s.constant(-1.0)};
    default:
      throw Error("reduction_start: " + std::string(op_name(op)) + " is not a reduction");
  }
}

/// The larger of a row's peak so far and x; NaN never becomes the peak (std::max's semantics). Exact, so any
/// order of a row gives the same peak.
template <class S>
typename S::V peak_step(S& s, typename S::V peak, typename S::V x) {
  return s.select(s.gt(x, peak), x, peak);
}

/// Folds element x (at `position` along the row, for argmax) into the state. max and min propagate NaN; argmax
/// keeps the first largest.
template <class S>
Accumulator<S> reduction_step(OpKind op, S& s, Accumulator<S> acc, typename S::V x, typename S::V position) {
  switch (op) {
    case OpKind::sum:
      return {s.accumulate(acc.value, x), acc.position};
    case OpKind::max:
      return {s.select(s.any(s.ne(x, x), s.gt(x, acc.value)), x, acc.value), acc.position};
    case OpKind::min:
      return {s.select(s.any(s.ne(x, x), s.lt(x, acc.value)), x, acc.value), acc.position};
    case OpKind::logsumexp:
      return {peak_step(s, acc.value, x), acc.position};
    case OpKind::argmax: {
      auto take = s.any(s.lt(acc.position, s.constant(0.0)), s.gt(x, acc.value));
      return {s.select(take, x, acc.value), s.select(take, position, acc.position)};
    }
    default:
      throw Error("reduction_step: " + std::string(op_name(op)) + " is not a reduction");
  }
}

/// The result after the last element (logsumexp: see logsumexp_result). (Type inference refuses argmax over an
/// empty axis, which has no answer.)
template <class S>
typename S::V reduction_result(OpKind op, S&, const Accumulator<S>& acc) {
  return op == OpKind::argmax ? acc.position : acc.value;
}

/// Whether x is neither infinite nor NaN.
template <class S>
typename S::B finite(S& s, typename S::V x) {
  return s.lt(s.abs(x), s.constant(std::numeric_limits<double>::infinity()));
}

/// logsumexp's second pass: each element's share of the total, exp(x - peak); nothing when the peak is not finite.
template <class S>
typename S::V logsumexp_term(S& s, typename S::V x, typename S::V peak) {
  return s.select(finite(s, peak), s.exp(s.sub(x, peak)), s.constant(0.0));
}

/// peak + log(total), or the peak itself when it is not finite (±inf, NaN, or an empty row's -inf).
template <class S>
typename S::V logsumexp_result(S& s, typename S::V peak, typename S::V total) {
  return s.select(finite(s, peak), s.add(peak, s.log(total)), peak);
}

// Row ops: one row is the elements along the op's axis. Pass 1 finds the peak (peak_step), pass 2 sums
// exp(x - peak) (softmax_exp, accumulated), pass 3 writes the outputs.

/// exp(x - peak): at most 1, so it never overflows.
template <class S>
typename S::V softmax_exp(S& s, typename S::V x, typename S::V peak) {
  return s.exp_nonpositive(s.sub(x, peak));
}

/// softmax = exp(x - peak) · (1 / total): one division per row, a multiplication per element.
template <class S>
typename S::V softmax_scale(S& s, typename S::V total) {
  return s.div(s.constant(1.0), total);
}

template <class S>
typename S::V softmax_value(S& s, typename S::V e, typename S::V scale) {
  return s.mul(e, scale);
}

/// log_softmax = (x - peak) - log(total).
template <class S>
typename S::V log_softmax_value(S& s, typename S::V x, typename S::V peak, typename S::V log_total) {
  return s.sub(s.sub(x, peak), log_total);
}

/// The cross-entropy of a row whose label picks logit `picked`: peak + log(total) - picked.
template <class S>
typename S::V cross_entropy_value(S& s, typename S::V peak, typename S::V total, typename S::V picked) {
  return s.sub(s.add(peak, s.log(total)), picked);
}

}  // namespace loom::ir
