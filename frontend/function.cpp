#include "loom/frontend/function.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <fmt/ranges.h>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/jit_executable.h"
#include "loom/frontend/extract.h"
#include "loom/ir/large_stack.h"
#include "loom/ir/parser.h"
#include "loom/ir/printer.h"
#include "loom/passes/pass.h"

namespace loom {

struct Function::Impl {
  ir::Graph graph;
  std::shared_ptr<SharedStore> store;
  /// The shared variables' arrays in state order; they share the store's buffers, which never change.
  mutable std::vector<Array> state;
  /// Their locks, in node order (SharedStore::locks).
  std::vector<std::mutex*> state_locks;
  std::unique_ptr<codegen::Executable> executable;
  std::string report;
  mutable std::mutex calls;
};

namespace {

std::string_view level_name(OptLevel level) {
  switch (level) {
    case OptLevel::O0: return "O0";
    case OptLevel::O1: return "O1";
    case OptLevel::O2: return "O2";
  }
  return "O2";
}

std::string signature(const ir::Graph& g) {
  std::vector<std::string> params;
  for (ir::NodeId id : g.inputs) params.push_back(fmt::format("{}: {}", g.node(id).name, g.node(id).results[0].str()));
  return fmt::format("{}", fmt::join(params, ", "));
}

/// Holds the locks of a call's shared variables (in the given order) for its scope; allocates nothing.
class SharedLocks {
 public:
  explicit SharedLocks(const std::vector<std::mutex*>& locks) : locks_(locks) {
    for (std::mutex* m : locks_) m->lock();
  }
  ~SharedLocks() {
    for (auto it = locks_.rbegin(); it != locks_.rend(); ++it) (*it)->unlock();
  }
  SharedLocks(const SharedLocks&) = delete;
  SharedLocks& operator=(const SharedLocks&) = delete;

 private:
  const std::vector<std::mutex*>& locks_;
};

/// Checks one argument against its parameter; the message names the mismatching dimension.
void check_argument(const ir::Graph& g, std::size_t i, const Array& arg, SrcLoc where) {
  const ir::Node& param = g.node(g.inputs[i]);
  const TensorType& want = param.results[0];
  if (arg.type() == want) return;
  std::string why;
  if (arg.dtype() != want.dtype)
    why = fmt::format("dtype {} differs from {}", to_string(arg.dtype()), to_string(want.dtype));
  else if (arg.rank() != want.rank())
    why = fmt::format("rank {} differs from {}", arg.rank(), want.rank());
  else
    for (std::size_t d = 0; d < want.shape.size(); ++d)
      if (arg.shape()[d] != want.shape[d]) {
        why = fmt::format("dimension {} is {}, expected {}", d, arg.shape()[d], want.shape[d]);
        break;
      }
  raise(SourceLoc::from(where), "{}: input '{}' (argument {}) expects {}, got {}: {}", g.name(), param.name, i, want.str(),
        arg.type().str(), why);
}

/// LOOM_THREADS: a whole number in [1, kMaxThreads].
int threads_from_environment(const char* text, const SourceLoc& loc) {
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1 || value > kMaxThreads)
    raise(loc, "compile: LOOM_THREADS='{}' is not a thread count in [1, {}]", text, kMaxThreads);
  return static_cast<int>(value);
}

}  // namespace

Function compile_here(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs, const Updates& updates,
                      const CompileOptions& options, SrcLoc where);

Function compile(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs, const Updates& updates,
                 const CompileOptions& options, SrcLoc where) {
  Function f;
  // On a thread with a large stack: the passes and the kernel emitter recurse along chains of ops.
  ir::run_on_large_stack([&] { f = compile_here(inputs, outputs, updates, options, where); });
  return f;
}

