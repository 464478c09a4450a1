#pragma once
/// The LLVM backend's compiler: fused loop kernels → LLVM modules (one per compiling thread) → O3 for the host CPU
/// → object files → one ORC LLJIT.
/// This header is free of LLVM types so that only codegen/llvm/*.cpp pays for LLVM's headers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/ir/graph.h"
#include "loom/ir/kernel_shape.h"

namespace loom::codegen::llvm_backend {

/// A compiled kernel: reads its inputs from buffers[0..n), writes its outputs to buffers[n..), for the rows
/// [begin, end) of [0, KernelShape::rows). Rows are independent, so any split over threads gives the same bits.
/// Returns 0, or 1 when a row failed (a softmax cross-entropy label outside its range; the kernel cannot throw,
/// so its caller reports it).
using KernelFn = std::int64_t (*)(void* const* buffers, std::int64_t begin, std::int64_t end);

struct CompileRequest {
  /// Also produce the optimized LLVM IR and the assembly (for dumps); such compiles do not read the disk cache.
  bool want_text = false;
  /// The CPU to generate code for: "host" for this machine's CPU and all its features, or an LLVM CPU name such as
  /// "x86-64-v3" (AVX2, FMA) or "x86-64-v4" (AVX-512), which must not need a feature this machine lacks; empty for
  /// the environment variable LOOM_TARGET_CPU, else "host". Part of the disk cache's key.
  std::string target_cpu;
  /// Threads that compile at once, each a part of the kernels in a module of its own: 0 for every core. Small
  /// sets of kernels are compiled on the calling thread alone.
  int threads = 0;
};

/// One kernel to compile: a fused node's body and shape, and for each of its outputs the input whose buffer it
/// overwrites in place (-1: its own buffer). The memory plan only does that where ir::may_overwrite allows it;
/// the kernel then stores through the input's pointer, so its buffers stay pairwise disjoint (which the emitter's
/// alias metadata says).
///
/// `arena_offsets` gives, for each buffer (inputs, then outputs), its byte offset in the memory plan's arena, or -1
/// for a buffer elsewhere (empty: all elsewhere). A kernel finds a buffer elsewhere through its pointer in the
/// table; with any buffer in the arena, the table has one more entry, after the buffers: the arena's address, to
/// which the kernel adds the offsets itself (they are constants: no pointer per buffer to load and keep in a
/// register, which on deep graphs' kernels of hundreds of buffers cost 15% of LLVM's time).
struct KernelSource {
  KernelSource(const ir::Graph* body, ir::KernelShape shape, std::vector<int> output_overwrites = {},
               std::vector<std::int64_t> arena_offsets = {})
      : body(body),
        shape(std::move(shape)),
        output_overwrites(std::move(output_overwrites)),
        arena_offsets(std::move(arena_offsets)) {}
  /// A body alone: its shape from ir::describe_kernel, nothing in place.
  KernelSource(const ir::Graph* body) : KernelSource(body, ir::describe_kernel(*body)) {}  // NOLINT: converts
  const ir::Graph* body;
  ir::KernelShape shape;
  std::vector<int> output_overwrites;
  std::vector<std::int64_t> arena_offsets;
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
