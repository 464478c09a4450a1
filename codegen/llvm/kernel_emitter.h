#pragma once
/// Emits one fused kernel body (loop, reduce or row) as an LLVM function (see jit.h for its signature).

#include <llvm/IR/Module.h>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// Elementwise kernels split their last dimension into rows of at most this many elements.
inline constexpr std::int64_t kLoopBlock = 8192;

/// Adds `void <body name>(ptr buffers, i64 begin, i64 end)` to `module`.
void emit_kernel(const ir::Graph& body, llvm::Module& module);

/// The axes a reduction node of `body` reduces, with "all" (axes = []) spelled out.
std::vector<std::int64_t> reduced_axes(const ir::Graph& body, const ir::Node& n);
/// The reductions (several sharing one pass), or the one normalization or loss, of a kernel body, in order.
std::vector<const ir::Node*> reduction_roots(const ir::Graph& body);
/// The first of them, or nullptr for an elementwise body.
const ir::Node* reduction_root(const ir::Graph& body);
/// For each node of the body: whether it is computed from a root's result (the per-row epilogue).
std::vector<bool> computed_after_roots(const ir::Graph& body);

}  // namespace loom::codegen::llvm_backend
