#include "loom/codegen/llvm/row_exp.h"

namespace loom::codegen::llvm_backend {

llvm::Value* exp_nonpositive_f32(llvm::IRBuilder<>& b, llvm::Value* t) {
  llvm::Type* f32 = b.getFloatTy();
  llvm::Type* i32 = b.getInt32Ty();
  auto c = [&](float v) { return llvm::ConstantFP::get(f32, v); };
  auto fma = [&](llvm::Value* x, llvm::Value* y, llvm::Value* z) {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {f32}, {x, y, z});
  };
  // Below -104, exp(t) rounds to 0 in float; clamping keeps n in range (maxnum also turns NaN into -104, which
  // the last select undoes).
  llvm::Value* x = b.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum, t, c(-104.0f));
  llvm::Value* n = b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, b.CreateFMul(x, c(1.44269504088896341f)));
  // r = x - n·ln2, with ln2 = 0.693359375 - 2.12194440e-4 (the first part exact in a few bits).
  llvm::Value* r = fma(n, c(-0.693359375f), x);
  r = fma(n, c(2.12194440e-4f), r);
  llvm::Value* p = c(1.9875691500e-4f);
  for (float coefficient : {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f})
    p = fma(p, r, c(coefficient));
  llvm::Value* y = fma(b.CreateFMul(p, r), r, b.CreateFAdd(r, c(1.0f)));
  // y·2^n as y·2^(n/2)·2^(n - n/2): each factor a normal float, the product rounded once into the subnormals.
  // (llvm.ldexp would say this directly, but LLVM 19 lowers it to a libm call per element on x86.)
  llvm::Value* k = b.CreateFPToSI(n, i32);
  llvm::Value* half = b.CreateAShr(k, 1);
  auto power_of_two = [&](llvm::Value* e) {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(e, b.getInt32(127)), 23), f32);
  };
  llvm::Value* result = b.CreateFMul(b.CreateFMul(y, power_of_two(half)), power_of_two(b.CreateSub(k, half)));
  return b.CreateSelect(b.CreateFCmpUNO(t, t), t, result);
}

}  // namespace loom::codegen::llvm_backend
