#include "loom/codegen/llvm/kernel_emitter.h"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <llvm/IR/MDBuilder.h>

#include "loom/codegen/llvm/scalar_math.h"
#include "loom/ir/index_semantics.h"
#include "loom/ir/random_semantics.h"
#include "loom/ir/reduce_semantics.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen::llvm_backend {

namespace {

using ir::OpKind;
using ir::Placement;
/// The index of a value's element, one i64 LLVM value per dimension, as a function of the loop indices.
using Index = std::vector<llvm::Value*>;

llvm::Type* storage_type(llvm::LLVMContext& ctx, DType dtype) {
  switch (dtype) {
    case DType::f32:
      return llvm::Type::getFloatTy(ctx);
    case DType::f64:
      return llvm::Type::getDoubleTy(ctx);
    case DType::i32:
      return llvm::Type::getInt32Ty(ctx);
    case DType::i64:
      return llvm::Type::getInt64Ty(ctx);
    case DType::b8:
      return llvm::Type::getInt8Ty(ctx);
  }
  return nullptr;
}

/// Emits one kernel as its ir::KernelShape describes it. Within one element of the iteration space (or one row
/// for per-row results) every value is computed before any result is stored, so a result stored over an operand
/// it replaces in place (KernelSource::output_overwrites) never changes what another result reads.
class KernelEmitter {
 public:
  KernelEmitter(const KernelSource& source, llvm::Module& module)
      : body_(*source.body),
        shape_(source.shape),
        overwrites_(source.output_overwrites),
        arena_offsets_(source.arena_offsets),
        module_(module),
        ctx_(module.getContext()),
        b_(ctx_),
        ix_{b_} {}

  void emit() {
    if (ir::is_onednn_kernel(shape_.kind))
      raise(SourceLoc{}, "llvm backend: kernel {} is a {} kernel, which oneDNN runs", body_.name(), ir::to_string(shape_.kind));
    llvm::Function* fn = llvm::Function::Create(
        llvm::FunctionType::get(b_.getInt64Ty(), {b_.getPtrTy(), b_.getInt64Ty(), b_.getInt64Ty()}, false),
        llvm::Function::ExternalLinkage, body_.name(), module_);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    status_ = slot(b_.getInt64Ty(), b_.getInt64(0));
    std::vector<Buffer> buffers = load_buffers(fn->getArg(0));
    scratch_ = buffers.back();
    buffers.pop_back();
    for (std::size_t k = 0; k < body_.inputs.size(); ++k) inputs_[body_.inputs[k]] = buffers[k];
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      int overwritten = k < overwrites_.size() ? overwrites_[k] : -1;
      outputs_.push_back(buffers[overwritten >= 0 ? static_cast<std::size_t>(overwritten) : body_.inputs.size() + k]);
    }
    if (shape_.kind == ir::KernelKind::loop) parallel_group_ = llvm::MDNode::getDistinct(ctx_, {});
    llvm::Value* begin = fn->getArg(1);
    llvm::Value* end = fn->getArg(2);
    switch (shape_.kind) {
      case ir::KernelKind::loop:
        emit_loop(begin, end);
        break;
      case ir::KernelKind::reduce:
        emit_reduce(begin, end);
        break;
      default:
        emit_row(body_.node(shape_.roots[0]), begin, end);
        break;
    }
    b_.CreateRet(b_.CreateLoad(b_.getInt64Ty(), status_));
  }

 private:
  /// A buffer the kernel reads or writes: its address and the alias metadata of every access to it.
  struct Buffer {
    llvm::Value* base = nullptr;
    llvm::MDNode* scope = nullptr;    ///< !alias.scope
    llvm::MDNode* noalias = nullptr;  ///< !noalias
  };

