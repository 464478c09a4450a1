#include "loom/codegen/interpreter/interpreter.h"

#include <cmath>
#include <unordered_map>

#include "loom/codegen/interpreter/arithmetic.h"
#include "loom/codegen/interpreter/kernels.h"

namespace loom::codegen {

namespace {

Array evaluate(const ir::Node& n, interp::Operands in, interp::Arithmetic& arithmetic) {
  switch (n.info().category) {
    case ir::OpCategory::Constant: {
      double value = n.attrs.get_float("value");
      if (is_float(n.results[0].dtype))  // a perturbed run rounds the constant differently too
        value = with_math<double>(arithmetic, n.results[0].dtype, [&](auto& s) { return s.constant(value); });
      return Array::full(n.results[0].shape, value, n.results[0].dtype);
    }
    case ir::OpCategory::Elementwise:
      if (n.info().has(ir::trait::Random)) return interp::random(n, in);
      return interp::elementwise(n, in, arithmetic);
    case ir::OpCategory::Reduction: return interp::reduction(n, in, arithmetic);
    case ir::OpCategory::Normalize: return interp::normalize(n, in, arithmetic);
    case ir::OpCategory::Contraction: return interp::matmul(n, in, arithmetic);
    case ir::OpCategory::Window: return interp::window(n, in, arithmetic);
    case ir::OpCategory::Layout: return interp::layout(n, in);
    case ir::OpCategory::Loss: return interp::softmax_cross_entropy(n, in, arithmetic);
    case ir::OpCategory::Param:
    case ir::OpCategory::Kernel: break;  // the caller's values; a nested executable
    case ir::OpCategory::Meta:
      raise(n.loc, "interpreter: cannot execute {} ({} nodes are expanded by the autodiff pass)", ir::op_name(n.op),
            ir::op_name(n.op));
    case ir::OpCategory::Mode:
      raise(n.loc, "interpreter: cannot execute {} (the modes pass lowers it for training or inference first)",
            ir::op_name(n.op));
  }
  raise(n.loc, "interpreter: cannot execute {} here", ir::op_name(n.op));
}

class Interpreter final : public Executable {
 public:
  Interpreter(ir::Graph graph, InterpreterOptions options)
      : graph_(std::move(graph)), order_(ir::topological_order(graph_)), options_(options) {
    for (ir::NodeId id : order_)
      if (graph_.node(id).body) {
        // A nested body draws its own perturbations, not a copy of its parent's.
        InterpreterOptions nested{.check_finite = options.check_finite};
        if (options.perturbation_seed) nested.perturbation_seed = options.perturbation_seed * 1000003 + id + 1;
        bodies_[id] = make_interpreter(*graph_.node(id).body, nested);
      }
  }

  std::vector<Array> run(std::span<const Array> inputs, std::span<const Array> state) const override {
    std::vector<Array> values(graph_.num_nodes());
    std::unordered_map<ir::NodeId, std::vector<Array>> multi;
    auto value_of = [&](std::vector<Array>& single, ir::Value v) -> Array& {
      auto it = multi.find(v.node);
      return it == multi.end() ? single[v.node] : it->second.at(v.index);
    };
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) values[graph_.inputs[i]] = inputs[i];
    for (std::size_t i = 0; i < graph_.state.size(); ++i) values[graph_.state[i]] = state[i];
    std::vector<const Array*> operands;
    interp::Arithmetic arithmetic{.perturbation_seed = options_.perturbation_seed};
    for (ir::NodeId id : order_) {
      const ir::Node& n = graph_.node(id);
      if (n.info().category == ir::OpCategory::Param) continue;
      if (n.body) {  // a fused region: its results, by result index
        std::vector<Array> args;
        for (ir::Value v : n.operands) args.push_back(value_of(values, v));
        multi[id] = bodies_.at(id)->run(args, {});
        if (options_.observe) options_.observe(id, multi[id]);
        continue;
      }
      operands.clear();
      for (ir::Value v : n.operands) operands.push_back(&value_of(values, v));
      values[id] = evaluate(n, operands, arithmetic);
      if (options_.check_finite) check_finite(n, values[id]);
      if (options_.observe) options_.observe(id, std::span<const Array>(&values[id], 1));
    }
    std::vector<Array> results;
    // Results never alias the caller's arrays or the state: a returned Array stays valid and unchanged.
    for (ir::Value v : graph_.outputs) results.push_back(value_of(values, v).copy());
    for (const auto& update : graph_.updates) results.push_back(value_of(values, update.second).copy());
    return results;
  }

  const ir::Graph& graph() const override { return graph_; }

 private:
  static void check_finite(const ir::Node& n, const Array& value) {
    if (!is_float(value.dtype())) return;
    for (std::int64_t i = 0; i < value.size(); ++i)
      if (!std::isfinite(value.get(i)))
        raise(n.loc, "nan_guard: {} produced {} at element {} of its {} result", ir::op_name(n.op),
              std::isnan(value.get(i)) ? "nan" : value.get(i) > 0 ? "inf" : "-inf", i, value.type().str());
  }

  ir::Graph graph_;
  std::vector<ir::NodeId> order_;
  InterpreterOptions options_;
  std::unordered_map<ir::NodeId, std::unique_ptr<Executable>> bodies_;
};

}  // namespace

std::unique_ptr<Executable> make_interpreter(ir::Graph graph, InterpreterOptions options) {
  for (ir::NodeId id = 0; id < graph.num_nodes(); ++id)
    if (!graph.node(id).dead && graph.node(id).op == ir::OpKind::grad)
      raise(graph.node(id).loc, "interpreter: the graph still has a grad node; run the autodiff pass first");
  return std::make_unique<Interpreter>(std::move(graph), options);
}

}  // namespace loom::codegen
