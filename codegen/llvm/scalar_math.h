#pragma once
/// The scalar algebra of ir/scalar_semantics.h and the index algebra of ir/index_semantics.h over LLVM IR values:
/// what makes the JIT compute exactly the ops the interpreter computes. Strict IEEE (no fast-math flags), so +, -,
/// *, / round as the interpreter's do; transcendentals are intrinsics or libm calls that the loop vectorizer maps
/// to glibc's libmvec. Only `accumulate` may reassociate (a row's sum in vector partial sums).

#include <cstdint>
#include <utility>

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include "loom/codegen/llvm/row_exp.h"

namespace loom::codegen::llvm_backend {

struct LlvmMath {
  using V = llvm::Value*;
  using B = llvm::Value*;

  llvm::IRBuilder<>& b;
  llvm::Module& module;
  llvm::Type* type;  ///< float or double

  V constant(double v) { return llvm::ConstantFP::get(type, v); }
  V add(V x, V y) { return b.CreateFAdd(x, y); }
  V sub(V x, V y) { return b.CreateFSub(x, y); }
  V mul(V x, V y) { return b.CreateFMul(x, y); }
  V div(V x, V y) { return b.CreateFDiv(x, y); }
  V neg(V x) { return b.CreateFNeg(x); }
  V pow(V x, V y) { return b.CreateBinaryIntrinsic(llvm::Intrinsic::pow, x, y); }
  V exp(V x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::exp, x); }
  V log(V x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::log, x); }
  V sqrt(V x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x); }
  V abs(V x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
  V cos(V x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::cos, x); }
  V expm1(V x) { return libm("expm1", x); }
  V log1p(V x) { return libm("log1p", x); }
  V tanh(V x) { return libm("tanh", x); }
  // C++'s comparisons: ordered (false on NaN), except != which is true on NaN.
  B lt(V x, V y) { return b.CreateFCmpOLT(x, y); }
  B le(V x, V y) { return b.CreateFCmpOLE(x, y); }
  B gt(V x, V y) { return b.CreateFCmpOGT(x, y); }
  B ge(V x, V y) { return b.CreateFCmpOGE(x, y); }
  B eq(V x, V y) { return b.CreateFCmpOEQ(x, y); }
  B ne(V x, V y) { return b.CreateFCmpUNE(x, y); }
  B any(B x, B y) { return b.CreateOr(x, y); }
  V select(B c, V x, V y) { return b.CreateSelect(c, x, y); }
  V from_bool(B c) { return b.CreateUIToFP(c, type); }
  B is_true(V x) { return b.CreateFCmpUNE(x, constant(0.0)); }
  /// acc + x, marked reassociable so the vectorizer may keep several partial sums: a blocked order fixed at
  /// compile time (the same on every run and for any number of threads), within rounding of the interpreter's.
  V accumulate(V acc, V x) {
    auto* sum = llvm::cast<llvm::Instruction>(b.CreateFAdd(acc, x));
    llvm::FastMathFlags flags;
    flags.setAllowReassoc();
    sum->setFastMathFlags(flags);
    return sum;
  }
  /// f32: the inline exponential of row_exp.h (a libmvec call would spill a row loop's registers).
  V exp_nonpositive(V x) { return type->isFloatTy() ? exp_nonpositive_f32(b, x) : exp(x); }

  /// A call to the libm function `name` (with an `f` suffix in single precision).
  V libm(const char* name, V x) {
    std::string symbol = std::string(name) + (type->isFloatTy() ? "f" : "");
    llvm::FunctionCallee f = module.getOrInsertFunction(symbol, type, type);
    if (auto* fn = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
      fn->setDoesNotThrow();
      fn->setDoesNotAccessMemory();  // errno is never read (-fno-math-errno): the vectorizer may map the call
    }
    return b.CreateCall(f, {x});
  }
};

/// ir/random_semantics.h's word algebra over i32 LLVM values (Philox inside kernels).
struct LlvmWords {
  using V = llvm::Value*;

  llvm::IRBuilder<>& b;

  V constant(std::uint32_t v) { return b.getInt32(v); }
  V add(V x, V y) { return b.CreateAdd(x, y); }
  V xor_(V x, V y) { return b.CreateXor(x, y); }
  std::pair<V, V> mul_wide(V x, V y) {
    V product = b.CreateMul(b.CreateZExt(x, b.getInt64Ty()), b.CreateZExt(y, b.getInt64Ty()));
    return {b.CreateTrunc(b.CreateLShr(product, 32), b.getInt32Ty()), b.CreateTrunc(product, b.getInt32Ty())};
  }
  V as_double(V x) { return b.CreateUIToFP(x, b.getDoubleTy()); }
};

/// ir/index_semantics.h's index algebra over i64 LLVM values (divisions only ever see non-negative dividends).
struct LlvmIndex {
  using V = llvm::Value*;
  using B = llvm::Value*;

  llvm::IRBuilder<>& b;

  V constant(std::int64_t v) { return b.getInt64(static_cast<std::uint64_t>(v)); }
  V add(V x, V y) { return b.CreateAdd(x, y); }
  V sub(V x, V y) { return b.CreateSub(x, y); }
  V mul(V x, V y) { return b.CreateMul(x, y); }
  V div(V x, V y) { return b.CreateUDiv(x, y); }
  V rem(V x, V y) { return b.CreateURem(x, y); }
  B lt(V x, V y) { return b.CreateICmpSLT(x, y); }
  B ge(V x, V y) { return b.CreateICmpSGE(x, y); }
  B eq(V x, V y) { return b.CreateICmpEQ(x, y); }
  B both(B x, B y) { return b.CreateAnd(x, y); }
  B truth(bool v) { return b.getInt1(v); }
  V select(B c, V x, V y) { return b.CreateSelect(c, x, y); }
};

}  // namespace loom::codegen::llvm_backend