  /// The buffers' addresses (inputs, then outputs): an arena offset added to the arena's address, or a pointer
  /// loaded from the kernel's table (KernelSource::arena_offsets), each with scoped alias
  /// metadata that says accesses to different buffers never alias (the memory plan gives the values a kernel reads
  /// and writes disjoint bytes; an in-place result is stored through its operand's Buffer, tags included). The last
  /// Buffer has no address: it tags the kernel's own scratch arrays on the stack (without tags, LLVM had to prove
  /// by capture analysis that a pointer loaded from the table cannot reach them, and it vectorized softmax's row
  /// maximum behind run-time overlap checks).
  /// Buffer p's accesses carry, for each bit b of p, the scope (b, bit b of p), and as noalias the scope (b, the
  /// other bit): two different buffers differ in some bit, where the scope of one is in the other's noalias list.
  /// That is 2 log2(n) scopes and lists of log2(n). One scope per buffer instead (what inlining a function with
  /// noalias parameters gives, as the emitter once did) lists n - 1 scopes on every access and makes each alias
  /// query linear in the buffers: on kernels of hundreds of buffers, the top of the profile of a deep graph's
  /// compile.
  std::vector<Buffer> load_buffers(llvm::Value* table) {
    std::size_t n = body_.inputs.size() + body_.outputs.size() + 1;
    std::vector<Buffer> buffers(n);
    auto table_entry = [&](std::size_t p) {
      return b_.CreateLoad(b_.getPtrTy(), b_.CreateConstGEP1_64(b_.getPtrTy(), table, p));
    };
    llvm::Value* arena = nullptr;
    for (std::size_t p = 0; p + 1 < n; ++p) {
      std::int64_t offset = p < arena_offsets_.size() ? arena_offsets_[p] : -1;
      if (offset < 0) {
        buffers[p].base = table_entry(p);
        continue;
      }
      if (!arena) arena = table_entry(n - 1);
      buffers[p].base = b_.CreateConstInBoundsGEP1_64(b_.getInt8Ty(), arena, static_cast<std::uint64_t>(offset));
    }
    std::size_t bits = 0;
    while ((std::size_t{1} << bits) < n) ++bits;
    llvm::MDBuilder md(ctx_);
    std::vector<std::array<llvm::MDNode*, 2>> scopes(bits);
    for (std::size_t bit = 0; bit < bits; ++bit) {
      llvm::MDNode* domain = md.createAnonymousAliasScopeDomain(fmt::format("{}.bit{}", body_.name(), bit));
      for (int value : {0, 1})
        scopes[bit][value] = md.createAnonymousAliasScope(domain, fmt::format("bit{}={}", bit, value));
    }
    for (std::size_t p = 0; p < n; ++p) {
      std::vector<llvm::Metadata*> own, other;
      for (std::size_t bit = 0; bit < bits; ++bit) {
        std::size_t value = (p >> bit) & 1;
        own.push_back(scopes[bit][value]);
        other.push_back(scopes[bit][1 - value]);
      }
      buffers[p].scope = llvm::MDNode::get(ctx_, own);
      buffers[p].noalias = llvm::MDNode::get(ctx_, other);
    }
    return buffers;
  }

  /// Tags an access to `buffer` with its alias metadata, and with the parallel access group in loop kernels.
  template <typename Access>
  Access* tagged(Access* access, const Buffer& buffer) {
    if (buffer.scope) {
      access->setMetadata(llvm::LLVMContext::MD_alias_scope, buffer.scope);
      access->setMetadata(llvm::LLVMContext::MD_noalias, buffer.noalias);
    }
    if (parallel_group_) access->setMetadata(llvm::LLVMContext::MD_access_group, parallel_group_);
    return access;
  }

  llvm::Value* load(llvm::Type* t, const Buffer& buffer, llvm::Value* offset) {
    return tagged(b_.CreateLoad(t, b_.CreateGEP(t, buffer.base, offset)), buffer);
  }

  void store(llvm::Value* value, const Buffer& buffer, llvm::Value* offset) {
    tagged(b_.CreateStore(value, b_.CreateGEP(value->getType(), buffer.base, offset)), buffer);
  }

  /// for i in [begin, end): body(i). Leaves the insertion point after the loop; returns the loop's back edge.
  llvm::BranchInst* loop(llvm::Value* begin, llvm::Value* end, const std::function<void(llvm::Value*)>& body) {
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
    llvm::BranchInst* back = b_.CreateCondBr(b_.CreateICmpSLT(next, end), head, after);
    b_.SetInsertPoint(after);
    return back;
  }

