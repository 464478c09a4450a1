#pragma once
/// f32 convolutions and pools through oneDNN: conv2d (with a bias and an activation as post-op), its backward-data
/// and backward-weights ops, max and average pooling, and average pooling's backward op. Each primitive is created
/// once, at compile time, for the node's shapes and window (ir/window_semantics.h), on plain NCHW / OIHW buffers;
/// a convolution may run in oneDNN's blocked layout between reorders of its own (window.cpp says when).
/// Max pooling's backward op is not here: oneDNN's needs the forward's workspace, and loom recomputes each window's
/// largest tap from x instead (codegen/window_loops.h), which needs no buffer between the two.

#include <memory>
#include <string>

#include "loom/codegen/onednn/epilogue.h"
#include "loom/ir/window_semantics.h"

namespace loom::codegen::onednn {

class WindowPrimitive {
 public:
  /// Which layout a convolution runs in: the one loom chooses (window.cpp), or plain NCHW throughout (for the
  /// benchmark that measures the choice).
  enum class Layout { chosen, plain };
  /// Whether oneDNN runs `op` here (f32, no empty tensor: oneDNN 2.6 cannot create primitives over those).
  static bool supports(ir::OpKind op, const ir::Window2d& window);
  /// For a window node with the window `window` (ir::window_of); `epilogue` only for conv2d.
  static std::unique_ptr<WindowPrimitive> create(const ir::Node& node, const ir::Window2d& window, const Epilogue& epilogue = {},
                                                 Layout layout = Layout::chosen);
  virtual ~WindowPrimitive() = default;
  /// The bytes run() needs in `workspace`: tensors staged in oneDNN's blocked layouts (the caller may share one
  /// workspace among primitives that run one after another).
  virtual std::size_t workspace_bytes() const = 0;
  /// out = op(in0, in1) (+ bias, then the activation); in1 is ignored by one-operand ops, bias without a bias.
  virtual void run(const void* in0, const void* in1, const void* bias, void* out, void* workspace) const = 0;
  /// How it runs, for the JIT's dumps (onednn.txt): oneDNN's implementation and each argument's layout, in
  /// oneDNN's notation (aBcd16b is nChw16c), marked "reordered" where a reorder stages it from or to the caller's
  /// plain buffer.
  virtual const std::string& layouts() const = 0;
};

}  // namespace loom::codegen::onednn
