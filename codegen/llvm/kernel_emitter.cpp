#include "loom/codegen/llvm/kernel_emitter.h"
#include "loom/codegen/llvm/kernel_shape.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <map>

#include "loom/codegen/llvm/jit.h"
#include "loom/codegen/llvm/row_exp.h"
#include "loom/codegen/llvm/scalar_math.h"
#include "loom/ir/scalar_semantics.h"
#include "loom/ir/type_inference.h"

namespace loom::codegen::llvm_backend {

namespace {

using ir::OpKind;
/// The index of a value's element, one i64 LLVM value per dimension, as a function of the loop indices.
using Index = std::vector<llvm::Value*>;

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

class KernelEmitter {
 public:
  KernelEmitter(const ir::Graph& body, const std::vector<int>& output_overwrites, llvm::Module& module)
      : body_(body), overwrites_(output_overwrites), module_(module), ctx_(module.getContext()), b_(ctx_), space_(kernel_space(body)),
        after_roots_(computed_after_roots(body)) {}

  void emit() {
    const ir::Node* root = reduction_root(body_);
    llvm::Function* fn = shell();
    auto* entry = llvm::BasicBlock::Create(ctx_, "entry", fn);
    b_.SetInsertPoint(entry);
    for (std::size_t k = 0; k < body_.inputs.size(); ++k) inputs_[body_.inputs[k]] = fn->getArg(static_cast<unsigned>(k));
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      int overwritten = k < overwrites_.size() ? overwrites_[k] : -1;
      outputs_.push_back(fn->getArg(static_cast<unsigned>(overwritten >= 0 ? static_cast<std::size_t>(overwritten) : body_.inputs.size() + k)));
    }
    llvm::Value* begin = fn->getArg(static_cast<unsigned>(fn->arg_size() - 2));
    llvm::Value* end = fn->getArg(static_cast<unsigned>(fn->arg_size() - 1));
    if (num_elements(space_) > 0) {
      if (!root) emit_loop(begin, end);
      else if (root->info().category == ir::OpCategory::Reduction) emit_reduce(begin, end);
      else emit_row(*root, begin, end);
    }
    b_.CreateRetVoid();
  }

 private:
  /// `void name.body(ptr noalias..., i64 begin, i64 end)` plus the exported `void name(ptr buffers, i64, i64)`
  /// that loads the buffer pointers and calls it. Inlined, the noalias parameters become alias metadata the
  /// vectorizer trusts. Returns the body function, empty.
  llvm::Function* shell() {
    auto* ptr = llvm::PointerType::get(ctx_, 0);
    auto* i64 = llvm::Type::getInt64Ty(ctx_);
    std::size_t n_buffers = body_.inputs.size() + body_.outputs.size();
    std::vector<llvm::Type*> params(n_buffers, ptr);
    params.push_back(i64);
    params.push_back(i64);
    auto* body_fn = llvm::Function::Create(llvm::FunctionType::get(b_.getVoidTy(), params, false),
                                           llvm::Function::InternalLinkage, body_.name() + ".body", module_);
    body_fn->addFnAttr(llvm::Attribute::AlwaysInline);
    for (std::size_t i = 0; i < n_buffers; ++i) body_fn->addParamAttr(static_cast<unsigned>(i), llvm::Attribute::NoAlias);

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
    return body_fn;
  }

