#include "loom/codegen/jit_executable.h"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/llvm/jit.h"
#include "loom/codegen/matmul_loops.h"
#include "loom/codegen/onednn/matmul.h"
#include "loom/codegen/onednn/window.h"
#include "loom/codegen/window_loops.h"
#include "loom/ir/kernel_shape.h"
#include "loom/ir/memory_plan.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen {

namespace {

using ir::Buffer;
using ir::NodeId;
using ir::OpKind;

/// Where a step finds one of its buffers; resolved to a pointer at each call.
struct Slot {
  Buffer::Kind kind = Buffer::Kind::arena;
  std::uint32_t index = 0;  ///< input, state or output position; constant number
  std::int64_t offset = 0;  ///< arena offset

  bool operator==(const Slot&) const = default;
};

/// One step of the program.
struct Step {
  NodeId node;
  /// matmul_loops, window_loops: the project's own loops (f64, which oneDNN lacks, operands oneDNN 2.6 cannot
  /// take, and max pooling's backward op).
  enum class Kind { kernel, matmul_f32, matmul_loops, window_f32, window_loops } kind;
  llvm_backend::KernelFn kernel = nullptr;
  std::int64_t rows = 0, elements = 0;
  std::unique_ptr<onednn::Matmul> matmul;
  std::unique_ptr<onednn::WindowPrimitive> window;
  ir::Window2d geometry;  ///< a window op's
  /// For a matmul, a convolution or their kernels: which operands are a, b and the bias (-1 for none).
  int a = 0, b = 1, bias = -1;
  /// The operands' buffers, then the results' (and for a kernel, the arena's address: see KernelSource).
  std::vector<Slot> slots;
  /// The slots resolved for the current call (sized once, so a call allocates nothing).
  mutable std::vector<void*> buffers;
};

/// After the last step: an update not computed in place is copied into its state's buffer.
struct UpdateCopy {
  Slot from;
  std::uint32_t state;
  std::size_t bytes;
};

/// A matmul through the project's own loops (codegen/matmul_loops.h), accumulating in the result's dtype.
template <class T>
void matmul_with_loops(const ir::Node& n, const Shape& a_shape, const Shape& b_shape, void* const* buffers) {
  auto* pa = static_cast<const T*>(buffers[0]);
  auto* pb = static_cast<const T*>(buffers[1]);
  auto* pc = static_cast<T*>(buffers[2]);
  ir::PlainMath<T> math;
  matmul_loops(
      n, a_shape, b_shape, math, [&](std::int64_t i) { return pa[i]; }, [&](std::int64_t i) { return pb[i]; },
      [&](std::int64_t i, double v) { pc[i] = static_cast<T>(v); }, /*parallel=*/true);
}

/// A window op through the project's own loops (codegen/window_loops.h), threads over planes.
template <class T>
void window_with_loops(const ir::Node& n, const ir::Window2d& geometry, void* const* buffers) {
  ir::PlainMath<T> math;
  const T* first = static_cast<const T*>(buffers[0]);
  const T* second = n.operands.size() > 1 ? static_cast<const T*>(buffers[1]) : nullptr;
  T* out = static_cast<T*>(buffers[n.operands.size()]);
  if (n.op == ir::OpKind::max_pool2d_backward && is_inside_2x2_pool(geometry))
    max_pool2d_backward_2x2(geometry, first, second, out, /*parallel=*/true);
  else
    window_loops(n, geometry, math, first, second, out, /*parallel=*/true);
}

/// Grows the executable's staging workspace (shared by its oneDNN window primitives, which run one at a time) to
/// what `primitive` needs.
void reserve_workspace(Array& workspace, const onednn::WindowPrimitive& primitive) {
  auto floats = static_cast<std::int64_t>((primitive.workspace_bytes() + sizeof(float) - 1) / sizeof(float));
  if (floats > workspace.size()) workspace = Array(DType::f32, {floats});
}

/// Element i of a buffer of `dtype`, as a double.
double element(const void* data, DType dtype, std::int64_t i) {
  switch (dtype) {
    case DType::f32: return static_cast<const float*>(data)[i];
    case DType::f64: return static_cast<const double*>(data)[i];
    case DType::i32: return static_cast<const std::int32_t*>(data)[i];
    case DType::i64: return static_cast<double>(static_cast<const std::int64_t*>(data)[i]);
    case DType::b8: return static_cast<const std::uint8_t*>(data)[i];
  }
  return 0;
}

/// An array holding a copy of a buffer (for the error paths, which may allocate).
Array copy_of(const void* data, const TensorType& type) {
  Array a(type.dtype, type.shape);
  std::memcpy(a.raw(), data, a.nbytes());
  return a;
}

/// A "matmul" or "conv" kernel (the product, bias add, activation) as one oneDNN primitive with a bias and a
/// post-op, as its kernel shape lists them.
Step onednn_kernel_step(NodeId id, const ir::Node& fused, const ir::Graph& outer, Array& workspace) {
  const ir::Graph& body = *fused.body;
  const ir::MatmulParts& parts = fused.kernel->matmul;
  auto operand_of = [&](ir::Value inner) {
    for (std::size_t k = 0; k < body.inputs.size(); ++k)
      if (body.inputs[k] == inner.node) return static_cast<int>(k);
    raise(fused.loc, "jit: a matmul kernel's operand is not one of its parameters");
  };
  Step step{id, Step::Kind::matmul_f32};
  step.a = operand_of(parts.a);
  step.b = operand_of(parts.b);
  onednn::Epilogue epilogue;
  if (parts.bias) {
    epilogue.bias = true;
    step.bias = operand_of(*parts.bias);
  }
  if (parts.activation) {
    epilogue.activation = *parts.activation;
    epilogue.alpha = parts.alpha;
  }
  const TensorType& a = outer.type(fused.operands[static_cast<std::size_t>(step.a)]);
  const TensorType& b = outer.type(fused.operands[static_cast<std::size_t>(step.b)]);
  if (fused.kernel->kind == ir::KernelKind::matmul) {
    step.matmul = onednn::Matmul::create(body.node(parts.matmul), a, b, epilogue);
    return step;
  }
  step.kind = Step::Kind::window_f32;
  step.geometry = ir::window_of(body.node(parts.matmul), a.shape, &b.shape);
  step.window = onednn::WindowPrimitive::create(body.node(parts.matmul), step.geometry, epilogue);
  reserve_workspace(workspace, *step.window);
  return step;
}

class JitExecutable final : public Executable {
 public:
  JitExecutable(ir::Graph graph, const JitOptions& options) : graph_(std::move(graph)), options_(options) {
    if (!ir::is_planned(graph_))
      raise(SourceLoc{}, "jit: @{} has no memory plan; run the plan-memory pass last", graph_.name());
    ir::check_plan(graph_);
    std::vector<bool> needed = ir::needed_nodes(graph_);
    for (NodeId id = 0; id < graph_.num_nodes(); ++id) {
      const ir::Node& n = graph_.node(id);
      if (n.dead || !needed[id] || n.op != OpKind::constant) continue;
      constant_number_[id] = static_cast<std::uint32_t>(constants_.size());
      constants_.push_back(Array::full(n.results[0].shape, n.attrs.get_float("value"), n.results[0].dtype));
    }
    arena_ = Array(DType::f32, {ir::arena_bytes(graph_) / static_cast<std::int64_t>(sizeof(float))});

    std::vector<std::shared_ptr<const ir::Graph>> bodies;
    std::vector<llvm_backend::KernelSource> sources;
    for (NodeId id : ir::program_steps(graph_)) {
      ir::Node& n = graph_.node(id);
      Step step = make_step(id, n, bodies);
      for (ir::Value v : n.operands) step.slots.push_back(slot_of(v));
      for (std::uint32_t r = 0; r < n.results.size(); ++r) step.slots.push_back(slot_of({id, r}));
      if (step.kind == Step::Kind::kernel) {
        sources.emplace_back(bodies.back().get(), *n.kernel, overwrites(step, n), arena_offsets(step));
        step.slots.push_back(Slot{Buffer::Kind::arena, 0, 0});  // the arena's address, last in the kernel's table
      }
      step.buffers.resize(step.slots.size());
      steps_.push_back(std::move(step));
    }
    module_ = llvm_backend::KernelModule::compile(
        sources, {.want_text = !options_.dump_dir.empty(), .target_cpu = options_.target_cpu, .threads = options_.threads});
    std::size_t k = 0;
    for (Step& step : steps_) {
      if (step.kind != Step::Kind::kernel) continue;
      const ir::Graph& body = *bodies[k++];
      step.kernel = module_->lookup(body.name());
      const ir::KernelShape& shape = *graph_.node(step.node).kernel;
      step.rows = shape.rows;
      step.elements = num_elements(shape.space);
    }
    for (const auto& [target, value] : graph_.updates) {
      auto state = static_cast<std::uint32_t>(std::find(graph_.state.begin(), graph_.state.end(), target) - graph_.state.begin());
      Slot from = slot_of(value);
      if (from.kind == Buffer::Kind::state && from.index == state) continue;  // computed in place
      const TensorType& type = graph_.type(value);
      updates_.push_back({from, state, static_cast<std::size_t>(num_elements(type.shape)) * size_of(type.dtype)});
    }
    if (!options_.dump_dir.empty()) {
      std::error_code error;
      std::filesystem::create_directories(options_.dump_dir, error);
      if (error) throw Error(fmt::format("cannot write kernel dumps to {}: {}", options_.dump_dir, error.message()));
      std::ofstream(std::filesystem::path(options_.dump_dir) / "kernels.ll") << module_->llvm_ir();
      std::ofstream(std::filesystem::path(options_.dump_dir) / "kernels.s") << module_->assembly();
      std::ofstream layouts(std::filesystem::path(options_.dump_dir) / "onednn.txt");
      for (const Step& step : steps_)
        if (step.window) {
          const ir::Node& n = graph_.node(step.node);
          const ir::Node& op = n.body ? n.body->node(n.kernel->matmul.matmul) : n;
          layouts << fmt::format("%{} {}: {}\n", step.node, ir::op_name(op.op), step.window->layouts());
        }
    }
  }

