#pragma once
/// The pass interface and pipelines. A pipeline is one readable string ("autodiff,dce"), used alike by
/// CompileOptions::pipeline and (in #3) loom-opt --passes=.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::passes {

struct PassContext {
  /// Run the verifier after every pass (tests and debug builds).
  bool verify_each = true;
  /// When set, the IR is written there before the pipeline (0000.input.loom) and after each pass
  /// (0001.after-autodiff.loom, ...).
  std::string dump_dir;
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  /// Rewrites `g`; returns whether anything changed.
  virtual bool run(ir::Graph& g, PassContext& ctx) = 0;
};

/// A pass by name; throws Error listing the known names.
std::unique_ptr<Pass> create_pass(std::string_view name);
/// Names of every registered pass, in registration order.
std::vector<std::string_view> pass_names();

/// The pipeline of a named optimization level ("O0", "O1", "O2"); any other text is returned unchanged.
std::string resolve_pipeline(std::string_view pipeline);
/// Runs a comma-separated pipeline (or a level name) over `g`.
void run_pipeline(ir::Graph& g, std::string_view pipeline, PassContext& ctx);

}  // namespace loom::passes
