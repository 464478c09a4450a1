#pragma once
/// Which values a kernel body computes where: its reductions, its iteration space, its rows (kernel_space and
/// kernel_rows are declared in jit.h). Shared by the emitter and the runtime; no LLVM types.

#include <cstdint>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// Elementwise kernels split their last dimension into rows of at most this many elements.
inline constexpr std::int64_t kLoopBlock = 8192;

/// The reductions (several sharing one pass), or the one normalization or loss, of a kernel body, in order.
std::vector<const ir::Node*> reduction_roots(const ir::Graph& body);
/// The first of them, or nullptr for an elementwise body.
const ir::Node* reduction_root(const ir::Graph& body);
/// For each node of the body: whether it is computed from a root's result (the per-row epilogue).
std::vector<bool> computed_after_roots(const ir::Graph& body);

}  // namespace loom::codegen::llvm_backend