  const ir::Graph& graph() const override { return graph_; }

  std::vector<Array> run(std::span<const Array> inputs, std::span<const Array> state) const override {
    std::vector<Array> outputs, new_state;
    for (ir::Value v : graph_.outputs) outputs.emplace_back(graph_.type(v).dtype, graph_.type(v).shape);
    for (const Array& s : state) new_state.push_back(s.copy());
    run_into(inputs, new_state, outputs);
    for (const auto& [target, value] : graph_.updates) {
      auto slot = std::find(graph_.state.begin(), graph_.state.end(), target) - graph_.state.begin();
      outputs.push_back(new_state[static_cast<std::size_t>(slot)]);
    }
    return outputs;
  }

  /// Not re-entrant: the resolved buffer pointers and the arena belong to the call in progress (Function
  /// serializes its calls).
  void run_into(std::span<const Array> inputs, std::span<Array> state, std::span<Array> outputs) const override {
    auto resolve = [&](const Slot& s) -> void* {
      switch (s.kind) {
        case Buffer::Kind::input: return const_cast<void*>(inputs[s.index].raw());
        case Buffer::Kind::state: return state[s.index].raw();
        case Buffer::Kind::output: return outputs[s.index].raw();
        case Buffer::Kind::constant: return const_cast<void*>(constants_[s.index].raw());
        case Buffer::Kind::arena: return static_cast<char*>(arena_.raw()) + s.offset;
      }
      return nullptr;
    };
    for (const Step& step : steps_) {
      for (std::size_t i = 0; i < step.slots.size(); ++i) step.buffers[i] = resolve(step.slots[i]);
      const ir::Node& n = graph_.node(step.node);
      void* const* buffers = step.buffers.data();
      switch (step.kind) {
        case Step::Kind::kernel:
          if (run_rows(step, buffers) != 0) report_failure(step, n);
          if (options_.check_finite) check_finite(step, n);
          break;
        case Step::Kind::matmul_f32: {
          auto operand = [&](int k) { return buffers[k]; };
          step.matmul->run(operand(step.a), operand(step.b), step.bias >= 0 ? operand(step.bias) : nullptr,
                           buffers[n.operands.size()]);
          break;
        }
        case Step::Kind::matmul_loops: {
          const Shape &a = graph_.type(n.operands[0]).shape, &b = graph_.type(n.operands[1]).shape;
          if (n.results[0].dtype == DType::f32) matmul_with_loops<float>(n, a, b, buffers);
          else matmul_with_loops<double>(n, a, b, buffers);
          break;
        }
        case Step::Kind::window_f32: {
          auto operand = [&](int k) { return buffers[k]; };  // a conv kernel's operands are in any order
          step.window->run(operand(step.a), n.operands.size() > 1 ? operand(step.b) : nullptr,
                           step.bias >= 0 ? operand(step.bias) : nullptr, buffers[n.operands.size()], primitive_workspace_.raw());
          break;
        }
        case Step::Kind::window_loops:
          if (n.results[0].dtype == DType::f32) window_with_loops<float>(n, step.geometry, buffers);
          else window_with_loops<double>(n, step.geometry, buffers);
          break;
      }
      if (options_.observe) observe(step, n);
    }
    for (const UpdateCopy& copy : updates_) std::memcpy(state[copy.state].raw(), resolve(copy.from), copy.bytes);
  }

