#include "loom/codegen/llvm/loop_emitter.h"

#include <map>

#include "loom/codegen/llvm/jit.h"
#include "loom/codegen/llvm/scalar_math.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen::llvm_backend {

namespace {

using ir::OpKind;
/// For each dimension of a value, the loop dimension that indexes it, or -1 where it is broadcast (index 0).
using IndexMap = std::vector<int>;

llvm::Type* storage_type(llvm::LLVMContext& ctx, DType dtype) {
  switch (dtype) {
    case DType::f32: return llvm::Type::getFloatTy(ctx);
    case DType::f64: return llvm::Type::getDoubleTy(ctx);
    case DType::i32: return llvm::Type::getInt32Ty(ctx);
    case DType::i64: return llvm::Type::getInt64Ty(ctx);
    case DType::b8: return llvm::Type::getInt8Ty(ctx);
  }
  return nullptr;
}

/// The index map of an operand of shape `from` read by a node whose index map is `to_map` (NumPy broadcasting:
/// operand dimensions align right; size-1 dimensions that the node stretches are broadcast).
IndexMap broadcast_map(const Shape& from, const Shape& to, const IndexMap& to_map) {
  IndexMap map(from.size(), -1);
  std::size_t shift = to.size() - from.size();
  for (std::size_t d = 0; d < from.size(); ++d) map[d] = (from[d] == 1 && to[d + shift] != 1) ? -1 : to_map[d + shift];
  return map;
}

class LoopEmitter {
 public:
  LoopEmitter(const ir::Graph& body, llvm::Module& module)
      : body_(body), module_(module), ctx_(module.getContext()), b_(ctx_), space_(loop_space(body)) {}

