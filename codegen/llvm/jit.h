#pragma once
/// The LLVM backend's compiler: fused loop kernels → one LLVM module → O3 for the host CPU → ORC LLJIT.
/// This header is free of LLVM types so that only codegen/llvm/*.cpp pays for LLVM's headers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::codegen::llvm_backend {

/// A compiled kernel: reads its inputs from buffers[0..n), writes its outputs to buffers[n..), for the rows
/// [begin, end) of its iteration space (all dimensions but the last). Rows are independent, so any split of
/// [0, rows) over threads gives the same bits.
using KernelFn = void (*)(void* const* buffers, std::int64_t begin, std::int64_t end);

/// The iteration space of a loop kernel body: the shape of its outputs (which must all agree).
Shape loop_space(const ir::Graph& body);
/// Number of rows of a loop space: the product of all dimensions but the last (1 for rank 0 and 1).
std::int64_t loop_rows(const Shape& space);

/// A set of kernels compiled together into one module.
class KernelModule {
 public:
  /// Compiles the bodies of "loop" fused nodes; each becomes the function named by its body's name. Throws Error
  /// naming the op for anything a loop kernel cannot contain.
  static std::unique_ptr<KernelModule> compile(const std::vector<const ir::Graph*>& bodies);
  virtual ~KernelModule() = default;

  virtual KernelFn lookup(const std::string& name) const = 0;
  /// The optimized LLVM IR of the module, for dumps.
  virtual const std::string& llvm_ir() const = 0;
};

}  // namespace loom::codegen::llvm_backend
