#pragma once
/// Finite-difference gradient checking (DESIGN §8): symbolic gradients against central differences in f64.

#include <functional>
#include <string>
#include <vector>

#include <loom/loom.h>

namespace loom::testing {

/// How test inputs are drawn, so ops whose gradient is undefined at a point are checked away from it.
enum class Domain {
  any,            ///< uniform in [-2, 2]
  positive,       ///< uniform in [0.5, 2]
  away_from_zero  ///< uniform magnitude in [0.2, 2], random sign
};

struct OpCase {
  std::string name;
  std::vector<Shape> shapes;  ///< one per differentiable input
  /// Builds the op under test; may add non-differentiable operands (labels, conditions) as shared values of g.
  std::function<Expr(Graph& g, const std::vector<Tensor>& x)> build;
  Domain domain = Domain::any;
  /// How far the JIT's f32 results may be from the interpreter's, relative and absolute: 1e-5, or 1e-4 for ops whose
  /// sums oneDNN may add in another order over many terms (convolutions).
  double f32_tolerance = 1e-5;
};

/// Random input values for a case, deterministic in `seed`.
std::vector<Array> make_inputs(const OpCase& c, DType dtype, std::uint64_t seed);

/// Builds `c` on f64 inputs, differentiates sum(out * r) for a fixed random r, and checks every gradient element
/// against central differences (eps 1e-6) with |fd - grad| <= atol + rtol * |fd| (atol 1e-5, rtol 1e-3).
/// Reports failures through Catch2.
void check_gradient(const OpCase& c, std::uint64_t seed = 7);

/// Runs the case forward on the interpreter in `dtype`; returns the outputs as f64.
std::vector<double> run_forward(const OpCase& c, DType dtype, std::uint64_t seed = 7);

}  // namespace loom::testing
