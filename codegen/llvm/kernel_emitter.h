#pragma once
/// Emits one fused kernel body (loop, reduce or row) as an LLVM function (see jit.h for its signature).

#include <llvm/IR/Module.h>

#include "loom/codegen/llvm/jit.h"

namespace loom::codegen::llvm_backend {

/// Adds `i64 <body name>(ptr buffers, i64 begin, i64 end)` to `module`, as the kernel's shape describes it.
/// Output k is stored through input `output_overwrites[k]`'s pointer when that is not -1 (an in-place result);
/// buffers in the arena are addressed from its address (KernelSource::arena_offsets).
void emit_kernel(const KernelSource& kernel, llvm::Module& module);

}  // namespace loom::codegen::llvm_backend
