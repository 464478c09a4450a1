#include "loom/frontend/function.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/ranges.h>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/jit_executable.h"
#include "loom/frontend/extract.h"
#include "loom/ir/printer.h"
#include "loom/ir/verifier.h"
#include "loom/passes/pass.h"

namespace loom {

struct Function::Impl {
  ir::Graph graph;
  std::vector<ir::NodeId> state_sources;
  std::shared_ptr<SharedStore> store;
  std::unique_ptr<codegen::Executable> executable;
  std::string report;
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

/// Checks one argument against its parameter; the message names the mismatching dimension.
void check_argument(const ir::Graph& g, std::size_t i, const Array& arg, const SourceLoc& loc) {
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
  raise(loc, "{}: input '{}' (argument {}) expects {}, got {}: {}", g.name(), param.name, i, want.str(),
        arg.type().str(), why);
}

}  // namespace

Function compile(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs, const Updates& updates,
                 const CompileOptions& options, SrcLoc where) {
  SourceLoc loc = SourceLoc::from(where);
  const Tensor& anchor = !outputs.empty() ? outputs[0] : updates.empty() ? Tensor() : updates[0].first;
  auto* source = anchor.defined() ? dynamic_cast<Graph*>(anchor.graph()) : nullptr;
  if (!source) raise(loc, "compile: outputs and updates must be tensors of a loom::Graph");
  frontend::ExtractedFunction fn = frontend::extract_function(*source, inputs, outputs, updates, options.name, loc);

  passes::PassContext ctx;
  ctx.dump_dir = options.dump_dir;
  if (const char* env = std::getenv("LOOM_DUMP_DIR"); ctx.dump_dir.empty() && env) ctx.dump_dir = env;
  if (!ctx.dump_dir.empty()) ctx.dump_dir = (std::filesystem::path(ctx.dump_dir) / options.name).string();
  ctx.rewrite_limit = options.bisect_limit;
  if (const char* env = std::getenv("LOOM_BISECT_LIMIT"); ctx.rewrite_limit < 0 && env) ctx.rewrite_limit = std::atoll(env);
  passes::run_pipeline(fn.graph, options.pipeline.empty() ? level_name(options.opt) : options.pipeline, ctx);
  ir::verify(fn.graph);

  auto impl = std::make_shared<Function::Impl>();
  if (options.backend == Backend::jit) {
    int threads = options.threads;
    if (const char* env = std::getenv("LOOM_THREADS"); threads == 0 && env) threads = std::atoi(env);
    impl->executable = codegen::make_jit(fn.graph, codegen::JitOptions{.threads = threads, .dump_dir = ctx.dump_dir, .check_finite = options.nan_guard});
  } else {
    impl->executable = codegen::make_interpreter(fn.graph, codegen::InterpreterOptions{.check_finite = options.nan_guard});
  }
  impl->graph = std::move(fn.graph);
  impl->state_sources = std::move(fn.state_sources);
  impl->store = source->store();
  impl->report = passes::format_report(ctx);
  Function f;
  f.impl_ = std::move(impl);
  return f;
}

std::vector<Array> Function::operator()(const std::vector<Array>& inputs, SrcLoc where) const {
  SourceLoc loc = SourceLoc::from(where);
  const ir::Graph& g = impl_->graph;
  if (inputs.size() != g.inputs.size())
    raise(loc, "{}: expects {} inputs ({}), got {}", g.name(), g.inputs.size(), signature(g), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) check_argument(g, i, inputs[i], loc);
  std::vector<Array> state;
  for (ir::NodeId source : impl_->state_sources) state.push_back(impl_->store->values.at(source));
  std::vector<Array> results = impl_->executable->run(inputs, state);
  // Every update was computed from the old state above; only now are they assigned.
  std::size_t num_outputs = g.outputs.size();
  for (std::size_t k = 0; k < g.updates.size(); ++k) {
    ir::NodeId target = g.updates[k].first;
    auto slot = std::find(g.state.begin(), g.state.end(), target) - g.state.begin();
    impl_->store->values[impl_->state_sources[static_cast<std::size_t>(slot)]] = std::move(results[num_outputs + k]);
  }
  results.resize(num_outputs);
  return results;
}

std::string Function::ir() const { return ir::print(impl_->graph); }
const std::string& Function::report() const { return impl_->report; }
const ir::Graph& Function::graph() const { return impl_->graph; }

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
