#pragma once
/// Emits one fused kernel body (loop, reduce or row) as an LLVM function (see jit.h for its signature).

#include <llvm/IR/Module.h>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// Adds `void <body name>(ptr buffers, i64 begin, i64 end)` to `module`. Output k is stored through input
/// `output_overwrites[k]`'s pointer when that is not -1 (an in-place result; see KernelSource in jit.h).
void emit_kernel(const ir::Graph& body, const std::vector<int>& output_overwrites, llvm::Module& module);

}  // namespace loom::codegen::llvm_backend
