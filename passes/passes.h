#pragma once
/// Every pass of loom, one class each; the implementation and its "why" live in the .cpp named after the pass.

#include "loom/passes/pass.h"

namespace loom::passes {

/// modes (modes.cpp): lowers dropout (and the other ops whose training and inference behaviour differ) for
/// PassContext::training.
class Modes final : public Pass {
 public:
  std::string_view name() const override { return "modes"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// autodiff (autodiff/autodiff.cpp): replaces every `grad` node with the gradient graph built by reverse
/// accumulation from the op rules (autodiff/rules.cpp). Inner grads expand first, so grads of grads work.
class Autodiff final : public Pass {
 public:
  std::string_view name() const override { return "autodiff"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// canonicalize (canonicalize.cpp): constant folding, algebraic identities, layout folding.
class Canonicalize final : public Pass {
 public:
  std::string_view name() const override { return "canonicalize"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override;
};

/// cse (cse.cpp): merges structurally identical nodes.
class CommonSubexpressionElimination final : public Pass {
 public:
  std::string_view name() const override { return "cse"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override { return {"merge"}; }
};

/// stabilize (stabilize.cpp): replaces numerically fragile patterns with stable ops.
class Stabilize final : public Pass {
 public:
  std::string_view name() const override { return "stabilize"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override;
};

/// The most ops one kernel computes. LLVM's time per op grows with a function's size: a 16,000-op chain with its
/// gradient as one kernel took 97 s to compile, as kernels of at most 64, 256 or 1,024 ops 10, 12 or 21 s
/// (docs/PERFORMANCE.md). A kernel of a few hundred ops is bound by arithmetic, not memory, so a split costs one
/// store and one load per kMaxKernelOps ops.
inline constexpr std::size_t kMaxKernelOps = 256;

/// fuse (fuse.cpp): groups elementwise chains, reductions and row-wise ops with their producers into kernels.
class Fuse final : public Pass {
 public:
  std::string_view name() const override { return "fuse"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// rematerialize (rematerialize.cpp): a kernel recomputes a cheap value another kernel stored, from that kernel's
/// operands, instead of loading it; results nobody reads then go.
class Rematerialize final : public Pass {
 public:
  std::string_view name() const override { return "rematerialize"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
  std::vector<std::string_view> rule_names() const override { return {"recompute"}; }
};

/// schedule (schedule.cpp): orders the steps (renumbering the graph) to lower the peak of live memory, trying
/// several list-scheduling heuristics and keeping the best; readers of a state's old value go before the step
/// that computes its update, so the update can be written in place.
class Schedule final : public Pass {
 public:
  std::string_view name() const override { return "schedule"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// plan-memory (plan_memory.cpp): gives every value a buffer (ir/buffer.h, semantics in ir/memory_plan.h):
/// outputs their caller's array, updates their state's buffer when no later step reads the old value, and every
/// other intermediate a range of one arena, reusing an elementwise operand's bytes where it dies, placed by the
/// best of several first-fit orders.
class PlanMemory final : public Pass {
 public:
  std::string_view name() const override { return "plan-memory"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

/// Byte counts of a planned graph, for reports and tests.
struct MemoryStats {
  std::int64_t arena = 0;          ///< the planned arena
  std::int64_t lower_bound = 0;    ///< the largest sum of arena bytes live at one step
  std::int64_t no_reuse = 0;       ///< every arena value in bytes of its own
  std::int64_t state = 0;          ///< parameters and optimizer slots (the caller's buffers)
  std::int64_t in_place_results = 0, in_place_updates = 0, updates = 0;
  /// What is live at the step where the arena is fullest, in bytes and values per role: "saved for backward"
  /// (a forward value a gradient step reads later), "gradient", "workspace" (other forward values).
  std::size_t peak_step = 0;
  std::map<std::string, std::pair<std::int64_t, int>> peak_roles;
};
MemoryStats memory_stats(const ir::Graph& planned);
/// "64 B", "3.9 KiB", "2.05 MiB": byte counts as the reports print them.
std::string bytes_text(std::int64_t bytes);
/// The stats as the lines Function::report() and loom-opt --stats show.
std::string format_memory_stats(const ir::Graph& planned, const MemoryStats& stats);

/// dce (dce.cpp): marks dead every node that no output or update needs. Parameters stay: they are the signature.
class DeadCodeElimination final : public Pass {
 public:
  std::string_view name() const override { return "dce"; }
  bool run(ir::Graph& g, PassContext& ctx) override;
};

}  // namespace loom::passes