 private:
  Step make_step(NodeId id, ir::Node& n, std::vector<std::shared_ptr<const ir::Graph>>& bodies) {
    switch (n.info().category) {
      case ir::OpCategory::Meta: raise(n.loc, "jit: the graph still has a grad node; run the autodiff pass first");
      case ir::OpCategory::Mode: raise(n.loc, "jit: the graph still has a {}; run the modes pass first", ir::op_name(n.op));
      case ir::OpCategory::Contraction: {
        const TensorType &a = graph_.type(n.operands[0]), &b = graph_.type(n.operands[1]);
        bool onednn = n.results[0].dtype == DType::f32 && a.size() > 0 && b.size() > 0;
        Step step{id, onednn ? Step::Kind::matmul_f32 : Step::Kind::matmul_loops};
        if (step.kind == Step::Kind::matmul_f32)
          step.matmul = onednn::Matmul::create(n, graph_.type(n.operands[0]), graph_.type(n.operands[1]));
        return step;
      }
      case ir::OpCategory::Window: {
        const Shape* second = n.operands.size() > 1 ? &graph_.type(n.operands[1]).shape : nullptr;
        ir::Window2d geometry = ir::window_of(n, graph_.type(n.operands[0]).shape, second);
        bool onednn = n.results[0].dtype == DType::f32 && onednn::WindowPrimitive::supports(n.op, geometry);
        Step step{id, onednn ? Step::Kind::window_f32 : Step::Kind::window_loops};
        step.geometry = geometry;
        if (onednn) {
          step.window = onednn::WindowPrimitive::create(n, geometry);
          reserve_workspace(primitive_workspace_, *step.window);
        }
        return step;
      }
      case ir::OpCategory::Kernel:
        if (ir::is_onednn_kernel(n.kernel->kind)) return onednn_kernel_step(id, n, graph_, primitive_workspace_);
        break;
      default: make_single_op_kernel(n, id); break;  // an op left outside every kernel becomes one
    }
    auto body = std::make_shared<ir::Graph>(*n.body);
    body->set_name("kernel" + std::to_string(id));  // unique in the module whatever the fuse pass named it
    bodies.push_back(body);
    return Step{id, Step::Kind::kernel};
  }