Function compile_here(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs, const Updates& updates,
                      const CompileOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  if (outputs.empty() && updates.empty()) raise(loc, "compile: nothing to compute (no outputs and no updates)");
  if (!ir::is_identifier(options.name))
    raise(loc, "compile: the function name '{}' is not letters, digits, '_' and '.' (it names its dump directory)", options.name);
  if (options.threads < 0 || options.threads > kMaxThreads)
    raise(loc, "compile: threads = {} is outside [0, {}] (0: LOOM_THREADS or all cores)", options.threads, kMaxThreads);
  const Tensor& anchor = !outputs.empty() ? outputs[0] : updates.empty() ? Tensor() : updates[0].first;
  auto* source = anchor.defined() ? dynamic_cast<Graph*>(anchor.graph()) : nullptr;
  if (!source) raise(loc, "compile: outputs and updates must be tensors of a loom::Graph");
  std::vector<Graph::AutomaticUpdate> automatic;
  for (const Graph::AutomaticUpdate& a : source->automatic_updates())
    if (options.training || !a.training_only) automatic.push_back(a);
  frontend::ExtractedFunction fn = frontend::extract_function(*source, inputs, outputs, updates, automatic, options.name, loc);

  passes::PassContext ctx;
  ctx.dump_dir = options.dump_dir;
  if (const char* env = std::getenv("LOOM_DUMP_DIR"); ctx.dump_dir.empty() && env) ctx.dump_dir = env;
  if (!ctx.dump_dir.empty()) ctx.dump_dir = (std::filesystem::path(ctx.dump_dir) / options.name).string();
  ctx.rewrite_limit = options.bisect_limit;
  if (const char* env = std::getenv("LOOM_BISECT_LIMIT"); ctx.rewrite_limit < 0 && env) ctx.rewrite_limit = std::atoll(env);
  // Under nan_guard nothing is overwritten in place, so a kernel that produced a NaN can be replayed on its
  // original operands, and a call that raises leaves the state as it was.
  ctx.memory_reuse = options.plan_memory && !options.nan_guard;
  ctx.state_in_place = !options.nan_guard;
  ctx.training = options.training;
  std::string pipeline = options.pipeline.empty() ? passes::resolve_pipeline(level_name(options.opt)) : options.pipeline;
  // Nothing runs dropout and its kin but their lowering: a pipeline without it (a custom list) gets it first.
  bool has_modes = false;
  for (ir::NodeId id = 0; id < fn.graph.num_nodes(); ++id) has_modes = has_modes || fn.graph.node(id).info().category == ir::OpCategory::Mode;
  if (has_modes && pipeline.find("modes") == std::string::npos) pipeline = "modes," + pipeline;
  // The JIT runs a memory plan; a pipeline without one (O0, a custom list) gets it last.
  if (options.backend == Backend::jit && pipeline.find("plan-memory") == std::string::npos) pipeline += ",plan-memory";
  passes::run_pipeline(fn.graph, pipeline, ctx);  // verifies its input and every change (ctx.verify_each)

  auto impl = std::make_shared<Function::Impl>();
  if (options.backend == Backend::jit) {
    int threads = options.threads;
    if (const char* env = std::getenv("LOOM_THREADS"); threads == 0 && env) threads = threads_from_environment(env, loc);
    impl->executable = codegen::make_jit(fn.graph, codegen::JitOptions{.threads = threads,
                                                                      .dump_dir = ctx.dump_dir,
                                                                      .check_finite = options.nan_guard,
                                                                      .target_cpu = options.target_cpu});
  } else {
    impl->executable = codegen::make_interpreter(
        fn.graph, codegen::InterpreterOptions{.check_finite = options.nan_guard, .perturbation_seed = options.perturbation_seed});
  }
  impl->graph = std::move(fn.graph);
  impl->store = source->store();
  for (ir::NodeId id : fn.state_sources) impl->state.push_back(impl->store->values.at(id));
  std::vector<ir::NodeId> sources = fn.state_sources;
  std::sort(sources.begin(), sources.end());
  for (ir::NodeId id : sources) impl->state_locks.push_back(&impl->store->locks.at(id));
  impl->report = passes::format_report(ctx);
  Function f;
  f.impl_ = std::move(impl);
  return f;
}

const Function::Impl& Function::body(SrcLoc where) const {
  if (!impl_) raise(SourceLoc::from(where), "Function: this Function was never compiled (default-constructed); assign it compile(...)");
  return *impl_;
}

std::vector<Array> Function::operator()(const std::vector<Array>& inputs, SrcLoc where) const {
  std::vector<Array> outputs;
  const ir::Graph& g = body(where).graph;
  for (ir::Value v : g.outputs) outputs.emplace_back(g.type(v).dtype, g.type(v).shape);
  call_into(inputs, outputs, where);
  return outputs;
}

void Function::call_into(const std::vector<Array>& inputs, std::vector<Array>& outputs, SrcLoc where) const {
  const ir::Graph& g = body(where).graph;
  if (inputs.size() != g.inputs.size())
    raise(SourceLoc::from(where), "{}: expects {} inputs ({}), got {}", g.name(), g.inputs.size(), signature(g), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) check_argument(g, i, inputs[i], where);
  if (outputs.size() != g.outputs.size())
    raise(SourceLoc::from(where), "{}: call_into needs {} output arrays, got {}", g.name(), g.outputs.size(), outputs.size());
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const TensorType& want = g.type(g.outputs[k]);
    if (outputs[k].type() != want)
      raise(SourceLoc::from(where), "{}: output array {} is {}, the output is {}", g.name(), k, outputs[k].type().str(), want.str());
    auto aliases = [&](const Array& other) { return other.raw() == outputs[k].raw() && other.nbytes() > 0; };
    bool shared = std::any_of(inputs.begin(), inputs.end(), aliases) ||
                  std::any_of(impl_->state.begin(), impl_->state.end(), aliases) ||
                  std::any_of(outputs.begin(), outputs.begin() + static_cast<std::ptrdiff_t>(k), aliases);
    if (shared)
      raise(SourceLoc::from(where), "{}: output array {} shares its buffer with an input, a shared variable or another output",
            g.name(), k);
  }
  std::lock_guard<std::mutex> lock(impl_->calls);
  SharedLocks shared(impl_->state_locks);
  impl_->executable->run_into(inputs, impl_->state, outputs);
}

std::string Function::ir() const { return ir::print(body(SrcLoc::current()).graph); }
const std::string& Function::report() const { return body(SrcLoc::current()).report; }
const ir::Graph& Function::graph() const { return body(SrcLoc::current()).graph; }

Array eval(const Expr& x, const std::vector<std::pair<Tensor, Array>>& feeds, SrcLoc loc) {
  std::vector<Tensor> inputs;
  std::vector<Array> values;
  for (const auto& [tensor, value] : feeds) {
    inputs.push_back(tensor);
    values.push_back(value);
  }
  CompileOptions options;
  options.name = "eval";
  return compile(inputs, {Tensor(x)}, {}, options, loc)(values, loc)[0];
}

}  // namespace loom
