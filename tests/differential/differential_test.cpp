// Differential testing on generated training steps (graph_generator.h): the JIT (O2, O0, planning off, one
// thread) and the f32 interpreter are each judged against an f64 evaluation of the same graph, with a tolerance
// that follows the problem's conditioning rather than a guess: how far Monte Carlo runs of the interpreter in the
// same dtype move each result (codegen/agreement.h). The f64 JIT is judged the same way.
//
//   LOOM_GRAPH_SEED=<seed>     replay one graph (every failure prints its seed)
//   LOOM_GRAPHS=<n>            how many graphs (default 200); LOOM_FIRST_SEED=<s> where to start (default 1)

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

#include "graph_generator.h"
#include "loom/codegen/agreement.h"

using namespace loom;
using loom::testing::GeneratedStep;
using loom::testing::GraphGenerator;

namespace {

std::uint64_t environment_number(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text ? std::strtoull(text, nullptr, 10) : fallback;
}

/// Outputs, then each shared variable after the call; the shared variables start from their initial values.
std::vector<Array> run(const Function& f, GeneratedStep& step, const std::vector<Array>& args) {
  for (auto& [tensor, initial] : step.shared) tensor.set_value(initial);
  std::vector<Array> results = f(args);
  for (auto& [tensor, initial] : step.shared) results.push_back(tensor.get_value());
  return results;
}

bool identical(const Array& a, const Array& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

/// Monte Carlo runs per dtype: a few for every result, and more before a result is called wrong (where a result
/// jumps between a few values as rounding flips a comparison or a cancellation, a few runs can all land on one).
constexpr std::size_t kFirstRuns = 4, kMostRuns = 32;

/// Relative slack beyond the Monte Carlo spread: 64 units of roundoff (transcendentals of a vector library may
/// differ from libm's by a few ulp on their own). Below the smallest normal number, results may flush to zero.
double relative_slack(DType dtype) { return dtype == DType::f64 ? 64 * 0x1p-53 : 64 * 0x1p-24; }
double absolute_slack(DType dtype) { return dtype == DType::f64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38; }

/// reference + (run - reference)·factor: a Monte Carlo run of another dtype as a deviation of this one's size.
Array scaled_deviation(const Array& reference, const Array& run, double factor) {
  Array out(reference.dtype(), reference.shape());
  for (std::int64_t i = 0; i < out.size(); ++i) out.set(i, reference.get(i) + (run.get(i) - reference.get(i)) * factor);
  return out;
}

/// Monte Carlo runs of the interpreter on one generated step, drawn as the judgement asks for them.
class MonteCarlo {
 public:
  MonteCarlo(GeneratedStep& step, const std::vector<Array>& args, std::uint64_t seed)
      : step_(step), args_(args), seed_(seed) {}

  /// Result k of each of the first n runs.
  std::vector<Array> results(std::size_t k, std::size_t n) {
    while (runs_.size() < n) {
      std::uint64_t perturbation = seed_ * 64 + runs_.size() + 1;
      runs_.push_back(run(compile(step_.inputs, step_.outputs, step_.updates,
                                  {.backend = Backend::interpreter, .perturbation_seed = perturbation}),
                          step_, args_));
    }
    std::vector<Array> out;
    for (std::size_t r = 0; r < n; ++r) out.push_back(runs_[r][k]);
    return out;
  }

 private:
  GeneratedStep& step_;
  const std::vector<Array>& args_;
  std::uint64_t seed_;
  std::vector<std::vector<Array>> runs_;
};

struct Outcome {
  double worst_ratio = 0;
  bool failed = false;
};

/// Builds graph `seed` in f32 and f64 and checks the backends on it; reports failures through Catch2. Every graph
/// runs the f32 interpreter and the f32 JIT at O2 (also on one thread, which must give the same bits); one more
/// configuration rotates with the seed, since compiling dominates the time: the JIT at O0, the JIT with memory
/// planning off (which must give the same bits as with it), or the f64 JIT.
Outcome check_seed(std::uint64_t seed) {
  Graph g32, g64;
  GeneratedStep s32 = GraphGenerator(seed, DType::f32).build(g32);
  GeneratedStep s64 = GraphGenerator(seed, DType::f64).build(g64);
  std::vector<Array> a32 = GraphGenerator::arguments(s32, seed, DType::f32);
  std::vector<Array> a64 = GraphGenerator::arguments(s64, seed, DType::f64);
  auto build = [](GeneratedStep& s, CompileOptions options) {
    return compile(s.inputs, s.outputs, s.updates, options);
  };

  std::vector<Array> reference = run(build(s64, {.opt = OptLevel::O0, .backend = Backend::interpreter}), s64, a64);
  std::vector<Array> interp32 = run(build(s32, {.backend = Backend::interpreter}), s32, a32);
  Function jit = build(s32, {.backend = Backend::jit});
  std::vector<Array> jit32 = run(jit, s32, a32);
  std::vector<Array> one_thread = run(build(s32, {.backend = Backend::jit, .threads = 1}), s32, a32);

  /// A result judged against the f64 reference. A backend's tolerance comes from every other f32 evaluation
  /// (the exact interpreter and its Monte Carlo runs); the interpreter's own from its Monte Carlo runs.
  struct Candidate {
    std::string what;
    Function function;
    std::vector<Array> got;
    DType dtype;
    bool is_interpreter = false;
  };
  Function interp32_function = build(s32, {.backend = Backend::interpreter});
  std::vector<Candidate> candidates = {{"f32 interpreter (O2)", interp32_function, interp32, DType::f32, true},
                                       {"f32 JIT (O2)", jit, jit32, DType::f32}};
  std::vector<std::pair<std::string, std::vector<Array>>> same_bits = {{"the JIT on 1 thread", one_thread}};
  switch (seed % 3) {
    case 0: {
      Function o0 = build(s32, {.opt = OptLevel::O0, .backend = Backend::jit});
      candidates.push_back({"f32 JIT (O0)", o0, run(o0, s32, a32), DType::f32});
      break;
    }
    case 1:
      same_bits.push_back(
          {"the JIT with planning off", run(build(s32, {.backend = Backend::jit, .plan_memory = false}), s32, a32)});
      break;
    default: {
      Function jit64 = build(s64, {.backend = Backend::jit});
      candidates.push_back({"f64 JIT (O2)", jit64, run(jit64, s64, a64), DType::f64});
    }
  }
  // The exact interpreter and its Monte Carlo runs in each dtype judged.
  std::map<DType, std::vector<Array>> exact{{DType::f32, interp32}};
  if (seed % 3 == 2) exact[DType::f64] = run(build(s64, {.backend = Backend::interpreter}), s64, a64);
  std::map<DType, MonteCarlo> monte_carlo;
  monte_carlo.emplace(DType::f32, MonteCarlo(s32, a32, seed));
  monte_carlo.emplace(DType::f64, MonteCarlo(s64, a64, seed));
  auto judge = [&](const Candidate& c, std::size_t k, std::size_t runs) {
    std::vector<Array> spread = monte_carlo.at(c.dtype).results(k, runs);
    if (!c.is_interpreter) spread.push_back(exact.at(c.dtype)[k]);
    if (c.dtype == DType::f64)  // f32's runs, scaled to f64's roundoff, find more of the ties rounding can flip
      for (const Array& r : monte_carlo.at(DType::f32).results(k, runs))
        spread.push_back(scaled_deviation(reference[k], r, 0x1p-29));
    return codegen::disagreement(reference[k], exact.at(c.dtype)[k], spread, c.got[k], relative_slack(c.dtype),
                                 absolute_slack(c.dtype));
  };

  std::vector<std::string> names = s32.output_names;
  names.push_back("w after the update");
  names.push_back("s after the update");
  names.push_back("the step counter after the call");
  Outcome outcome;
  std::string context = fmt::format("graph seed {} ({}); replay with LOOM_GRAPH_SEED={}", seed, s32.summary, seed);
  for (const Candidate& c : candidates)
    for (std::size_t k = 0; k < reference.size(); ++k) {
      codegen::Disagreement j = judge(c, k, kFirstRuns);
      if (j.ratio > 1) j = judge(c, k, kMostRuns);
      outcome.worst_ratio = std::max(outcome.worst_ratio, j.ratio);
      if (j.ratio <= 1) continue;
      outcome.failed = true;
      FAIL_CHECK(
          fmt::format("{}\n{}: {} is off: {}\nits IR:\n{}", context, c.what, names[k], j.detail, c.function.ir()));
    }
  for (const auto& [what, results] : same_bits)
    for (std::size_t k = 0; k < jit32.size(); ++k)
      if (!identical(jit32[k], results[k])) {
        outcome.failed = true;
        FAIL_CHECK(fmt::format("{}\n{}: {} differs in its bits from the JIT at O2", context, names[k], what));
      }
  return outcome;
}

}  // namespace

TEST_CASE("generated training steps: JIT and interpreter agree with an f64 evaluation of the same graph", "[jit]") {
  if (const char* replay = std::getenv("LOOM_GRAPH_SEED")) {
    check_seed(std::strtoull(replay, nullptr, 10));
    return;
  }
  std::uint64_t first = environment_number("LOOM_FIRST_SEED", 1), count = environment_number("LOOM_GRAPHS", 200);
  auto start = std::chrono::steady_clock::now();
  double worst = 0;
  std::uint64_t failed = 0;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    Outcome outcome = check_seed(seed);
    worst = std::max(worst, outcome.worst_ratio);
    failed += outcome.failed ? 1 : 0;
    if ((seed - first + 1) % 100 == 0 || seed + 1 == first + count) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print(
          stderr,
          "differential: {} of {} graphs (seeds {}..{}), {} failed, worst error {:.3f} of its tolerance, {:.0f} s\n",
          seed - first + 1, count, first, seed, failed, worst, seconds);
    }
  }
  CHECK(failed == 0);
}