  Slot slot_of(ir::Value v) const {
    const Buffer& b = graph_.node(v).buffers.at(v.index);
    if (b.kind == Buffer::Kind::constant) return {b.kind, constant_number_.at(v.node), 0};
    return {b.kind, b.index, b.offset};
  }

  /// For each buffer of a kernel step, its offset in the arena (-1: elsewhere), which the kernel adds to the arena's
  /// address instead of loading a pointer (llvm_backend::KernelSource).
  static std::vector<std::int64_t> arena_offsets(const Step& step) {
    std::vector<std::int64_t> offsets;
    for (const Slot& slot : step.slots) offsets.push_back(slot.kind == Buffer::Kind::arena ? slot.offset : -1);
    return offsets;
  }

  /// For each result of a kernel step, the operand whose buffer the plan lets it overwrite (-1: none).
  static std::vector<int> overwrites(const Step& step, const ir::Node& n) {
    std::vector<int> out(n.results.size(), -1);
    for (std::size_t r = 0; r < n.results.size(); ++r)
      for (std::size_t k = 0; k < n.operands.size() && out[r] < 0; ++k)
        if (step.slots[n.operands.size() + r] == step.slots[k]) out[r] = static_cast<int>(k);
    return out;
  }

  void observe(const Step& step, const ir::Node& n) const {
    std::vector<Array> results;
    for (std::size_t k = 0; k < n.results.size(); ++k) results.push_back(copy_of(step.buffers[n.operands.size() + k], n.results[k]));
    options_.observe(step.node, results);
  }

