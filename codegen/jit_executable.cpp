#include "loom/codegen/jit_executable.h"

#include <omp.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/llvm/jit.h"
#include "loom/codegen/matmul_loops.h"
#include "loom/codegen/onednn/matmul.h"

namespace loom::codegen {

namespace {

using ir::NodeId;
using ir::OpKind;

/// The project's own f64 matmul (oneDNN is f32-only), the interpreter's loops on typed pointers.
void matmul_f64(const ir::Node& n, const Array& a, const Array& b, Array& out) {
  const double *pa = a.data<double>(), *pb = b.data<double>();
  double* pc = out.data<double>();
  matmul_loops(
      n, a.shape(), b.shape(), [&](std::int64_t i) { return pa[i]; }, [&](std::int64_t i) { return pb[i]; },
      [&](std::int64_t i, double v) { pc[i] = v; }, /*parallel=*/true);
}

/// A kernel operand that holds softmax cross-entropy labels, checked before the kernel runs (a compiled kernel
/// cannot throw; the interpreter's message is reproduced here).
struct LabelCheck {
  std::size_t operand;
  std::int64_t classes;
  SourceLoc loc;
};

/// One step of the program.
struct Step {
  NodeId node;
  enum class Kind { kernel, matmul_f32, matmul_f64 } kind;
  llvm_backend::KernelFn kernel = nullptr;
  std::int64_t rows = 0, elements = 0;
  std::unique_ptr<onednn::Matmul> matmul;
  std::vector<LabelCheck> labels;
  /// For a matmul: which operands are a, b and the bias (-1 for none).
  int a = 0, b = 1, bias = -1;
};

/// A "matmul" kernel (matmul, bias add, activation) as one oneDNN primitive with a bias and a post-op.
Step matmul_kernel_step(NodeId id, const ir::Node& fused, const ir::Graph& outer) {
  const ir::Graph& body = *fused.body;
  auto operand_of = [&](ir::Value inner) {
    for (std::size_t k = 0; k < body.inputs.size(); ++k)
      if (body.inputs[k] == inner.node) return static_cast<int>(k);
    raise(fused.loc, "jit: a matmul kernel's operand is not one of its parameters");
  };
  Step step{id, Step::Kind::matmul_f32};
  onednn::Epilogue epilogue;
  const ir::Node* matmul = nullptr;
  for (ir::NodeId k : ir::topological_order(body)) {
    const ir::Node& n = body.node(k);
    if (n.op == OpKind::matmul) {
      matmul = &n;
      step.a = operand_of(n.operands[0]);
      step.b = operand_of(n.operands[1]);
    } else if (n.op == OpKind::add) {
      epilogue.bias = true;
      step.bias = operand_of(body.node(n.operands[0]).op == OpKind::matmul ? n.operands[1] : n.operands[0]);
    } else if (n.info().category == ir::OpCategory::Elementwise) {
      epilogue.activation = n.op;
      // oneDNN's relu takes the negative slope as alpha (0 for relu); elu takes its alpha.
      epilogue.alpha = n.op == OpKind::leaky_relu ? n.attrs.get_float("alpha", 0.01)
                       : n.op == OpKind::elu      ? n.attrs.get_float("alpha", 1.0)
                                                  : 0.0;
    }
  }
  step.matmul = onednn::Matmul::create(*matmul, outer.type(fused.operands[static_cast<std::size_t>(step.a)]),
                                       outer.type(fused.operands[static_cast<std::size_t>(step.b)]), epilogue);
  return step;
}

std::vector<LabelCheck> label_checks(const ir::Graph& body) {
  std::vector<LabelCheck> checks;
  for (NodeId id = 0; id < body.num_nodes(); ++id) {
    const ir::Node& n = body.node(id);
    if (n.dead || n.op != OpKind::softmax_cross_entropy) continue;
    for (std::size_t k = 0; k < body.inputs.size(); ++k)
      if (body.inputs[k] == n.operands[1].node)
        checks.push_back({k, body.type(n.operands[0]).shape.back(), n.loc});
  }
  return checks;
}

class JitExecutable final : public Executable {
 public:
  JitExecutable(ir::Graph graph, const JitOptions& options) : graph_(std::move(graph)), options_(options) {
    std::vector<NodeId> order = ir::topological_order(graph_);
    std::vector<bool> needed = ir::needed_nodes(graph_);
    std::vector<std::shared_ptr<const ir::Graph>> bodies;
    for (NodeId id : order) {
      if (!needed[id]) continue;
      ir::Node& n = graph_.node(id);
      switch (n.info().category) {
        case ir::OpCategory::Param: continue;
        case ir::OpCategory::Constant:
          constants_[id] = Array::full(n.results[0].shape, n.attrs.get_float("value"), n.results[0].dtype);
          continue;
        case ir::OpCategory::Meta: raise(n.loc, "jit: the graph still has a grad node; run the autodiff pass first");
        case ir::OpCategory::Contraction: {
          Step step{id, n.results[0].dtype == DType::f32 ? Step::Kind::matmul_f32 : Step::Kind::matmul_f64};
          if (step.kind == Step::Kind::matmul_f32)
            step.matmul = onednn::Matmul::create(n, graph_.type(n.operands[0]), graph_.type(n.operands[1]));
          steps_.push_back(std::move(step));
          continue;
        }
        case ir::OpCategory::Kernel:
          if (n.attrs.get_string("kind") == "matmul") {
            steps_.push_back(matmul_kernel_step(id, n, graph_));
            continue;
          }
          break;
        default: n.body = single_op_body(n, id); break;  // an op left outside every kernel becomes one
      }
      auto body = std::make_shared<ir::Graph>(*n.body);
      body->set_name("kernel" + std::to_string(id));  // unique in the module whatever the fuse pass named it
      bodies.push_back(body);
      steps_.push_back(Step{id, Step::Kind::kernel});
    }
    std::vector<const ir::Graph*> pointers;
    for (const auto& b : bodies) pointers.push_back(b.get());
    module_ = llvm_backend::KernelModule::compile(pointers, {.want_text = !options_.dump_dir.empty()});
    std::size_t k = 0;
    for (Step& step : steps_) {
      if (step.kind != Step::Kind::kernel) continue;
      const ir::Graph& body = *bodies[k++];
      step.kernel = module_->lookup(body.name());
      step.labels = label_checks(body);
      step.rows = llvm_backend::kernel_rows(body);
      step.elements = num_elements(llvm_backend::kernel_space(body));
    }
    if (!options_.dump_dir.empty()) {
      std::filesystem::create_directories(options_.dump_dir);
      std::ofstream(std::filesystem::path(options_.dump_dir) / "kernels.ll") << module_->llvm_ir();
      std::ofstream(std::filesystem::path(options_.dump_dir) / "kernels.s") << module_->assembly();
    }
  }

