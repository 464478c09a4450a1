// ir_fuzz: bytes as IR text -> parser -> verifier -> the O2 pipeline -> the reference interpreter on zeros.
// Every input must end in success or a loom::Error; anything else (another exception, a signal, a sanitizer
// report) is a finding. Built as a libFuzzer binary with LOOM_FUZZ, and replayed over corpus/ir/ in every build.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/ir/parser.h"
#include "loom/ir/verifier.h"
#include "loom/passes/pass.h"

using namespace loom;

namespace {

/// Above these sizes the graph is compiled but not run: the fuzzer should spend its time on shapes, ops and
/// attributes, not on filling large arrays. Counted in doubles, so a shape whose element count overflows int64 is
/// over budget instead of wrapping below it; negative dimensions count by magnitude and still run (they must be
/// refused with an Error).
constexpr double kMaxValueElements = 1e5, kMaxGraphElements = 1e6;

/// Adds the elements of every live value of `g` (fused bodies included) to `total`; false once over budget.
bool within_budget(const ir::Graph& g, double& total) {
  for (ir::NodeId id = 0; id < g.num_nodes(); ++id) {
    const ir::Node& node = g.node(id);
    if (node.dead) continue;
    for (const TensorType& t : node.results) {
      double elements = 1;
      for (std::int64_t d : t.shape) elements *= std::abs(static_cast<double>(d));
      total += elements;
      if (elements > kMaxValueElements || total > kMaxGraphElements) return false;
    }
    if (node.body && !within_budget(*node.body, total)) return false;
  }
  return true;
}

std::vector<Array> zeros(const ir::Graph& g, const std::vector<ir::NodeId>& parameters) {
  std::vector<Array> arrays;
  for (ir::NodeId id : parameters) arrays.emplace_back(g.node(id).results.at(0).dtype, g.node(id).results.at(0).shape);
  return arrays;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ir::Graph g = ir::parse(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.loom");
    ir::verify(g);
    passes::PassContext ctx;
    passes::run_pipeline(g, passes::resolve_pipeline("O2"), ctx);
    double total = 0;
    if (!within_budget(g, total)) return 0;
    std::vector<Array> inputs = zeros(g, g.inputs), state = zeros(g, g.state);
    codegen::make_interpreter(std::move(g))->run(inputs, state);
  } catch (const Error&) {
    // Refused with a message: the outcome bad input must have.
  }
  return 0;
}