  /// for row in [begin, end): body(row), over the kernel's rows. A kernel of one row has no loop: LLVM cannot see
  /// that such a loop runs once, and as the row's addresses do not change from row to row, it kept every result
  /// in registers (spilled) until after the loop, which cost both run time and compile time.
  void over_rows(llvm::Value* begin, llvm::Value* end, const std::function<void(llvm::Value*)>& body) {
    if (shape_.rows != 1) {
      loop(begin, end, body);
      return;
    }
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    auto* row = llvm::BasicBlock::Create(ctx_, "row", fn);
    auto* after = llvm::BasicBlock::Create(ctx_, "row.end", fn);
    b_.CreateCondBr(b_.CreateICmpSLT(begin, end), row, after);
    b_.SetInsertPoint(row);
    body(b_.getInt64(0));
    b_.CreateBr(after);
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

  /// *acc = math.accumulate(*acc, x): a row's sum, in vector partial sums.
  void accumulate_into(LlvmMath& math, llvm::Value* acc, llvm::Value* x) {
    b_.CreateStore(math.accumulate(b_.CreateLoad(x->getType(), acc), x), acc);
  }

  /// Stores every result placed at `placement`, each at its element `at(k)`. A result stored over an operand (in
  /// place) is stored after every value is computed, so that no other result reads what it wrote; the others are
  /// stored as soon as they are computed, into buffers nothing in the kernel reads. (Holding all of them to the end
  /// kept hundreds of values alive across the vector math calls of a long chain: spilled at run time, and a
  /// quarter of LLVM's time on such kernels.)
  void store_results(Placement placement, const std::function<Index(std::size_t)>& at,
                     const std::function<llvm::Value*(std::size_t)>& offset) {
    std::vector<std::pair<std::size_t, llvm::Value*>> in_place;
    for (std::size_t k = 0; k < body_.outputs.size(); ++k) {
      ir::Value out = body_.outputs[k];
      bool root = std::find(shape_.roots.begin(), shape_.roots.end(), out.node) != shape_.roots.end();
      if (shape_.placements[k] != placement || (root && shape_.kind == ir::KernelKind::row)) continue;
      llvm::Value* value = emit(out, at(k));
      if (k < overwrites_.size() && overwrites_[k] >= 0)
        in_place.push_back({k, value});
      else
        store(value, outputs_[k], offset(k));
    }
    for (const auto& [k, value] : in_place) store(value, outputs_[k], offset(k));
  }

  /// The results stored at each element of the space, at the element the loops are at.
  void store_element_results() {
    llvm::Value* flat = ir::flatten(ix_, shape_.space, index_);
    store_results(
        Placement::element, [&](std::size_t) { return index_; }, [&](std::size_t) { return flat; });
  }

  /// The results stored once per row (the roots' results, their epilogue, other values with one element per row),
  /// each at its element `row`.
  void store_row_results(llvm::Value* row) {
    memo_.clear();
    store_results(
        Placement::row, [&](std::size_t k) { return ir::unflatten(ix_, body_.type(body_.outputs[k]).shape, row); },
        [&](std::size_t) { return row; });
  }

  /// Loop kernels: a row is one block of at most kLoopBlock elements of the space's last axes from shape_.tail on
  /// (so a long vector still splits over threads), at one position of the other axes; the inner loop runs over the
  /// block at the index (0, ..., 0, j) of those axes (ir::KernelShape::tail).
  void emit_loop(llvm::Value* begin, llvm::Value* end) {
    const Shape& space = shape_.space;
    index_.assign(space.size(), b_.getInt64(0));
    std::vector<std::size_t> outer;
    std::int64_t inner = 1;
    for (std::size_t d = 0; d < space.size(); ++d) {
      if (d < shape_.tail) outer.push_back(d);
      else inner *= space[d];
    }
    std::int64_t blocks = (inner + ir::kLoopBlock - 1) / ir::kLoopBlock;
    over_rows(begin, end, [&](llvm::Value* row) {
      llvm::Value* block = b_.CreateURem(row, b_.getInt64(blocks));
      ir::unflatten_into(ix_, space, outer, b_.CreateUDiv(row, b_.getInt64(blocks)), index_);
      llvm::Value* first = b_.CreateMul(block, b_.getInt64(ir::kLoopBlock));
      llvm::Value* past = b_.CreateAdd(first, b_.getInt64(ir::kLoopBlock));
      past = b_.CreateSelect(b_.CreateICmpSLT(past, b_.getInt64(inner)), past, b_.getInt64(inner));
      llvm::BranchInst* back = loop(first, past, [&](llvm::Value* j) {
        if (!space.empty()) index_.back() = j;
        memo_.clear();
        store_element_results();
      });
      declare_parallel(back);
    });
  }

  /// Declares that the loop ending in `back` has no loop-carried memory dependences among the accesses of
  /// parallel_group_, so that LLVM's vectorizer need not analyse them: each iteration of a loop kernel's inner loop
  /// reads its operands and stores its results at its own element (an operand overwritten in place is read only at
  /// the element stored: ir::KernelShape::read_at_store_index). That analysis, pairwise over a kernel's accesses
  /// (LoopVectorize and LoopLoadElimination), was half of LLVM's optimization time on the kernels of a deep graph,
  /// which have hundreds of buffers.
  void declare_parallel(llvm::BranchInst* back) {
    llvm::Metadata* parallel[] = {llvm::MDString::get(ctx_, "llvm.loop.parallel_accesses"), parallel_group_};
    llvm::Metadata* id[] = {nullptr, llvm::MDNode::get(ctx_, parallel)};
    llvm::MDNode* loop_id = llvm::MDNode::getDistinct(ctx_, id);
    loop_id->replaceOperandWith(0, loop_id);
    back->setMetadata(llvm::LLVMContext::MD_loop, loop_id);
  }

  /// Reductions: one row per result element; the inner loop visits the row's elements in row-major order of the
  /// reduced axes, in double (ir/reduce_semantics.h; sums in vector partial sums, see accumulate), so results are
  /// identical for any split of rows. Reductions over the same elements share the pass; their epilogue is computed
  /// once per row, after it. An empty row leaves each reduction at its start (0 for sum, -inf for max).
  void emit_reduce(llvm::Value* begin, llvm::Value* end) {
    const ir::RowSplit& split = shape_.split;
    index_.assign(shape_.space.size(), nullptr);
    llvm::Type* f64 = b_.getDoubleTy();
    LlvmMath math{b_, module_, f64};
    std::vector<const ir::Node*> roots;
    for (ir::NodeId id : shape_.roots) roots.push_back(&body_.node(id));
    over_rows(begin, end, [&](llvm::Value* row) {
      ir::unflatten_into(ix_, shape_.space, split.kept, row, index_);
      // One pass over the row: element results stored (the first pass only), then each root's operand folded.
      // The row's elements are visited by one loop per reduced axis, the last (contiguous) innermost: an
      // element's index takes no division, and the innermost loop vectorizes. (One flat loop that unflattened its
      // counter divided per element and stayed scalar: batch norm's statistics over N, H and W.)
      auto pass = [&](bool store,
                      const std::function<void(std::size_t root, llvm::Value * x, llvm::Value * position)>& fold) {
        auto element = [&](llvm::Value* e) {
          memo_.clear();
          std::vector<llvm::Value*> xs;
          for (const ir::Node* r : roots)
            xs.push_back(to_compute(emit(r->operands[0], index_), body_.type(r->operands[0]).dtype, f64));
          if (store) store_element_results();
          for (std::size_t k = 0; k < roots.size(); ++k) fold(k, xs[k], b_.CreateSIToFP(e, f64));
        };
        const std::size_t merged = ir::merged_reduced_tail(body_, shape_);
        std::function<void(std::size_t, llvm::Value*)> nest = [&](std::size_t level, llvm::Value* outer) {
          if (level == merged && merged + 1 < split.along.size()) {  // one loop over the contiguous tail of axes
            std::int64_t length = 1;
            for (std::size_t k = merged; k < split.along.size(); ++k) {
              length *= shape_.space[split.along[k]];
              index_[split.along[k]] = b_.getInt64(0);
            }
            loop(b_.getInt64(0), b_.getInt64(length), [&](llvm::Value* j) {
              index_[split.along.back()] = j;
              element(b_.CreateAdd(b_.CreateMul(outer, b_.getInt64(length)), j));
            });
            return;
          }
          std::size_t axis = split.along[level];
          llvm::Value* extent = b_.getInt64(shape_.space[axis]);
          loop(b_.getInt64(0), extent, [&](llvm::Value* i) {
            index_[axis] = i;
            llvm::Value* e = b_.CreateAdd(b_.CreateMul(outer, extent), i);  // the position along the row
            if (level + 1 < split.along.size()) nest(level + 1, e);
            else element(e);
          });
        };
        if (split.along.empty()) element(b_.getInt64(0));
        else nest(0, b_.getInt64(0));
      };
      std::vector<llvm::Value*> value(roots.size()), position(roots.size());
      for (std::size_t k = 0; k < roots.size(); ++k) {
        ir::Accumulator<LlvmMath> start = ir::reduction_start(roots[k]->op, math);
        value[k] = slot(f64, start.value);
        position[k] = slot(f64, start.position);
      }
      pass(true, [&](std::size_t k, llvm::Value* x, llvm::Value* at) {
        ir::Accumulator<LlvmMath> acc{b_.CreateLoad(f64, value[k]), b_.CreateLoad(f64, position[k])};
        if (roots[k]->op == OpKind::sum) {  // accumulate on the slot itself: the vectorizer's reduction pattern
          accumulate_into(math, value[k], x);
          return;
        }
        acc = ir::reduction_step(roots[k]->op, math, acc, x, at);
        b_.CreateStore(acc.value, value[k]);
        b_.CreateStore(acc.position, position[k]);
      });
      std::vector<llvm::Value*> results(roots.size());
      for (std::size_t k = 0; k < roots.size(); ++k)
        results[k] =
            ir::reduction_result(roots[k]->op, math, {b_.CreateLoad(f64, value[k]), b_.CreateLoad(f64, position[k])});
      if (roots[0]->op == OpKind::logsumexp) {  // a second pass; alone in its kernel
        llvm::Value* peak = results[0];
        llvm::Value* total = slot(f64, math.constant(0.0));
        pass(false, [&](std::size_t, llvm::Value* x, llvm::Value*) {
          accumulate_into(math, total, ir::logsumexp_term(math, x, peak));
        });
        results[0] = ir::logsumexp_result(math, peak, b_.CreateLoad(f64, total));
      }
      for (std::size_t k = 0; k < roots.size(); ++k)
        finished_[shape_.roots[k]] = from_compute(results[k], roots[k]->results[0].dtype);
      store_row_results(row);
      finished_.clear();
    });
  }

  /// softmax, log_softmax (along `axis`) and softmax_cross_entropy (along the last axis): one row per position
  /// of the other axes; the peak, then the sum of exponentials, then the outputs (ir/reduce_semantics.h). f32 rows
  /// compute in f32 (16 lanes, within the tested tolerance of the interpreter's double); others in double.
  void emit_row(const ir::Node& root, llvm::Value* begin, llvm::Value* end) {
    const ir::RowSplit& split = shape_.split;
    std::size_t axis = split.along[0];
    const Shape& space = shape_.space;
    index_.assign(space.size(), nullptr);
    ir::Value operand = root.operands[0];
    DType in_dtype = body_.type(operand).dtype;
    llvm::Type* ct = in_dtype == DType::f32 && root.results[0].dtype == DType::f32 ? b_.getFloatTy() : b_.getDoubleTy();
    LlvmMath math{b_, module_, ct};
    std::size_t root_output = output_index(root);
    llvm::Type* out_type = storage_type(ctx_, root.results[0].dtype);
    const Buffer& output = outputs_[root_output];
    auto at_index = [&] { return ir::flatten(ix_, space, index_); };
    // softmax and log_softmax evaluate their operand once per element, into the output row, and the later
    // passes read it back: every pass then sees the same value (a vectorized and a scalar evaluation of, say,
    // exp may differ in the last bit, and the passes vectorize differently), and an expensive operand is computed
    // once. (Re-reading a plain parameter instead measured no faster.) The loss has no row-shaped output and
    // evaluates its operand again.
    bool keeps_row = root.op != OpKind::softmax_cross_entropy;
    DType out_dtype = root.results[0].dtype;
    over_rows(begin, end, [&](llvm::Value* row) {
      ir::unflatten_into(ix_, space, split.kept, row, index_);
      auto evaluate = [&](llvm::Value* k, bool store_extras) {
        index_[axis] = k;
        memo_.clear();
        llvm::Value* x = to_compute(emit(operand, index_), in_dtype, ct);
        if (store_extras) store_element_results();
        return x;
      };
      auto stored = [&](llvm::Value* k) {
        index_[axis] = k;
        return to_compute(load(out_type, output, at_index()), out_dtype, ct);
      };
      auto along = [&](const std::function<void(llvm::Value * x)>& fold) {
        loop(b_.getInt64(0), b_.getInt64(space[axis]),
             [&](llvm::Value* k) { fold(keeps_row ? stored(k) : evaluate(k, false)); });
      };
      llvm::Value* peak = row_maximum(space[axis], math, [&](llvm::Value* k) {
        llvm::Value* x = evaluate(k, true);
        if (keeps_row) store(from_compute(x, out_dtype), output, at_index());
        return x;
      });
      if (axis + 1 == space.size()) prefetch_next_row(row);
      llvm::Value* total = slot(ct, math.constant(0.0));
      along([&](llvm::Value* x) {
        llvm::Value* e = ir::softmax_exp(math, x, peak);
        accumulate_into(math, total, e);
        if (root.op == OpKind::softmax) store(from_compute(e, out_dtype), output, at_index());  // scaled below
      });
      llvm::Value* sum = b_.CreateLoad(ct, total);
      if (root.op == OpKind::softmax_cross_entropy) {
        // The label is read at this row. One outside [0, classes) fails the kernel (the executor then reports it
        // as the interpreter does) and must not read outside the row.
        index_[axis] = b_.getInt64(0);
        memo_.clear();
        Index at_row;
        for (std::size_t d : split.kept) at_row.push_back(index_[d]);
        llvm::Value* label = b_.CreateSExtOrTrunc(emit(root.operands[1], at_row), b_.getInt64Ty());
        llvm::Value* valid = b_.CreateICmpULT(label, b_.getInt64(space[axis]));
        llvm::Value* status = b_.CreateLoad(b_.getInt64Ty(), status_);
        b_.CreateStore(b_.CreateSelect(valid, status, b_.getInt64(1)), status_);
        index_[axis] = b_.CreateSelect(valid, label, b_.getInt64(0));
        memo_.clear();
        llvm::Value* picked = to_compute(emit(operand, index_), in_dtype, ct);
        llvm::Value* loss = b_.CreateSelect(valid, ir::cross_entropy_value(math, peak, sum, picked),
                                            math.constant(std::numeric_limits<double>::quiet_NaN()));
        store(from_compute(loss, out_dtype), output, row);
        return;
      }
      if (root.op == OpKind::softmax) {
        // The exponentials are stored: scale them in place (a multiply per element rather than a divide, which
        // costs several times more).
        llvm::Value* scale = ir::softmax_scale(math, sum);
        along([&](llvm::Value* e) {
          store(from_compute(ir::softmax_value(math, e, scale), out_dtype), output, at_index());
        });
        return;
      }
      llvm::Value* log_total = math.log(sum);
      along([&](llvm::Value* x) {
        store(from_compute(ir::log_softmax_value(math, x, peak, log_total), out_dtype), output, at_index());
      });
    });
  }

  /// The peak of `length` values (element(k) for k in [0, length)) by ir::peak_step. Element k goes to partial
  /// maximum k % kPartials; the partials are combined at the end. The peak is exact, so the order cannot change
  /// it, and the partials give the vector units kPartials/16 independent chains instead of one long dependency
  /// chain (`x > m ? x : m` is one vmaxps).
  llvm::Value* row_maximum(std::int64_t length, LlvmMath& math,
                           const std::function<llvm::Value*(llvm::Value*)>& element) {
    constexpr std::int64_t kPartials = 64;
    llvm::Type* t = math.type;
    auto* lowest = llvm::cast<llvm::Constant>(math.constant(-std::numeric_limits<double>::infinity()));
    auto* array = llvm::ArrayType::get(t, kPartials);
    llvm::Value* partials =
        slot(array, llvm::ConstantArray::get(array, std::vector<llvm::Constant*>(kPartials, lowest)));
    auto partial = [&](llvm::Value* j) { return b_.CreateGEP(t, partials, j); };
    auto fold = [&](llvm::Value* j, llvm::Value* x) {
      tagged(b_.CreateStore(ir::peak_step(math, tagged(b_.CreateLoad(t, partial(j)), scratch_), x), partial(j)), scratch_);
    };
    std::int64_t blocks = length / kPartials;
    loop(b_.getInt64(0), b_.getInt64(blocks), [&](llvm::Value* block) {
      loop(b_.getInt64(0), b_.getInt64(kPartials),
           [&](llvm::Value* j) { fold(j, element(b_.CreateAdd(b_.CreateMul(block, b_.getInt64(kPartials)), j))); });
    });
    loop(b_.getInt64(blocks * kPartials), b_.getInt64(length),
         [&](llvm::Value* k) { fold(b_.CreateSub(k, b_.getInt64(blocks * kPartials)), element(k)); });
    llvm::Value* peak = slot(t, lowest);
    for (std::int64_t j = 0; j < kPartials; ++j)  // unrolled here: a loop would be a reduction the vectorizer refuses
      b_.CreateStore(ir::peak_step(math, b_.CreateLoad(t, peak), tagged(b_.CreateLoad(t, partial(b_.getInt64(j))), scratch_)), peak);
    return b_.CreateLoad(t, peak);
  }

  /// Asks for the next row of every full-shape input while this row computes its exponentials, so that memory
  /// reads overlap the arithmetic instead of alternating with it (the hardware prefetcher does not run that far
  /// ahead). Measured on softmax over [4096, 1000]: 1.75 ms without, 1.1 ms with (into the outer caches:
  /// locality 1 beat 2 and 3; also prefetching the output for writing made it slower).
  void prefetch_next_row(llvm::Value* row) {
    std::int64_t length = shape_.space.back();
    llvm::Function* prefetch = llvm::Intrinsic::getDeclaration(&module_, llvm::Intrinsic::prefetch, {b_.getPtrTy()});
    for (ir::NodeId id : body_.inputs) {
      const TensorType& type = body_.node(id).results[0];
      if (type.shape != shape_.space) continue;
      auto bytes = static_cast<std::int64_t>(size_of(type.dtype)) * length;
      llvm::Value* next = b_.CreateGEP(b_.getInt8Ty(), inputs_.at(id).base,
                                       b_.CreateMul(b_.CreateAdd(row, b_.getInt64(1)), b_.getInt64(bytes)));
      for (std::int64_t line = 0; line < (bytes + 63) / 64; ++line)  // a prefetch never faults, past the end too
        b_.CreateCall(prefetch, {b_.CreateConstGEP1_64(b_.getInt8Ty(), next, line * 64), b_.getInt32(0), b_.getInt32(1),
                                 b_.getInt32(1)});
    }
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
    // emit recurses operand by operand: a limit far above any real kernel, and far below what compile()'s
    // stack holds (ir/large_stack.h), turns a pathological chain into an error instead of a crash.
    if (depth_ >= kMaxDepth) raise(n.loc, "llvm backend: a kernel chains more than {} ops", kMaxDepth);
    struct Deeper {
      int& depth;
      explicit Deeper(int& d) : depth(++d) {}
      ~Deeper() { --depth; }
    } deeper(depth_);
    const TensorType& type = n.results[0];
    llvm::Value* result = nullptr;
    switch (n.info().category) {
      case ir::OpCategory::Param: {
        llvm::Type* t = storage_type(ctx_, type.dtype);
        result = load(t, inputs_.at(v.node), ir::flatten(ix_, type.shape, at));
        break;
      }
      case ir::OpCategory::Constant:
        result = from_double(n.attrs.get_float("value"), type.dtype);
        break;
      case ir::OpCategory::Layout:
        result = layout(n, at);
        break;
      case ir::OpCategory::Elementwise:
        result = n.info().has(ir::trait::Random) ? random(n, at) : elementwise(n, at);
        break;
      default:
        raise(n.loc, "llvm backend: {} is computed only as a root of its kernel", ir::op_name(n.op));
    }
    memo_[key] = result;
    return result;
  }

  /// A layout op's element: the first read of ir::layout_reads that is taken, or zero (every read's index is
  /// inside its operand, so all are loaded and the choice is a select).
  llvm::Value* layout(const ir::Node& n, const Index& at) {
    std::vector<Shape> shapes;
    for (ir::Value o : n.operands) shapes.push_back(body_.type(o).shape);
    std::vector<ir::LayoutRead<LlvmIndex>> reads = ir::layout_reads(ix_, n, shapes, at);
    llvm::Value* result = from_double(0.0, n.results[0].dtype);
    for (auto read = reads.rbegin(); read != reads.rend(); ++read) {
      llvm::Value* value = emit(n.operands[read->operand], read->index);
      if (n.op == OpKind::one_hot) {
        llvm::Value* hit = ir::one_hot_hit(ix_, b_.CreateSExtOrTrunc(value, b_.getInt64Ty()), at);
        value = b_.CreateSelect(hit, from_double(1.0, n.results[0].dtype), from_double(0.0, n.results[0].dtype));
      }
      result = b_.CreateSelect(read->taken, value, result);
    }
    return result;
  }

  /// A random op's element `at`: Philox keyed by its position (ir/random_semantics.h), the same bits as the
  /// interpreter's, whatever kernel it was copied into.
  llvm::Value* random(const ir::Node& n, const Index& at) {
    llvm::Value* element = ir::flatten(ix_, n.results[0].shape, at);
    llvm::Value* step = b_.CreateTrunc(b_.CreateFPToUI(emit(n.operands[0], {}), b_.getInt64Ty()), b_.getInt32Ty());
    LlvmWords words{b_};
    LlvmMath math{b_, module_, b_.getDoubleTy()};
    llvm::Value* value = ir::random_value(n.op, words, math, static_cast<std::uint64_t>(n.attrs.get_int("seed")),
                                          static_cast<std::uint32_t>(n.attrs.get_int("stream")),
                                          b_.CreateTrunc(element, b_.getInt32Ty()),
                                          b_.CreateTrunc(b_.CreateLShr(element, 32), b_.getInt32Ty()), step);
    return from_compute(value, n.results[0].dtype);
  }

  llvm::Value* elementwise(const ir::Node& n, const Index& at) {
    std::vector<DType> dtypes;
    for (ir::Value o : n.operands) dtypes.push_back(body_.type(o).dtype);
    DType result_dtype = n.results[0].dtype;
    bool f32 = ir::computes_in_f32(result_dtype, dtypes);
    llvm::Type* compute = f32 ? b_.getFloatTy() : b_.getDoubleTy();
    std::vector<llvm::Value*> args;
    for (ir::Value o : n.operands)
      args.push_back(to_compute(emit(o, ir::broadcast_index(ix_, body_.type(o).shape, n.results[0].shape, at)),
                                body_.type(o).dtype, compute));
    LlvmMath math{b_, module_, compute};
    llvm::Value* value = ir::elementwise(n.op, n.attrs, math, std::span<llvm::Value* const>(args));
    return from_compute(value, result_dtype);
  }

  /// Storage → compute type, as the interpreter's load (Array::get then a cast) does.
  llvm::Value* to_compute(llvm::Value* v, DType dtype, llvm::Type* compute) {
    switch (dtype) {
      case DType::f32:
      case DType::f64:
        return b_.CreateFPCast(v, compute);
      case DType::i32:
      case DType::i64:
        return b_.CreateSIToFP(v, compute);
      case DType::b8:
        return b_.CreateUIToFP(v, compute);
    }
    return v;
  }

  /// Compute → storage type, as the interpreter's store (Array::set) does.
  llvm::Value* from_compute(llvm::Value* v, DType dtype) {
    llvm::Type* t = storage_type(ctx_, dtype);
    switch (dtype) {
      case DType::f32:
      case DType::f64:
        return b_.CreateFPCast(v, t);
      case DType::i32:
      case DType::i64:
        return b_.CreateFPToSI(v, t);
      case DType::b8:
        return b_.CreateZExt(b_.CreateFCmpUNE(v, llvm::ConstantFP::get(v->getType(), 0.0)), t);
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
  const ir::KernelShape& shape_;
  const std::vector<int>& overwrites_;
  const std::vector<std::int64_t>& arena_offsets_;
  llvm::Module& module_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  LlvmIndex ix_;
  /// The kernel's return value: 0, or 1 once a row has failed (a label outside its range).
  llvm::Value* status_ = nullptr;
  Index index_;
  std::map<ir::NodeId, Buffer> inputs_;
  std::vector<Buffer> outputs_;
  /// The tags of accesses to the kernel's scratch arrays on the stack (see load_buffers).
  Buffer scratch_;
  /// Loop kernels: the access group of every buffer access, which the inner loop declares free of loop-carried
  /// dependences (llvm.loop.parallel_accesses; see emit_loop). Null in other kernels.
  llvm::MDNode* parallel_group_ = nullptr;
  /// Results of the row's reductions, once accumulated (storage type).
  std::map<ir::NodeId, llvm::Value*> finished_;
  std::map<std::pair<ir::NodeId, Index>, llvm::Value*> memo_;
  static constexpr int kMaxDepth = 1'000'000;
  int depth_ = 0;
};

}  // namespace

void emit_kernel(const KernelSource& kernel, llvm::Module& module) { KernelEmitter(kernel, module).emit(); }

}  // namespace loom::codegen::llvm_backend
