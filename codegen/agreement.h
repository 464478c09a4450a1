#pragma once
/// Whether a backend's result agrees with a reference, judged against how far rounding moves that result rather
/// than against a fixed guess. The rounding noise comes from Monte Carlo runs of the interpreter
/// (InterpreterOptions::perturbation_seed): where the math cancels or is ill-conditioned they spread, and the
/// tolerance widens with them; where it is well-conditioned they do not, and it stays tight. Used by
/// `loom-opt --compare-backends` and by the differential tests.

#include <cstdint>
#include <span>
#include <string>

#include "loom/runtime/array.h"

namespace loom::codegen {

/// How much a result disagrees, as a multiple of its tolerance (agrees: ratio <= 1).
struct Disagreement {
  double ratio = 0;
  std::int64_t element = -1;
  /// "element 3 of f32[4,7]: got ..., reference ..., tolerance ... (...)"; empty when the ratio is 0.
  std::string detail;
};

/// How many multiples of the Monte Carlo spread a backend's rounding may move a result.
inline constexpr double kSpreadFactor = 16.0;

/// Element by element, |got - reference| <= rel·|reference| + kSpreadFactor·spread + abs, where spread is the
/// largest distance of a `perturbed` result from the reference at that element. `exact` is the exact interpreter
/// in got's dtype (the reference itself when they share a dtype): where it or the reference is not finite, got
/// must be the same non-finite value (NaN, or an infinity of the same sign).
Disagreement disagreement(const Array& reference, const Array& exact, std::span<const Array> perturbed,
                          const Array& got, double rel, double abs);

}  // namespace loom::codegen