  std::vector<Array> run(std::span<const Array> inputs, std::span<const Array> state) const override {
    std::map<NodeId, std::vector<Array>> values;
    for (std::size_t i = 0; i < graph_.inputs.size(); ++i) values[graph_.inputs[i]] = {inputs[i]};
    for (std::size_t i = 0; i < graph_.state.size(); ++i) values[graph_.state[i]] = {state[i]};
    for (const auto& [id, value] : constants_) values[id] = {value};
    auto value_of = [&](ir::Value v) -> const Array& { return values.at(v.node).at(v.index); };
    for (const Step& step : steps_) {
      const ir::Node& n = graph_.node(step.node);
      std::vector<Array> results;
      for (const TensorType& t : n.results) results.emplace_back(t.dtype, t.shape);
      if (step.kind == Step::Kind::kernel) {
        for (const LabelCheck& check : step.labels) check_labels(value_of(n.operands[check.operand]), check);
        std::vector<void*> buffers;
        for (ir::Value v : n.operands) buffers.push_back(const_cast<void*>(value_of(v).raw()));
        for (Array& r : results) buffers.push_back(r.raw());
        run_rows(step, buffers.data());
        if (options_.check_finite) check_finite(n, results, [&] {
            std::vector<Array> args;
            for (ir::Value v : n.operands) args.push_back(value_of(v));
            return args;
          });
      } else if (step.kind == Step::Kind::matmul_f32) {
        auto operand = [&](int k) { return value_of(n.operands[static_cast<std::size_t>(k)]).raw(); };
        step.matmul->run(operand(step.a), operand(step.b), step.bias >= 0 ? operand(step.bias) : nullptr, results[0].raw());
      } else {
        matmul_f64(n, value_of(n.operands[0]), value_of(n.operands[1]), results[0]);
      }
      values[step.node] = std::move(results);
    }
    // A result computed by this call is handed out as is; a parameter, a constant, or a value handed out once
    // already is copied, so no returned array aliases the caller's inputs, the state or another result.
    std::vector<Array> out;
    std::set<std::pair<NodeId, std::uint32_t>> handed_out;
    auto result = [&](ir::Value v) {
      bool computed = graph_.node(v).info().category != ir::OpCategory::Param && !constants_.count(v.node);
      bool fresh = handed_out.insert({v.node, v.index}).second;
      out.push_back(computed && fresh ? value_of(v) : value_of(v).copy());
    };
    for (ir::Value v : graph_.outputs) result(v);
    for (const auto& update : graph_.updates) result(update.second);
    return out;
  }

