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

/// The iteration space of a kernel body: the shape its elementwise values (and extra outputs) share; for a body
/// that ends in a reduction, normalization or loss, the shape of that op's operand.
Shape kernel_space(const ir::Graph& body);
/// How many independent rows a kernel has: for elementwise bodies all dimensions but the last times the blocks
/// of (at most 8192 elements of) the last, for reductions
/// one row per output element, for softmax-like ops one row per position of the other axes.
std::int64_t kernel_rows(const ir::Graph& body);

struct CompileRequest {
  /// Also produce the optimized LLVM IR and the assembly (for dumps); such compiles do not read the disk cache.
  bool want_text = false;
};

/// One kernel to compile: a fused node's body, and for each of its outputs the input whose buffer it overwrites
/// in place (-1: its own buffer). The memory plan only does that where the kernel reads that input at exactly the
/// element it writes (ir::reads_at_write_index); the kernel then stores through the input's pointer, so its
/// parameters stay `noalias`.
struct KernelSource {
  KernelSource(const ir::Graph* body, std::vector<int> output_overwrites = {})  // NOLINT: a body alone converts
      : body(body), output_overwrites(std::move(output_overwrites)) {}
  const ir::Graph* body;
  std::vector<int> output_overwrites;
};

/// A set of kernels compiled together into one module, or loaded from the disk cache (object_cache.h).
class KernelModule {
 public:
  /// Compiles the bodies of fused nodes; each becomes the function named by its body's name. Throws Error naming
  /// the op for anything a kernel cannot contain.
  static std::unique_ptr<KernelModule> compile(const std::vector<KernelSource>& kernels,
                                               const CompileRequest& request = {});
  virtual ~KernelModule() = default;

  virtual KernelFn lookup(const std::string& name) const = 0;
  /// The optimized LLVM IR and the assembly of the module (empty unless requested).
  virtual const std::string& llvm_ir() const = 0;
  virtual const std::string& assembly() const = 0;
  /// Whether the object came from the disk cache.
  virtual bool from_cache() const = 0;
};

}  // namespace loom::codegen::llvm_backend
