#pragma once
/// The compiled backend: every fused kernel of a function compiled by LLVM into one module, matmuls through
/// oneDNN (f32) or the project's own kernel (f64), run over the function's memory plan.

#include <memory>
#include <string>

#include "loom/codegen/executable.h"
#include "loom/ir/graph.h"

namespace loom::codegen {

struct JitOptions {
  /// Worker threads for the kernels (0: OpenMP's default). Results do not depend on it.
  int threads = 0;
  /// When set, the optimized LLVM IR and the assembly of the kernels are written there (kernels.ll, kernels.s).
  std::string dump_dir;
  /// Check every kernel's results for NaN and Inf; on one, replay that kernel on the interpreter to name the op
  /// and line that produced it.
  bool check_finite = false;
  /// Called with each step's results after the step runs.
  StepObserver observe;
  /// The CPU the kernels are compiled for (llvm_backend::CompileRequest::target_cpu): "host", an LLVM CPU name
  /// such as "x86-64-v3", or empty for the environment variable LOOM_TARGET_CPU.
  std::string target_cpu;
};

/// Takes a verified graph with no `grad` nodes. Elementwise, layout and reduction ops outside fused nodes (as at
/// O0) become single-op kernels.
std::unique_ptr<Executable> make_jit(ir::Graph graph, const JitOptions& options = {});

}  // namespace loom::codegen
