#pragma once
/// How the interpreter rounds: exactly as written (PlainMath, the oracle), or with Monte Carlo arithmetic
/// (Parker, "Monte Carlo Arithmetic", 1997): every arithmetic result multiplied by (1 ± 2u), the sign random, with u
/// the unit roundoff of the dtype being computed (one ulp: two backends may round the same exact value to
/// neighboring floats; a full ulp each time, rather than a uniform δ, moves results across their rounding
/// boundaries, so a few runs find the outcomes where cancellation makes a result jump). The spread of a few such runs
/// shows how far rounding moves each output: its conditioning. Differential tests and `loom-opt --compare-backends` set
/// their tolerances from it instead of guessing.

#include <cstdint>

#include "loom/ir/scalar_semantics.h"
#include "loom/runtime/philox.h"

namespace loom::codegen::interp {

/// Which arithmetic a run uses; a perturbed run draws its δ from a Philox stream keyed by the seed.
struct Arithmetic {
  /// 0: exact (PlainMath); otherwise the seed of the perturbations.
  std::uint64_t perturbation_seed = 0;
  /// Perturbations drawn so far in this run (the stream's position).
  std::uint64_t drawn = 0;
};

/// PlainMath with every arithmetic result, and every constant (a constant of the computed dtype is itself rounded),
/// perturbed by a relative ±2u. Comparisons and selections are exact (they round nothing).
template <class T>
struct PerturbedMath : ir::PlainMath<T> {
  using V = T;
  double u;
  Arithmetic* arithmetic;

  V perturb(V x) {
    std::uint64_t n = arithmetic->drawn++;
    PhiloxBlock bits = philox4x32({static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n >> 32), 0, 0},
                                  {static_cast<std::uint32_t>(arithmetic->perturbation_seed),
                                   static_cast<std::uint32_t>(arithmetic->perturbation_seed >> 32)});
    double delta = (bits[0] & 1u) ? 2.0 * u : -2.0 * u;
    return static_cast<V>(x * (1.0 + delta));
  }
  V constant(double v) { return perturb(static_cast<V>(v)); }
  V add(V a, V b) { return perturb(a + b); }
  V sub(V a, V b) { return perturb(a - b); }
  V mul(V a, V b) { return perturb(a * b); }
  V div(V a, V b) { return perturb(a / b); }
  V pow(V a, V b) { return perturb(ir::PlainMath<T>::pow(a, b)); }
  V exp(V a) { return perturb(ir::PlainMath<T>::exp(a)); }
  V expm1(V a) { return perturb(ir::PlainMath<T>::expm1(a)); }
  V log(V a) { return perturb(ir::PlainMath<T>::log(a)); }
  V log1p(V a) { return perturb(ir::PlainMath<T>::log1p(a)); }
  V sqrt(V a) { return perturb(ir::PlainMath<T>::sqrt(a)); }
  V tanh(V a) { return perturb(ir::PlainMath<T>::tanh(a)); }
  V accumulate(V acc, V x) { return perturb(acc + x); }
  V exp_nonpositive(V a) { return perturb(ir::PlainMath<T>::exp(a)); }
};

/// Unit roundoff of the dtype a value is rounded to: 2^-24 for f32, 2^-53 for f64 (0 for integers and booleans,
/// which arithmetic does not produce).
inline double unit_roundoff(DType dtype) { return dtype == DType::f32 ? 0x1p-24 : dtype == DType::f64 ? 0x1p-53 : 0.0; }

/// Calls fn(math) with the algebra over T that `arithmetic` asks for; `rounding` is the dtype whose rounding a
/// perturbation models.
template <class T, class Fn>
decltype(auto) with_math(Arithmetic& arithmetic, DType rounding, Fn&& fn) {
  if (arithmetic.perturbation_seed == 0) {
    ir::PlainMath<T> math;
    return fn(math);
  }
  PerturbedMath<T> math;
  math.u = unit_roundoff(rounding);
  math.arithmetic = &arithmetic;
  return fn(math);
}

}  // namespace loom::codegen::interp
