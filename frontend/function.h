#pragma once
/// compile() turns recorded tensors into a Function: the needed part of the graph, run through the pass pipeline,
/// executed by a backend. Calls follow Theano: outputs and every update are computed from the old state, then all
/// updates are assigned.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loom/frontend/graph.h"

namespace loom {

enum class OptLevel { O0, O1, O2 };

/// The most worker threads a Function may ask for: beyond it libgomp fails or exits inside the user's process,
/// and no machine of this project has as many cores.
inline constexpr int kMaxThreads = 1024;
enum class Backend { jit, interpreter };

struct CompileOptions {
  /// O0 runs only what execution needs (Theano's optimizer=None); O2 is the full pipeline.
  OptLevel opt = OptLevel::O2;
  /// Backend::jit compiles every fused kernel with LLVM (cached on disk) and runs f32 matmuls through oneDNN;
  /// Backend::interpreter is the reference oracle.
  Backend backend = Backend::jit;
  /// false gives inference behaviour of dropout (the identity): the `modes` pass lowers such ops for one or the
  /// other. Compiled for training, a Function that uses random ops advances the graph's step counter each call.
  bool training = true;
  /// When set, the IR before and after every pass is written to <dump_dir>/<name>/ as numbered .loom files
  /// (0000.input.loom, 0001.after-canonicalize.loom, ...). The environment variable LOOM_DUMP_DIR sets it too.
  std::string dump_dir;
  /// Overrides `opt` with an explicit pass list, e.g. "autodiff,dce".
  std::string pipeline;
  /// Checks every intermediate (on the JIT: every kernel's results) for NaN and Inf and raises an Error naming the
  /// op and line that produced one. Memory is then planned without in-place reuse.
  bool nan_guard = false;
  /// Worker threads for compiled kernels, at most kMaxThreads (0: the environment variable LOOM_THREADS, else
  /// OpenMP's default). Results are bit-identical for any count. The interpreter is single-threaded. The JIT also
  /// compiles the kernels of a large graph on this many threads (0 and no LOOM_THREADS: every core).
  int threads = 0;
  /// Memory planning (the plan-memory pass): false gives every intermediate bytes of its own and computes no
  /// result in place (the baseline the plan is measured against; results are bit-identical either way).
  bool plan_memory = true;
  /// The function's name in IR dumps.
  std::string name = "main";
  /// Stop rewriting after this many rewrites (negative: no limit), to find a miscompiling rewrite by bisection.
  /// The environment variable LOOM_BISECT_LIMIT sets it too, as LOOM_DUMP_DIR sets dump_dir.
  std::int64_t bisect_limit = -1;
  /// The CPU the JIT compiles kernels for: empty for the environment variable LOOM_TARGET_CPU, else "host" (this
  /// CPU, all its features); or an LLVM CPU name such as "x86-64-v3" (AVX2 and FMA, what every machine of this
  /// project has) or "x86-64-v4" (AVX-512), to test the narrower code paths on a wider machine. A CPU that needs a
  /// feature this machine lacks is refused. Results stay within rounding of each other (docs/IR.md).
  std::string target_cpu;
  /// With Backend::interpreter and a non-zero seed: Monte Carlo arithmetic, every arithmetic result perturbed by a
  /// relative ±u (u: the unit roundoff of its dtype). A few such runs show how far rounding moves each result,
  /// i.e. how well conditioned the computation is; the differential tests set their tolerances from it.
  std::uint64_t perturbation_seed = 0;
};

using Updates = std::vector<std::pair<Tensor, Tensor>>;

namespace codegen {
class Executable;
}

/// A compiled function. Calls are serialized (one at a time per Function): a call runs in the function's
/// preallocated arena and updates the shared variables in place.
class Function {
 public:
  /// Runs one call. Throws Error naming the input, expected and actual types, and the caller's line on a wrong
  /// count, dtype or shape; on any error no shared variable changes. The returned arrays are new: they stay
  /// valid and unchanged after later calls.
  std::vector<Array> operator()(const std::vector<Array>& inputs, SrcLoc loc = SrcLoc::current()) const;
  /// The same call writing the outputs into the caller's arrays (of the output types, distinct from each other,
  /// from the inputs and from the shared variables); with the JIT it allocates nothing.
  void call_into(const std::vector<Array>& inputs, std::vector<Array>& outputs, SrcLoc loc = SrcLoc::current()) const;
  /// The final IR as text.
  std::string ir() const;
  /// The final IR.
  const ir::Graph& graph() const;
  /// What compilation did: each pass with its time, rewrite counts and whether it changed the graph, the schedule
  /// chosen and the memory plan (arena bytes against the liveness lower bound and the no-reuse total).
  const std::string& report() const;

 private:
  /// compile()'s work, run on a thread with a large stack (function.cpp).
  friend Function compile_here(const std::vector<Tensor>&, const std::vector<Tensor>&, const Updates&,
                               const CompileOptions&, SrcLoc);
  struct Impl;
  /// impl_, or an Error naming `loc` when this Function was default-constructed and never compiled.
  const Impl& body(SrcLoc loc) const;
  std::shared_ptr<const Impl> impl_;
};

Function compile(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs, const Updates& updates = {},
                 const CompileOptions& options = {}, SrcLoc loc = SrcLoc::current());

/// Computes one tensor now, with the given input values and the current shared values.
Array eval(const Expr& x, const std::vector<std::pair<Tensor, Array>>& feeds = {}, SrcLoc loc = SrcLoc::current());

}  // namespace loom