  /// for i in [begin, end): body(i). Leaves the insertion point after the loop.
  void loop(llvm::Value* begin, llvm::Value* end, const std::function<void(llvm::Value*)>& body) {
    llvm::BasicBlock* before = b_.GetInsertBlock();
    llvm::Function* fn = before->getParent();
    auto* head = llvm::BasicBlock::Create(ctx_, "loop", fn);
    auto* after = llvm::BasicBlock::Create(ctx_, "loop.end", fn);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), head, after);
    b_.SetInsertPoint(head);
    llvm::PHINode* i = b_.CreatePHI(b_.getInt64Ty(), 2);
    i->addIncoming(begin, before);
    body(i);
    llvm::Value* next = b_.CreateAdd(i, b_.getInt64(1));
    i->addIncoming(next, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(next, end), head, after);
    b_.SetInsertPoint(after);
  }

  /// A stack slot in the entry block (SROA turns it into registers).
  llvm::Value* slot(llvm::Type* t, llvm::Value* initial) {
    llvm::IRBuilder<> entry(&b_.GetInsertBlock()->getParent()->getEntryBlock(),
                            b_.GetInsertBlock()->getParent()->getEntryBlock().begin());
    llvm::Value* s = entry.CreateAlloca(t);
    b_.CreateStore(initial, s);
    return s;
  }

  /// *acc += x, marked reassociable so the vectorizer may keep several partial sums: a blocked order fixed at
  /// compile time (the same on every run and for any number of threads), within rounding of the interpreter's.
  void add_to(llvm::Value* acc, llvm::Value* x) {
    llvm::Type* t = x->getType();
    auto* sum = llvm::cast<llvm::Instruction>(b_.CreateFAdd(b_.CreateLoad(t, acc), x));
    llvm::FastMathFlags flags;
    flags.setAllowReassoc();
    sum->setFastMathFlags(flags);
    b_.CreateStore(sum, acc);
  }

  /// Decomposes `flat` into indices of `dims` (row-major), writing index_[axes[k]] for dims[k].
  void unflatten(llvm::Value* flat, const std::vector<std::size_t>& axes) {
    for (std::size_t k = axes.size(); k-- > 0;) {
      llvm::Value* dim = b_.getInt64(space_[axes[k]]);
      index_[axes[k]] = k == 0 ? flat : b_.CreateURem(flat, dim);
      flat = b_.CreateUDiv(flat, dim);
    }
  }

  /// The element of the iteration space the loops are at.
  Index identity() const { return index_; }

  /// The index of an operand of shape `from` read by a node of shape `to` at `at` (NumPy broadcasting: dimensions
  /// align right; size-1 dimensions that the node stretches read index 0).
  Index broadcast_index(const Shape& from, const Shape& to, const Index& at) {
    Index index(from.size());
    std::size_t shift = to.size() - from.size();
    for (std::size_t d = 0; d < from.size(); ++d) index[d] = (from[d] == 1 && to[d + shift] != 1) ? b_.getInt64(0) : at[d + shift];
    return index;
  }

  llvm::Value* flat_offset(const Shape& shape, const Index& at) {
    std::vector<std::int64_t> strides = row_major_strides(shape);
    llvm::Value* offset = b_.getInt64(0);
    for (std::size_t d = 0; d < at.size(); ++d) offset = b_.CreateAdd(offset, b_.CreateMul(at[d], b_.getInt64(strides[d])));
    return offset;
  }

  /// Stores every output computed in the iteration space at the current index: all but the reductions, row ops and
  /// their epilogue (the values computed from their results).
  void store_loop_outputs(const ir::Node* root) {
    llvm::Value* flat = b_.getInt64(0);
    std::vector<std::int64_t> strides = row_major_strides(space_);
    for (std::size_t d = 0; d < space_.size(); ++d) flat = b_.CreateAdd(flat, b_.CreateMul(index_[d], b_.getInt64(strides[d])));
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      ir::Value out = body_.outputs[k];
      if ((root && &body_.node(out) == root) || per_row(out)) continue;
      llvm::Type* t = storage_type(ctx_, body_.type(out).dtype);
      b_.CreateStore(emit(out, identity()), b_.CreateGEP(t, outputs_[k], flat));
    }
  }

  /// Elementwise: rows are all dimensions but the last; the inner loop runs over the last.
  /// Elementwise: a row is one block of at most kLoopBlock elements of the last dimension (so a long vector still
  /// splits over threads); the inner loop runs over the block.
  void emit_loop(llvm::Value* begin, llvm::Value* end) {
    index_.assign(space_.size(), nullptr);
    std::vector<std::size_t> outer;
    for (std::size_t d = 0; d + 1 < space_.size(); ++d) outer.push_back(d);
    std::int64_t last = space_.empty() ? 1 : space_.back();
    std::int64_t blocks = (last + kLoopBlock - 1) / kLoopBlock;
    loop(begin, end, [&](llvm::Value* row) {
      llvm::Value* block = b_.CreateURem(row, b_.getInt64(blocks));
      unflatten(b_.CreateUDiv(row, b_.getInt64(blocks)), outer);
      llvm::Value* first = b_.CreateMul(block, b_.getInt64(kLoopBlock));
      llvm::Value* past = b_.CreateAdd(first, b_.getInt64(kLoopBlock));
      past = b_.CreateSelect(b_.CreateICmpSLT(past, b_.getInt64(last)), past, b_.getInt64(last));
      loop(first, past, [&](llvm::Value* j) {
        if (!space_.empty()) index_.back() = j;
        memo_.clear();
        store_loop_outputs(nullptr);
      });
    });
  }

  /// Reductions: one row per output element; the inner loop visits the reduced elements in row-major order and
  /// accumulates in double (in vector blocks, see add_to), so results are identical for any split of rows. Several
  /// reductions over the same elements and axes share the pass (a multi-output kernel); values computed from
  /// their results (the epilogue) are computed once per row, after it.
  void emit_reduce(llvm::Value* begin, llvm::Value* end) {
    std::vector<const ir::Node*> roots = reduction_roots(body_);
    std::vector<std::int64_t> axes = ir::reduced_axes(body_, *roots[0]);
    std::vector<std::size_t> kept, reduced;
    for (std::size_t d = 0; d < space_.size(); ++d)
      (axes.empty() || std::find(axes.begin(), axes.end(), static_cast<std::int64_t>(d)) != axes.end() ? reduced : kept).push_back(d);
    std::int64_t count = 1;
    for (std::size_t d : reduced) count *= space_[d];
    index_.assign(space_.size(), nullptr);
    llvm::Type* f64 = b_.getDoubleTy();
    LlvmMath math{b_, module_, f64};
    double inf = std::numeric_limits<double>::infinity();
    loop(begin, end, [&](llvm::Value* row) {
      unflatten(row, kept);
      auto visit = [&](bool store, const std::function<void(std::size_t root, llvm::Value* x, llvm::Value* position)>& fold) {
        loop(b_.getInt64(0), b_.getInt64(count), [&](llvm::Value* r) {
          unflatten(r, reduced);
          memo_.clear();
          if (store) store_loop_outputs(nullptr);
          for (std::size_t k = 0; k < roots.size(); ++k) {
            ir::Value operand = roots[k]->operands[0];
            fold(k, to_compute(emit(operand, identity()), body_.type(operand).dtype, f64), r);
          }
        });
      };
      std::vector<llvm::Value*> results(roots.size());
      if (roots[0]->op == OpKind::logsumexp) {  // two passes; alone in its kernel
        llvm::Value* peak = slot(f64, math.constant(-inf));
        visit(true, [&](std::size_t, llvm::Value* x, llvm::Value*) {  // std::max(peak, x)
          llvm::Value* p = b_.CreateLoad(f64, peak);
          b_.CreateStore(b_.CreateSelect(b_.CreateFCmpOLT(p, x), x, p), peak);
        });
        llvm::Value* p = b_.CreateLoad(f64, peak);
        llvm::Value* finite = b_.CreateFCmpONE(math.abs(p), math.constant(inf));
        llvm::Value* total = slot(f64, math.constant(0.0));
        visit(false, [&](std::size_t, llvm::Value* x, llvm::Value*) {
          add_to(total, b_.CreateSelect(finite, math.exp(b_.CreateFSub(x, p)), math.constant(0.0)));
        });
        results[0] = b_.CreateSelect(finite, b_.CreateFAdd(p, math.log(b_.CreateLoad(f64, total))), p);
      } else {
        std::vector<llvm::Value*> acc(roots.size()), arg(roots.size());
        for (std::size_t k = 0; k < roots.size(); ++k) {
          OpKind op = roots[k]->op;
          acc[k] = slot(f64, math.constant(op == OpKind::max ? -inf : op == OpKind::min ? inf : 0.0));
          if (op == OpKind::argmax) arg[k] = slot(b_.getInt64Ty(), b_.getInt64(-1));
        }
        visit(true, [&](std::size_t k, llvm::Value* x, llvm::Value* position) {
          llvm::Value* a = b_.CreateLoad(f64, acc[k]);
          switch (roots[k]->op) {
            case OpKind::sum: add_to(acc[k], x); break;
            case OpKind::max:
            case OpKind::min: {
              llvm::Value* better = roots[k]->op == OpKind::max ? b_.CreateFCmpOGT(x, a) : b_.CreateFCmpOLT(x, a);
              b_.CreateStore(b_.CreateSelect(b_.CreateOr(b_.CreateFCmpUNO(x, x), better), x, a), acc[k]);
              break;
            }
            case OpKind::argmax: {  // the first largest: taken when nothing is held yet or strictly larger
              llvm::Value* held = b_.CreateLoad(b_.getInt64Ty(), arg[k]);
              llvm::Value* take = b_.CreateOr(b_.CreateICmpSLT(held, b_.getInt64(0)), b_.CreateFCmpOGT(x, a));
              b_.CreateStore(b_.CreateSelect(take, x, a), acc[k]);
              b_.CreateStore(b_.CreateSelect(take, position, held), arg[k]);
              break;
            }
            default: raise(roots[k]->loc, "llvm backend: no reduction kernel for {}", ir::op_name(roots[k]->op));
          }
        });
        for (std::size_t k = 0; k < roots.size(); ++k)
          results[k] = roots[k]->op == OpKind::argmax ? b_.CreateSIToFP(b_.CreateLoad(b_.getInt64Ty(), arg[k]), f64)
                                                     : b_.CreateLoad(f64, acc[k]);
      }
      for (std::size_t k = 0; k < roots.size(); ++k) finished_[roots[k] - &body_.node(0)] = from_compute(results[k], roots[k]->results[0].dtype);
      store_row_outputs(row);
      finished_.clear();
    });
  }

  /// Whether output `out` of a reduction kernel is stored once per row (a reduction's result, a value computed
  /// from one, or any other value with one element per row) rather than at every element of the space.
  bool per_row(ir::Value out) const {
    const ir::Node& n = body_.node(out);
    if (n.info().is_row_op()) return true;
    const ir::Node* root = reduction_root(body_);
    return after_roots_.at(out.node) || (root && root->info().category == ir::OpCategory::Reduction && n.results[0].shape != space_);
  }

  /// Stores the reductions' results and their epilogue at `row` (their shapes all have one element per row).
  void store_row_outputs(llvm::Value* row) {
    memo_.clear();
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      ir::Value out = body_.outputs[k];
      if (!per_row(out)) continue;
      const Shape& shape = body_.type(out).shape;
      Index at(shape.size());
      llvm::Value* rest = row;
      for (std::size_t d = shape.size(); d-- > 0;) {
        at[d] = d == 0 ? rest : b_.CreateURem(rest, b_.getInt64(shape[d]));
        if (d > 0) rest = b_.CreateUDiv(rest, b_.getInt64(shape[d]));
      }
      llvm::Type* t = storage_type(ctx_, body_.type(out).dtype);
      b_.CreateStore(emit(out, at), b_.CreateGEP(t, outputs_[k], row));
    }
  }

  /// softmax, log_softmax (along `axis`) and softmax_cross_entropy (along the last axis): one row per position
  /// of the other axes; max, then the sum of exponentials, then the outputs, in double like the interpreter.
  void emit_row(const ir::Node& root, llvm::Value* begin, llvm::Value* end) {
    auto axis = static_cast<std::size_t>(root.op == OpKind::softmax_cross_entropy ? space_.size() - 1 : root.attrs.get_int("axis"));
    std::vector<std::size_t> others;
    for (std::size_t d = 0; d < space_.size(); ++d)
      if (d != axis) others.push_back(d);
    index_.assign(space_.size(), nullptr);
    ir::Value operand = root.operands[0];
    DType in_dtype = body_.type(operand).dtype;
    // f32 rows compute in f32 (16 lanes, within the tested 1e-5 of the interpreter's double); others in double.
    llvm::Type* ct = in_dtype == DType::f32 && root.results[0].dtype == DType::f32 ? b_.getFloatTy() : b_.getDoubleTy();
    LlvmMath math{b_, module_, ct};
    std::size_t root_output = output_index(root);
    llvm::Type* out_type = storage_type(ctx_, root.results[0].dtype);
    std::vector<std::int64_t> strides = row_major_strides(space_);
    auto output_at = [&] {
      llvm::Value* flat = b_.getInt64(0);
      for (std::size_t d = 0; d < space_.size(); ++d) flat = b_.CreateAdd(flat, b_.CreateMul(index_[d], b_.getInt64(strides[d])));
      return b_.CreateGEP(out_type, outputs_[root_output], flat);
    };
    // softmax and log_softmax evaluate their operand once per element, into the output row, and the later
    // passes read it back: every pass then sees the same value (a vectorized and a scalar evaluation of, say,
    // exp may differ in the last bit, and the passes vectorize differently), and an expensive operand is computed
    // once. (Re-reading a plain parameter instead measured no faster.) The loss has no row-shaped output and
    // evaluates its operand again.
    bool keeps_row = root.op != OpKind::softmax_cross_entropy;
    DType out_dtype = root.results[0].dtype;
    loop(begin, end, [&](llvm::Value* row) {
      unflatten(row, others);
      auto evaluate = [&](llvm::Value* k, bool store_extras) {
        index_[axis] = k;
        memo_.clear();
        if (store_extras) store_loop_outputs(&root);
        return to_compute(emit(operand, identity()), in_dtype, ct);
      };
      auto stored = [&](llvm::Value* k) {
        index_[axis] = k;
        return to_compute(b_.CreateLoad(out_type, output_at()), out_dtype, ct);
      };
      auto along = [&](const std::function<void(llvm::Value* x)>& fold) {
        loop(b_.getInt64(0), b_.getInt64(space_[axis]), [&](llvm::Value* k) { fold(keeps_row ? stored(k) : evaluate(k, false)); });
      };
      llvm::Value* p = row_maximum(space_[axis], math, [&](llvm::Value* k) {
        llvm::Value* x = evaluate(k, true);
        if (keeps_row) b_.CreateStore(from_compute(x, out_dtype), output_at());
        return x;
      });
      if (axis + 1 == space_.size()) prefetch_next_row(row);
      llvm::Value* total = slot(ct, math.constant(0.0));
      along([&](llvm::Value* x) {
        llvm::Value* shifted = b_.CreateFSub(x, p);
        llvm::Value* e = ct->isFloatTy() ? exp_nonpositive_f32(b_, shifted) : math.exp(shifted);
        add_to(total, e);
        if (root.op == OpKind::softmax) b_.CreateStore(from_compute(e, out_dtype), output_at());  // scaled below
      });
      llvm::Value* sum = b_.CreateLoad(ct, total);
      if (root.op == OpKind::softmax_cross_entropy) {
        // loss = peak + log(total) - x[label]; the label is read at this row.
        index_[axis] = b_.getInt64(0);
        memo_.clear();
        llvm::Value* label = b_.CreateSExtOrTrunc(emit(root.operands[1], row_index(others)), b_.getInt64Ty());
        // A label outside [0, classes) must not read outside the row: it gives a NaN loss instead.
        llvm::Value* valid = b_.CreateICmpULT(label, b_.getInt64(space_[axis]));
        label = b_.CreateSelect(valid, label, b_.getInt64(0));
        index_[axis] = label;
        memo_.clear();
        llvm::Value* picked = to_compute(emit(operand, identity()), in_dtype, ct);
        llvm::Value* loss = b_.CreateSelect(valid, b_.CreateFSub(b_.CreateFAdd(p, math.log(sum)), picked),
                                            math.constant(std::numeric_limits<double>::quiet_NaN()));
        b_.CreateStore(from_compute(loss, root.results[0].dtype), b_.CreateGEP(out_type, outputs_[root_output], row));
        return;
      }
      if (root.op == OpKind::softmax) {
        // The exponentials are stored: scale them in place by 1/sum (a multiply per element rather than a
        // divide, which costs several times more; one more rounding, well within the tested 1e-5).
        llvm::Value* inverse = b_.CreateFDiv(math.constant(1.0), sum);
        along([&](llvm::Value* e) { b_.CreateStore(from_compute(b_.CreateFMul(e, inverse), out_dtype), output_at()); });
        return;
      }
      llvm::Value* log_sum = math.log(sum);
      along([&](llvm::Value* x) { b_.CreateStore(from_compute(b_.CreateFSub(b_.CreateFSub(x, p), log_sum), out_dtype), output_at()); });
    });
  }


  /// The largest of `length` values (element(k) for k in [0, length)), to shift a row's exponentials by. Element k
  /// goes to partial maximum k % kPartials; the partials are combined at the end. Maximum is exact, so the order
  /// cannot change the result, and the partials give the vector units kPartials/16 independent chains instead of
  /// one long dependency chain. `x > m ? x : m` is one vmaxps; it skips NaNs as the interpreter's std::max does (a
  /// NaN in a row makes every output of that row NaN through its exponential anyway).
  llvm::Value* row_maximum(std::int64_t length, LlvmMath& math, const std::function<llvm::Value*(llvm::Value*)>& element) {
    constexpr std::int64_t kPartials = 64;
    llvm::Type* t = math.type;
    auto* lowest = llvm::cast<llvm::Constant>(math.constant(-std::numeric_limits<double>::infinity()));
    auto* array = llvm::ArrayType::get(t, kPartials);
    llvm::Value* partials = slot(array, llvm::ConstantArray::get(array, std::vector<llvm::Constant*>(kPartials, lowest)));
    auto partial = [&](llvm::Value* j) { return b_.CreateGEP(t, partials, j); };
    auto larger = [&](llvm::Value* x, llvm::Value* m) { return b_.CreateSelect(b_.CreateFCmpOGT(x, m), x, m); };
    auto fold = [&](llvm::Value* j, llvm::Value* x) { b_.CreateStore(larger(x, b_.CreateLoad(t, partial(j))), partial(j)); };
    std::int64_t blocks = length / kPartials;
    loop(b_.getInt64(0), b_.getInt64(blocks), [&](llvm::Value* block) {
      loop(b_.getInt64(0), b_.getInt64(kPartials), [&](llvm::Value* j) {
        fold(j, element(b_.CreateAdd(b_.CreateMul(block, b_.getInt64(kPartials)), j)));
      });
    });
    loop(b_.getInt64(blocks * kPartials), b_.getInt64(length), [&](llvm::Value* k) {
      fold(b_.CreateSub(k, b_.getInt64(blocks * kPartials)), element(k));
    });
    llvm::Value* peak = slot(t, lowest);
    for (std::int64_t j = 0; j < kPartials; ++j)  // unrolled here: a loop would be a reduction the vectorizer refuses
      b_.CreateStore(larger(b_.CreateLoad(t, partial(b_.getInt64(j))), b_.CreateLoad(t, peak)), peak);
    return b_.CreateLoad(t, peak);
  }

  /// Asks for the next row of every full-shape input while this row computes its exponentials, so that memory
  /// reads overlap the arithmetic instead of alternating with it (the hardware prefetcher does not run that far
  /// ahead). Measured on softmax over [4096, 1000]: 1.75 ms without, 1.1 ms with (into the outer caches:
  /// locality 1 beat 2 and 3; also prefetching the output for writing made it slower).
  void prefetch_next_row(llvm::Value* row) {
    std::int64_t length = space_.back();
    llvm::Function* prefetch = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::prefetch, {b_.getPtrTy()});
    for (ir::NodeId id : body_.inputs) {
      const TensorType& type = body_.node(id).results[0];
      if (type.shape != space_) continue;
      auto bytes = static_cast<std::int64_t>(size_of(type.dtype)) * length;
      llvm::Value* next = b_.CreateGEP(b_.getInt8Ty(), inputs_.at(id), b_.CreateMul(b_.CreateAdd(row, b_.getInt64(1)), b_.getInt64(bytes)));
      for (std::int64_t line = 0; line < (bytes + 63) / 64; ++line)  // a prefetch never faults, past the end too
        b_.CreateCall(prefetch, {b_.CreateConstGEP1_64(b_.getInt8Ty(), next, line * 64), b_.getInt32(0), b_.getInt32(1), b_.getInt32(1)});
    }
  }

  /// The index of a per-row value (the loss's shape: every axis but the last) at the current row.
  Index row_index(const std::vector<std::size_t>& others) const {
    Index index;
    for (std::size_t d : others) index.push_back(index_[d]);
    return index;
  }

  std::size_t output_index(const ir::Node& root) const {
    for (std::size_t k = 0; k < body_.outputs.size(); ++k)
      if (&body_.node(body_.outputs[k]) == &root) return k;
    raise(root.loc, "llvm backend: the {} of kernel {} is not among its outputs", ir::op_name(root.op), body_.name());
  }

  /// The value of `v` at element `at`, in its storage type.
  llvm::Value* emit(ir::Value v, const Index& at) {
    if (auto done = finished_.find(v.node); done != finished_.end()) return done->second;  // a reduction's result
    auto key = std::make_pair(v.node, at);
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    const ir::Node& n = body_.node(v);
    const TensorType& type = n.results[0];
    llvm::Value* result = nullptr;
    auto operand_shape = [&](std::size_t k) -> const Shape& { return body_.type(n.operands[k]).shape; };
    switch (n.op) {
      case OpKind::input: {
        llvm::Type* t = storage_type(ctx_, type.dtype);
        result = b_.CreateLoad(t, b_.CreateGEP(t, inputs_.at(v.node), flat_offset(type.shape, at)));
        break;
      }
      case OpKind::constant: result = from_double(n.attrs.get_float("value"), type.dtype); break;
      case OpKind::broadcast_to: result = emit(n.operands[0], broadcast_index(operand_shape(0), type.shape, at)); break;
      case OpKind::transpose: {
        const auto& perm = n.attrs.get_ints("perm");
        Index in(at.size());
        for (std::size_t d = 0; d < perm.size(); ++d) in[static_cast<std::size_t>(perm[d])] = at[d];
        result = emit(n.operands[0], in);
        break;
      }
      case OpKind::reshape: {  // through the flat (row-major) position
        llvm::Value* flat = flat_offset(type.shape, at);
        const Shape& in_shape = operand_shape(0);
        std::vector<std::int64_t> strides = row_major_strides(in_shape);
        Index in(in_shape.size());
        for (std::size_t d = 0; d < in.size(); ++d)
          in[d] = b_.CreateURem(b_.CreateUDiv(flat, b_.getInt64(strides[d])), b_.getInt64(in_shape[d]));
        result = emit(n.operands[0], in);
        break;
      }
      case OpKind::slice: {
        const auto &begin = n.attrs.get_ints("begin"), &step = n.attrs.get_ints("step");
        Index in(at.size());
        for (std::size_t d = 0; d < at.size(); ++d)
          in[d] = b_.CreateAdd(b_.getInt64(begin[d]), b_.CreateMul(at[d], b_.getInt64(step[d])));
        result = emit(n.operands[0], in);
        break;
      }
      case OpKind::pad: {  // zero unless the position lands on an element of the operand
        const auto &low = n.attrs.get_ints("low"), &interior = n.attrs.get_ints("interior");
        const Shape& in_shape = operand_shape(0);
        llvm::Value* inside = b_.getTrue();
        Index in(at.size());
        for (std::size_t d = 0; d < at.size(); ++d) {
          llvm::Value* t = b_.CreateSub(at[d], b_.getInt64(low[d]));
          llvm::Value* gap = b_.getInt64(interior[d] + 1);
          llvm::Value* q = b_.CreateSDiv(t, gap);
          llvm::Value* ok = b_.CreateAnd(b_.CreateAnd(b_.CreateICmpSGE(t, b_.getInt64(0)), b_.CreateICmpEQ(b_.CreateSRem(t, gap), b_.getInt64(0))),
                                         b_.CreateICmpSLT(q, b_.getInt64(in_shape[d])));
          inside = b_.CreateAnd(inside, ok);
          in[d] = q;
        }
        for (auto& i : in) i = b_.CreateSelect(inside, i, b_.getInt64(0));  // never read outside the operand
        result = b_.CreateSelect(inside, emit(n.operands[0], in), from_double(0.0, type.dtype));
        break;
      }
      case OpKind::concat: {  // the part whose range along the axis holds the position
        auto axis = static_cast<std::size_t>(n.attrs.get_int("axis"));
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < n.operands.size(); ++k) {
          std::int64_t size = operand_shape(k)[axis];
          Index in = at;
          llvm::Value* local = b_.CreateSub(at[axis], b_.getInt64(offset));
          llvm::Value* mine = b_.CreateICmpULT(local, b_.getInt64(size));
          in[axis] = b_.CreateSelect(mine, local, b_.getInt64(0));
          llvm::Value* value = emit(n.operands[k], in);
          result = result ? b_.CreateSelect(mine, value, result) : value;
          offset += size;
        }
        break;
      }
      case OpKind::one_hot: {
        Index in(at.begin(), at.end() - 1);
        llvm::Value* k = b_.CreateSExtOrTrunc(emit(n.operands[0], in), b_.getInt64Ty());
        result = b_.CreateSelect(b_.CreateICmpEQ(k, at.back()), from_double(1.0, type.dtype), from_double(0.0, type.dtype));
        break;
      }
      default:
        if (n.info().category != ir::OpCategory::Elementwise)
          raise(n.loc, "llvm backend: {} cannot be part of a loop kernel", ir::op_name(n.op));
        result = elementwise(n, at);
    }
    memo_[key] = result;
    return result;
  }

  llvm::Value* elementwise(const ir::Node& n, const Index& at) {
    std::vector<DType> dtypes;
    for (ir::Value o : n.operands) dtypes.push_back(body_.type(o).dtype);
    DType result_dtype = n.results[0].dtype;
    bool f32 = ir::computes_in_f32(result_dtype, dtypes);
    llvm::Type* compute = f32 ? b_.getFloatTy() : b_.getDoubleTy();
    std::vector<llvm::Value*> args;
    for (ir::Value o : n.operands)
      args.push_back(to_compute(emit(o, broadcast_index(body_.type(o).shape, n.results[0].shape, at)), body_.type(o).dtype, compute));
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
  const std::vector<int>& overwrites_;
  llvm::Module& module_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  Shape space_;
  std::vector<llvm::Value*> index_;
  std::map<ir::NodeId, llvm::Value*> inputs_;
  std::vector<llvm::Value*> outputs_;
  /// Results of the row's reductions, once accumulated (storage type).
  std::map<ir::NodeId, llvm::Value*> finished_;
  /// Whether a node is computed from a reduction's result (the epilogue, computed once per row).
  std::vector<bool> after_roots_;
  std::map<std::pair<ir::NodeId, Index>, llvm::Value*> memo_;
};

}  // namespace

void emit_kernel(const ir::Graph& body, const std::vector<int>& output_overwrites, llvm::Module& module) {
  KernelEmitter(body, output_overwrites, module).emit();
}

}  // namespace loom::codegen::llvm_backend