 private:
  static void check_labels(const Array& labels, const LabelCheck& check) {
    for (std::int64_t row = 0; row < labels.size(); ++row) {
      auto label = static_cast<std::int64_t>(labels.get(row));
      if (label < 0 || label >= check.classes)
        raise(check.loc, "softmax_cross_entropy: label {} at row {} is outside [0, {})", label, row, check.classes);
    }
  }

  /// On a NaN or Inf in a kernel's results, replays the kernel on the interpreter with finiteness checks, which
  /// names the op and line inside the kernel that produced it.
  template <class Args>
  void check_finite(const ir::Node& n, const std::vector<Array>& results, Args args) const {
    for (std::size_t k = 0; k < results.size(); ++k) {
      const Array& r = results[k];
      if (!is_float(r.dtype())) continue;
      for (std::int64_t i = 0; i < r.size(); ++i) {
        double v = r.get(i);
        if (std::isfinite(v)) continue;
        make_interpreter(*n.body, {.check_finite = true})->run(args(), {});
        raise(n.loc, "nan_guard: kernel {} produced {} at element {} of its {} result {}", n.attrs.get_string("kernel"),
              std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", i, r.type().str(), k);
      }
    }
  }

  /// Rows are independent, so splitting them over threads cannot change a bit; small kernels run on one thread.
  void run_rows(const Step& step, void* const* buffers) const {
    constexpr std::int64_t kSerialElements = 1 << 15;
    if (step.elements < kSerialElements || step.rows < 2) {
      step.kernel(buffers, 0, step.rows);
      return;
    }
    int threads = options_.threads > 0 ? options_.threads : omp_get_max_threads();
    std::int64_t chunks = std::min<std::int64_t>(step.rows, 64);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) step.kernel(buffers, step.rows * c / chunks, step.rows * (c + 1) / chunks);
  }

  /// A body holding one node, for ops that reach the backend outside a fused node.
  std::shared_ptr<const ir::Graph> single_op_body(const ir::Node& n, NodeId id) {
    auto body = std::make_shared<ir::Graph>("op" + std::to_string(id));
    std::vector<ir::Value> operands;
    for (ir::Value v : n.operands) {
      ir::NodeId p = body->add_typed_node(OpKind::input, {}, {}, {graph_.type(v)}, SourceLoc{}, "p" + std::to_string(operands.size()));
      body->inputs.push_back(p);
      operands.push_back({p, 0});
    }
    ir::NodeId inner = body->add_typed_node(n.op, operands, n.attrs, n.results, n.loc, n.name);
    body->outputs.push_back({inner, 0});
    ir::Node& outer = graph_.node(id);
    outer.op = OpKind::fused;  // the graph is private to this executable
    outer.attrs = ir::Attrs{{"kind", std::string("loop")}};
    return body;
  }

  ir::Graph graph_;
  JitOptions options_;
  std::vector<Step> steps_;
  std::map<NodeId, Array> constants_;
  std::unique_ptr<llvm_backend::KernelModule> module_;
};

}  // namespace

std::unique_ptr<Executable> make_jit(ir::Graph graph, const JitOptions& options) {
  return std::make_unique<JitExecutable>(std::move(graph), options);
}

}  // namespace loom::codegen
