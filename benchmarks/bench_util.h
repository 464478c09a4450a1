#pragma once
/// Helpers shared by the benchmarks: running one fused kernel of a compiled function on preallocated buffers.

#include <omp.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include <loom/loom.h>

#include "loom/codegen/llvm/jit.h"

namespace loom::bench {

/// The first fused kernel of `f`, compiled alone, with buffers for its operands and results: what the kernel
/// costs without the executor's per-call allocation (that is #5's work).
class KernelRunner {
 public:
  KernelRunner(const Function& f, const std::vector<Array>& inputs) {
    const ir::Graph& g = f.graph();
    for (ir::NodeId id = 0; id < g.num_nodes(); ++id)
      if (!g.node(id).dead && g.node(id).body) {
        body_ = *g.node(id).body;
        break;
      }
    module_ = codegen::llvm_backend::KernelModule::compile({&body_});
    kernel_ = module_->lookup(body_.name());
    rows_ = codegen::llvm_backend::kernel_rows(body_);
    for (const Array& a : inputs) buffers_.push_back(const_cast<void*>(a.raw()));
    for (ir::Value v : body_.outputs) {
      outputs_.emplace_back(body_.type(v).dtype, body_.type(v).shape);
      buffers_.push_back(outputs_.back().raw());
    }
  }

  const Array& output(std::size_t k) const { return outputs_.at(k); }

  /// One run over all rows, split in 64 chunks over the OpenMP threads (as the executor does).
  void run() {
    std::int64_t chunks = std::min<std::int64_t>(rows_, 64);
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) kernel_(buffers_.data(), rows_ * c / chunks, rows_ * (c + 1) / chunks);
  }

 private:
  ir::Graph body_;
  std::unique_ptr<codegen::llvm_backend::KernelModule> module_;
  codegen::llvm_backend::KernelFn kernel_ = nullptr;
  std::int64_t rows_ = 0;
  std::vector<void*> buffers_;
  std::vector<Array> outputs_;
};

}  // namespace loom::bench
