#pragma once
/// Emits one fused kernel body (loop, reduce or row) as an LLVM function (see jit.h for its signature).

#include <llvm/IR/Module.h>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// Adds `void <body name>(ptr buffers, i64 begin, i64 end)` to `module`.
void emit_kernel(const ir::Graph& body, llvm::Module& module);

/// The reduction, normalization or loss that ends a kernel body, or nullptr for an elementwise body.
const ir::Node* reduction_root(const ir::Graph& body);

}  // namespace loom::codegen::llvm_backend