  /// A kernel reported a failed row (a label outside its range; ir::may_raise). It cannot throw, so its body is
  /// replayed on the interpreter, which raises the error with the op and line. The plan wrote no state in place
  /// before this step and no result of it over an operand (only loop kernels do that), so the operands are
  /// intact and the state unchanged.
  [[noreturn]] void report_failure(const Step& step, const ir::Node& n) const {
    std::vector<Array> args;
    for (std::size_t j = 0; j < n.operands.size(); ++j) args.push_back(copy_of(step.buffers[j], graph_.type(n.operands[j])));
    make_interpreter(*n.body)->run(args, {});
    raise(n.loc, "jit: kernel {} failed, and the interpreter finds nothing wrong with its operands", n.attrs.get_string("kernel"));
  }

  /// On a NaN or Inf in a kernel's results, replays the kernel on the interpreter with finiteness checks, which
  /// names the op and line inside the kernel that produced it. (Under nan_guard, Function plans nothing in place,
  /// so the operands are still there to replay.)
  void check_finite(const Step& step, const ir::Node& n) const {
    std::size_t first_result = n.operands.size();
    for (std::size_t k = 0; k < n.results.size(); ++k) {
      const TensorType& type = n.results[k];
      if (!is_float(type.dtype)) continue;
      const void* data = step.buffers[first_result + k];
      for (std::int64_t i = 0; i < num_elements(type.shape); ++i) {
        double v = element(data, type.dtype, i);
        if (std::isfinite(v)) continue;
        std::vector<Array> args;
        for (std::size_t j = 0; j < n.operands.size(); ++j) args.push_back(copy_of(step.buffers[j], graph_.type(n.operands[j])));
        make_interpreter(*n.body, {.check_finite = true})->run(args, {});
        raise(n.loc, "nan_guard: kernel {} produced {} at element {} of its {} result {}", n.attrs.get_string("kernel"),
              std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf", i, type.str(), k);
      }
    }
  }

  /// Rows are independent, so splitting them over threads cannot change a bit; small kernels run on one thread.
  /// Returns the kernel's status (non-zero: a row failed).
  std::int64_t run_rows(const Step& step, void* const* buffers) const {
    constexpr std::int64_t kSerialElements = 1 << 15;
    if (step.elements < kSerialElements || step.rows < 2) return step.kernel(buffers, 0, step.rows);
    int threads = options_.threads > 0 ? options_.threads : omp_get_max_threads();
    std::int64_t chunks = std::min<std::int64_t>(step.rows, 64), status = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(| : status)
    for (std::int64_t c = 0; c < chunks; ++c) status |= step.kernel(buffers, step.rows * c / chunks, step.rows * (c + 1) / chunks);
    return status;
  }

  /// Turns an op that reaches the backend outside a fused node into a fused node whose body holds it alone.
  void make_single_op_kernel(const ir::Node& n, NodeId id) {
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
    outer.attrs = {};
    ir::attach_body(outer, std::move(body));
  }

  ir::Graph graph_;
  JitOptions options_;
  std::vector<Step> steps_;
  std::vector<UpdateCopy> updates_;
  std::vector<Array> constants_;
  std::map<NodeId, std::uint32_t> constant_number_;
  mutable Array arena_;  ///< the intermediates of the call in progress
  /// oneDNN's staging buffers (tensors in blocked layouts), shared by its primitives: steps run one at a time.
  mutable Array primitive_workspace_{DType::f32, {0}};
  std::unique_ptr<llvm_backend::KernelModule> module_;
};

}  // namespace

std::unique_ptr<Executable> make_jit(ir::Graph graph, const JitOptions& options) {
  return std::make_unique<JitExecutable>(std::move(graph), options);
}

}  // namespace loom::codegen
