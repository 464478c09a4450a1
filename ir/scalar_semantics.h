#pragma once
/// The math of every elementwise op, written once over a "scalar algebra" S. The interpreter instantiates it with
/// plain float/double; the LLVM emitter (#4) instantiates it with a builder whose values are llvm::Value*. Adding
/// an elementwise op means: its row in ops.def, its case here, its gradient rule.
///
/// S provides: types V (a number) and B (a truth value); constant(double); add sub mul div pow; neg exp expm1 log
/// log1p sqrt tanh abs; lt le gt ge eq ne (V, V -> B); select(B, V, V); from_bool(B) -> V (1 or 0);
/// is_true(V) -> B (V != 0). Reductions and rows (reduce_semantics.h) also use any, accumulate and
/// exp_nonpositive; random numbers (random_semantics.h) cos.

#include <cmath>
#include <span>

#include "loom/ir/attribute_schema.h"
#include "loom/ir/attributes.h"
#include "loom/ir/dtype.h"
#include "loom/ir/error.h"
#include "loom/ir/op_table.h"

namespace loom::ir {

template <class S>
typename S::V sigmoid_of(S& s, typename S::V x) {
  return s.div(s.constant(1.0), s.add(s.constant(1.0), s.exp(s.neg(x))));
}

template <class S>
typename S::V elementwise(OpKind op, const Attrs& attrs, S& s, std::span<const typename S::V> x) {

  auto zero = [&] { return s.constant(0.0); };
  auto positive = [&] { return s.gt(x[0], zero()); };
  switch (op) {
    case OpKind::add: return s.add(x[0], x[1]);
    case OpKind::sub: return s.sub(x[0], x[1]);
    case OpKind::mul: return s.mul(x[0], x[1]);
    case OpKind::div: return s.div(x[0], x[1]);
    case OpKind::pow: return s.pow(x[0], x[1]);
    case OpKind::maximum: return s.select(s.ge(x[0], x[1]), x[0], x[1]);
    case OpKind::minimum: return s.select(s.le(x[0], x[1]), x[0], x[1]);
    case OpKind::eq: return s.from_bool(s.eq(x[0], x[1]));
    case OpKind::ne: return s.from_bool(s.ne(x[0], x[1]));
    case OpKind::lt: return s.from_bool(s.lt(x[0], x[1]));
    case OpKind::le: return s.from_bool(s.le(x[0], x[1]));
    case OpKind::gt: return s.from_bool(s.gt(x[0], x[1]));
    case OpKind::ge: return s.from_bool(s.ge(x[0], x[1]));
    case OpKind::where: return s.select(s.is_true(x[0]), x[1], x[2]);
    case OpKind::cast: return x[0];  // the conversion happens when the result is stored
    case OpKind::stop_gradient:
    case OpKind::copy: return x[0];
    case OpKind::neg: return s.neg(x[0]);
    case OpKind::exp: return s.exp(x[0]);
    case OpKind::log: return s.log(x[0]);
    case OpKind::log1p: return s.log1p(x[0]);
    case OpKind::sqrt: return s.sqrt(x[0]);
    case OpKind::rsqrt: return s.div(s.constant(1.0), s.sqrt(x[0]));
    case OpKind::abs: return s.abs(x[0]);
    case OpKind::sign: return s.sub(s.from_bool(positive()), s.from_bool(s.lt(x[0], zero())));
    case OpKind::square: return s.mul(x[0], x[0]);
    case OpKind::sigmoid: return sigmoid_of(s, x[0]);
    case OpKind::tanh: return s.tanh(x[0]);
    case OpKind::relu: return s.select(positive(), x[0], zero());
    case OpKind::leaky_relu:
      return s.select(positive(), x[0], s.mul(s.constant(float_attr(OpKind::leaky_relu, attrs, "alpha")), x[0]));
    case OpKind::elu:
      return s.select(positive(), x[0], s.mul(s.constant(float_attr(OpKind::elu, attrs, "alpha")), s.expm1(x[0])));
    case OpKind::selu:
      return s.mul(s.constant(kSeluScale),
                   s.select(positive(), x[0], s.mul(s.constant(kSeluAlpha), s.expm1(x[0]))));
    case OpKind::softplus:  // max(x, 0) + log1p(exp(-|x|)): never overflows
      return s.add(s.select(positive(), x[0], zero()), s.log1p(s.exp(s.neg(s.abs(x[0])))));
    case OpKind::swish: return s.mul(x[0], sigmoid_of(s, x[0]));
    default: throw Error(std::string("elementwise: ") + std::string(op_name(op)) + " is not elementwise");
  }
}

/// The scalar algebra over a plain C++ floating type: the interpreter's kernels and constant folding use it.
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
  V cos(V a) { return std::cos(a); }
  V abs(V a) { return std::fabs(a); }
  B lt(V a, V b) { return a < b; }
  B le(V a, V b) { return a <= b; }
  B gt(V a, V b) { return a > b; }
  B ge(V a, V b) { return a >= b; }
  B eq(V a, V b) { return a == b; }
  B ne(V a, V b) { return a != b; }
  B any(B a, B b) { return a || b; }
  V select(B c, V a, V b) { return c ? a : b; }
  V from_bool(B c) { return c ? V(1) : V(0); }
  B is_true(V a) { return a != V(0); }
  V accumulate(V acc, V x) { return acc + x; }
  V exp_nonpositive(V a) { return std::exp(a); }
};

/// Whether an elementwise node computes in float (f32 math, as compiled kernels do) rather than double.
inline bool computes_in_f32(DType result, std::span<const DType> operands) {
  bool f32 = result == DType::f32 || result == DType::b8;
  for (DType d : operands) f32 = f32 && (d == DType::f32 || d == DType::b8);
  return f32;
}

}  // namespace loom::ir
