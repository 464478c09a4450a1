#pragma once
/// What the oneDNN wrappers of this directory share; private to it (the only header here that includes oneDNN's).

#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "loom/codegen/onednn/epilogue.h"

namespace loom::codegen::onednn {

/// The attributes every primitive here is created with: the epilogue's activation as a post-op (none for
/// stop_gradient), and a scratchpad of our own. (oneDNN's default scratchpad is a per-thread buffer sized when the
/// primitive is created; loom compiles on another thread than it runs, and a convolution then crashed.)
dnnl::primitive_attr primitive_attributes(const Epilogue& epilogue = {});

/// A primitive with its memories bound once, with no data: each call points them at its buffers and executes
/// through the C API with an argument array built once (the C++ API's execute() builds a map and a vector per
/// call; oneDNN's own dnnl_primitive_execute still allocates its internal argument map, 5 small blocks a call in
/// oneDNN 2.6, which is beyond our reach).
class BoundPrimitive {
 public:
  BoundPrimitive() = default;
  /// `args` pairs each argument kind (DNNL_ARG_SRC, ...) with its descriptor, in the order run() takes buffers;
  /// `scratchpad` is the primitive descriptor's (its memory is allocated here, once).
  BoundPrimitive(const dnnl::engine& engine, dnnl::primitive primitive, const std::vector<std::pair<int, dnnl::memory::desc>>& args,
                 const dnnl::memory::desc& scratchpad);
  void run(const void* const* buffers, const char* what) const;

 private:
  dnnl::engine engine_;  ///< kept alive: the stream and the memories refer to it
  dnnl::primitive primitive_;
  mutable dnnl::stream stream_;  ///< created once; calls on one executable are sequential
  mutable std::vector<dnnl::memory> memories_;
  dnnl::memory scratchpad_;  ///< owns its buffer
  std::vector<dnnl_exec_arg_t> args_;
};

}  // namespace loom::codegen::onednn
