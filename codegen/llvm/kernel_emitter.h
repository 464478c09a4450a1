#pragma once
/// Emits one fused kernel body (loop, reduce or row) as an LLVM function (see jit.h for its signature).

#include <llvm/IR/Module.h>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// Adds `void <body name>(ptr buffers, i64 begin, i64 end)` to `module`.
void emit_kernel(const ir::Graph& body, llvm::Module& module);

}  // namespace loom::codegen::llvm_backend
