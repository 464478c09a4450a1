#include "compare_backends.h"

#include <fmt/format.h>

#include <cstdio>
#include <map>

#include "loom/codegen/agreement.h"
#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/jit_executable.h"
#include "loom/ir/memory_plan.h"

namespace loom::tools {

namespace {

/// Every step's results of one run, by node.
using Trace = std::map<ir::NodeId, std::vector<Array>>;

codegen::StepObserver recorder(Trace& trace) {
  return [&trace](ir::NodeId id, std::span<const Array> results) { trace[id].assign(results.begin(), results.end()); };
}

/// Relative slack beyond the Monte Carlo spread: 64 units of roundoff of the dtype (transcendentals of a vector
/// library may differ from libm's by a few ulp on their own).
double relative_slack(DType dtype) { return dtype == DType::f64 ? 64 * 0x1p-53 : 64 * 0x1p-24; }
/// Below the smallest normal number, results may flush to zero.
double absolute_slack(DType dtype) { return dtype == DType::f64 ? 2.2250738585072014e-308 : 1.1754943508222875e-38; }

codegen::Disagreement judge(const Array& exact, const std::vector<const Array*>& perturbed, const Array& got) {
  std::vector<Array> runs;
  for (const Array* p : perturbed) runs.push_back(*p);
  return codegen::disagreement(exact, exact, runs, got, relative_slack(got.dtype()), absolute_slack(got.dtype()));
}

std::string describe_step(const ir::Graph& g, ir::NodeId id) {
  const ir::Node& n = g.node(id);
  std::string what = n.op == ir::OpKind::fused
                         ? fmt::format("kernel {} ({})", n.attrs.get_string("kernel"), n.attrs.get_string("kind"))
                         : std::string(ir::op_name(n.op));
  return fmt::format("{} (node %{}{})", what, id, n.loc.known() ? ", " + n.loc.str() : "");
}

}  // namespace

int compare_backends(const ir::Graph& planned, const std::vector<Array>& inputs, const std::vector<Array>& state) {
  constexpr int kPerturbedRuns = 3;
  Trace exact_trace, jit_trace;
  std::vector<Trace> perturbed_traces(kPerturbedRuns);
  std::vector<Array> exact = codegen::make_interpreter(planned, {.observe = recorder(exact_trace)})->run(inputs, state);
  std::vector<Array> jit = codegen::make_jit(planned, {.observe = recorder(jit_trace)})->run(inputs, state);
  std::vector<std::vector<Array>> perturbed;
  for (int k = 0; k < kPerturbedRuns; ++k)
    perturbed.push_back(
        codegen::make_interpreter(planned, {.perturbation_seed = static_cast<std::uint64_t>(k + 1),
                                            .observe = recorder(perturbed_traces[static_cast<std::size_t>(k)])})
            ->run(inputs, state));

  int differing = 0;
  for (std::size_t i = 0; i < exact.size(); ++i) {
    std::vector<const Array*> runs;
    for (const auto& p : perturbed) runs.push_back(&p[i]);
    codegen::Disagreement d = judge(exact[i], runs, jit[i]);
    std::string what =
        i < planned.outputs.size()
            ? fmt::format("output {}", i)
            : fmt::format("update of %{}", planned.node(planned.updates[i - planned.outputs.size()].first).name);
    if (d.ratio <= 1) {
      std::printf("%s agrees (worst %.3g of its tolerance)\n", what.c_str(), d.ratio);
      continue;
    }
    if (differing++ == 0)
      std::printf("first difference: %s: %s\n", what.c_str(), d.detail.c_str());
    else
      std::printf("%s differs: %s\n", what.c_str(), d.detail.c_str());
  }
  for (ir::NodeId id : ir::program_steps(planned)) {
    const std::vector<Array>& want = exact_trace.at(id);
    for (std::size_t r = 0; r < want.size(); ++r) {
      std::vector<const Array*> runs;
      for (const Trace& t : perturbed_traces) runs.push_back(&t.at(id)[r]);
      codegen::Disagreement d = judge(want[r], runs, jit_trace.at(id)[r]);
      if (d.ratio <= 1) continue;
      std::printf("first step that differs: %s, result %zu: %s\n", describe_step(planned, id).c_str(), r,
                  d.detail.c_str());
      return differing + (differing == 0 ? 1 : 0);
    }
  }
  std::printf("every step agrees: interpreter and JIT match within rounding\n");
  return differing;
}

}  // namespace loom::tools
