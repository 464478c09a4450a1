#pragma once
/// exp(t) for t <= 0 in single precision, as inline LLVM IR, for the exponentials of softmax-like rows
/// (t = x - max(row)).
///
/// Why not the vector library: a row kernel is bound by its exponentials, and libmvec's exp is a call that the
/// loop cannot inline, so every call spills the loop's vector registers; measured on softmax over [4096, 1000],
/// the calls cost more than the row's memory traffic. Inline, the same computation overlaps with the loads and
/// stores (oneDNN's softmax does the same with its own JIT-ed exp). The method is Cephes' expf: t = n·ln2 + r with
/// |r| <= ln2/2 (ln2 split in two for an exact reduction), exp(r) by a polynomial (error about 1 ulp), then the
/// scaling by 2^n in two halves, so that results down to the smallest subnormal round correctly.

#include <llvm/IR/IRBuilder.h>

namespace loom::codegen::llvm_backend {

/// exp(t) for a float t <= 0 or NaN (NaN gives NaN, -inf gives 0).
llvm::Value* exp_nonpositive_f32(llvm::IRBuilder<>& b, llvm::Value* t);

}  // namespace loom::codegen::llvm_backend