  void emit() {
    auto* ptr = llvm::PointerType::get(ctx_, 0);
    auto* i64 = llvm::Type::getInt64Ty(ctx_);
    std::size_t n_buffers = body_.inputs.size() + body_.outputs.size();

    // The body function takes every buffer as a noalias pointer; inlined into the entry, that becomes alias
    // metadata the vectorizer trusts.
    std::vector<llvm::Type*> params(n_buffers, ptr);
    params.push_back(i64);
    params.push_back(i64);
    auto* body_fn = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), params, false),
                                           llvm::Function::InternalLinkage, body_.name() + ".body", module_);
    body_fn->addFnAttr(llvm::Attribute::AlwaysInline);
    for (std::size_t i = 0; i < n_buffers; ++i) body_fn->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::NoAlias);
    emit_rows(body_fn);

    auto* entry_fn = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), {ptr, i64, i64}, false),
                                            llvm::Function::ExternalLinkage, body_.name(), module_);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", entry_fn));
    std::vector<llvm::Value*> args;
    for (std::size_t i = 0; i < n_buffers; ++i)
      args.push_back(b_.CreateLoad(ptr, b_.CreateConstGEP1_64(ptr, entry_fn->getArg(0), i)));
    args.push_back(entry_fn->getArg(1));
    args.push_back(entry_fn->getArg(2));
    b_.CreateCall(body_fn, args);
    b_.CreateRetVoid();
  }

 private:
  /// for row in [begin, end): decompose row into the outer indices; for j in [0, inner): compute and store.
  void emit_rows(llvm::Function* fn) {
    auto* i64 = b_.getInt64Ty();
    std::size_t n_in = body_.inputs.size();
    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn);
    auto* row_head = llvm::BasicBlock::Create(ctx_, "row", fn);
    auto* inner_head = llvm::BasicBlock::Create(ctx_, "inner", fn);
    auto* inner_done = llvm::BasicBlock::Create(ctx_, "row.next", fn);
    auto* exit = llvm::BasicBlock::Create(ctx_, "exit", fn);
    llvm::Value* begin = fn->getArg(static_cast<unsigned>(fn->arg_size() - 2));
    llvm::Value* end = fn->getArg(static_cast<unsigned>(fn->arg_size() - 1));
    std::int64_t inner = space_.empty() ? 1 : space_.back();

    b_.SetInsertPoint(entry);
    if (num_elements(space_) == 0) {  // nothing to compute; keep the blocks well formed
      b_.CreateBr(exit);
      for (auto* unused : {row_head, inner_head, inner_done}) unused->eraseFromParent();
      b_.SetInsertPoint(exit);
      b_.CreateRetVoid();
      return;
    }
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), row_head, exit);

    b_.SetInsertPoint(row_head);
    llvm::PHINode* row = b_.CreatePHI(i64, 2, "row");
    row->addIncoming(begin, entry);
    // Outer indices from the row number (row-major over all dimensions but the last).
    index_.assign(space_.size(), nullptr);
    llvm::Value* rest = row;
    for (std::size_t d = space_.size() >= 1 ? space_.size() - 1 : 0; d-- > 0;) {
      llvm::Value* dim = b_.getInt64(space_[d]);
      index_[d] = b_.CreateURem(rest, dim);
      rest = b_.CreateUDiv(rest, dim);
    }
    llvm::BasicBlock* row_body = b_.GetInsertBlock();
    b_.CreateBr(inner_head);

    b_.SetInsertPoint(inner_head);
    llvm::PHINode* j = b_.CreatePHI(i64, 2, "j");
    j->addIncoming(b_.getInt64(0), row_body);
    if (!space_.empty()) index_.back() = j;
    memo_.clear();
    for (std::size_t k = 0; k < n_in; ++k) inputs_[body_.inputs[k]] = fn->getArg(static_cast<unsigned>(k));
    IndexMap identity(space_.size());
    for (std::size_t d = 0; d < identity.size(); ++d) identity[d] = static_cast<int>(d);
    llvm::Value* flat = b_.CreateAdd(b_.CreateMul(row, b_.getInt64(inner)), j);
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      ir::Value out = body_.outputs[k];
      llvm::Value* value = emit(out, identity);
      llvm::Type* t = storage_type(ctx_, body_.type(out).dtype);
      b_.CreateStore(value, b_.CreateGEP(t, fn->getArg(static_cast<unsigned>(n_in + k)), flat));
    }
    llvm::Value* next_j = b_.CreateAdd(j, b_.getInt64(1));
    j->addIncoming(next_j, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(next_j, b_.getInt64(inner)), inner_head, inner_done);

    b_.SetInsertPoint(inner_done);
    llvm::Value* next_row = b_.CreateAdd(row, b_.getInt64(1));
    row->addIncoming(next_row, inner_done);
    b_.CreateCondBr(b_.CreateICmpSLT(next_row, end), row_head, exit);

    b_.SetInsertPoint(exit);
    b_.CreateRetVoid();
  }

  /// The value of `v` at the current loop index, seen through `map`, in its storage type.
  llvm::Value* emit(ir::Value v, const IndexMap& map) {
    auto key = std::make_pair(v.node, map);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    const ir::Node& n = body_.node(v);
    const TensorType& type = n.results[0];
    llvm::Value* result = nullptr;
    switch (n.op) {
      case OpKind::input: {
        std::vector<std::int64_t> strides = row_major_strides(type.shape);
        llvm::Value* offset = b_.getInt64(0);
        for (std::size_t d = 0; d < map.size(); ++d)
          if (map[d] >= 0) offset = b_.CreateAdd(offset, b_.CreateMul(index_[static_cast<std::size_t>(map[d])], b_.getInt64(strides[d])));
        llvm::Type* t = storage_type(ctx_, type.dtype);
        result = b_.CreateLoad(t, b_.CreateGEP(t, inputs_.at(v.node), offset));
        break;
      }
      case OpKind::constant: result = from_double(n.attrs.get_float("value"), type.dtype); break;
      case OpKind::broadcast_to: result = emit(n.operands[0], broadcast_map(body_.type(n.operands[0]).shape, type.shape, map)); break;
      case OpKind::transpose: {
        const auto& perm = n.attrs.get_ints("perm");
        IndexMap in(map.size());
        for (std::size_t d = 0; d < perm.size(); ++d) in[static_cast<std::size_t>(perm[d])] = map[d];
        result = emit(n.operands[0], in);
        break;
      }
      default:
        if (n.info().category != ir::OpCategory::Elementwise)
          raise(n.loc, "llvm backend: {} cannot be part of a loop kernel", ir::op_name(n.op));
        result = elementwise(n, map);
    }
    memo_[key] = result;
    return result;
  }

  llvm::Value* elementwise(const ir::Node& n, const IndexMap& map) {
    std::vector<DType> dtypes;
    for (ir::Value o : n.operands) dtypes.push_back(body_.type(o).dtype);
    DType result_dtype = n.results[0].dtype;
    bool f32 = ir::computes_in_f32(result_dtype, dtypes);
    llvm::Type* compute = f32 ? b_.getFloatTy() : b_.getDoubleTy();
    std::vector<llvm::Value*> args;
    for (ir::Value o : n.operands)
      args.push_back(to_compute(emit(o, broadcast_map(body_.type(o).shape, n.results[0].shape, map)), body_.type(o).dtype, compute));
    LlvmMath math{b_, module_, compute};
    llvm::Value* value = ir::elementwise(n.op, n.attrs, math, std::span<llvm::Value* const>(args));
    return from_compute(value, result_dtype);
  }

  /// Storage → compute type, as the interpreter's load (Array::get then a cast) does.
  llvm::Value* to_compute(llvm::Value* v, DType dtype, llvm::Type* compute) {
    switch (dtype) {
      case DType::f32:
      case DType::f64: return b_.CreateFPCast(v, compute);
      case DType::i32:
      case DType::i64: return b_.CreateSIToFP(v, compute);
      case DType::b8: return b_.CreateUIToFP(v, compute);
    }
    return v;
  }

  /// Compute → storage type, as the interpreter's store (Array::set) does.
  llvm::Value* from_compute(llvm::Value* v, DType dtype) {
    llvm::Type* t = storage_type(ctx_, dtype);
    switch (dtype) {
      case DType::f32:
      case DType::f64: return b_.CreateFPCast(v, t);
      case DType::i32:
      case DType::i64: return b_.CreateFPToSI(v, t);
      case DType::b8: return b_.CreateZExt(b_.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0)), t);
    }
    return v;
  }

  llvm::Value* from_double(double value, DType dtype) {
    llvm::Type* t = storage_type(ctx_, dtype);
    if (is_float(dtype)) return llvm::ConstantFP::get(t, value);
    if (dtype == DType::b8) return llvm::ConstantInt::get(t, value != 0.0 ? 1 : 0);
    return llvm::ConstantInt::get(t, static_cast<std::uint64_t>(static_cast<std::int64_t>(value)), true);
  }

  const ir::Graph& body_;
  llvm::Module& module_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  Shape space_;
  std::vector<llvm::Value*> index_;
  std::map<ir::NodeId, llvm::Value*> inputs_;
  std::map<std::pair<ir::NodeId, IndexMap>, llvm::Value*> memo_;
};

}  // namespace

Shape loop_space(const ir::Graph& body) {
  if (body.outputs.empty()) throw Error("llvm backend: kernel " + body.name() + " has no outputs");
  Shape space = body.type(body.outputs[0]).shape;
  for (ir::Value v : body.outputs)
    if (body.type(v).shape != space)
      throw Error("llvm backend: the outputs of loop kernel " + body.name() + " differ in shape (" + to_string(space) +
                  " and " + to_string(body.type(v).shape) + ")");
  return space;
}

std::int64_t loop_rows(const Shape& space) {
  std::int64_t rows = 1;
  for (std::size_t d = 0; d + 1 < space.size(); ++d) rows *= space[d];
  return rows;
}

void emit_loop_kernel(const ir::Graph& body, llvm::Module& module) { LoopEmitter(body, module).emit(); }

}  // namespace loom::codegen::llvm_backend
