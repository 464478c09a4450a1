#pragma once
/// The geometry of the sliding-window ops (conv2d, the pools and their backward ops) over NCHW tensors, written
/// once: type inference sizes results with it, the loops that define the math (codegen/window_loops.h) walk its
/// taps, and the oneDNN primitives are described from it, so the three cannot disagree about where a tap lands.

#include <array>
#include <cstdint>

#include "loom/ir/graph.h"

namespace loom::ir {

/// One spatial axis (0: height, 1: width) of a window: output position o, tap k read input position
/// o·stride − pad_low + k·dilation; positions outside [0, input) are padding and read nothing.
struct WindowAxis {
  std::int64_t input = 0, output = 0, kernel = 1, stride = 1, dilation = 1, pad_low = 0, pad_high = 0;

  std::int64_t input_position(std::int64_t o, std::int64_t k) const { return o * stride - pad_low + k * dilation; }
  bool inside(std::int64_t position) const { return position >= 0 && position < input; }
  /// The number of outputs: every window placement that starts inside the padded input and ends inside it.
  static std::int64_t outputs(std::int64_t input, std::int64_t kernel, std::int64_t stride, std::int64_t dilation,
                              std::int64_t pad_low, std::int64_t pad_high) {
    std::int64_t span = dilation * (kernel - 1) + 1, padded = input + pad_low + pad_high;
    return padded < span ? 0 : (padded - span) / stride + 1;
  }
};

/// A window over both spatial axes, with the batch, channel counts of the op's input and output.
struct Window2d {
  std::array<WindowAxis, 2> axis;
  std::int64_t batch = 0, in_channels = 0, out_channels = 0;
};

/// The ops whose window is a convolution's (weights OIHW) rather than a pool's (one channel at a time).
inline bool is_convolution(OpKind op) {
  return op == OpKind::conv2d || op == OpKind::conv2d_backward_data || op == OpKind::conv2d_backward_weights;
}

/// The window of a node given the types of the forward op's input x [N, C, H, W] and output y, as type inference
/// derives them: conv2d reads (x, w) and gives y; conv2d_backward_data reads (dy, w) and gives dx; the others
/// likewise. `x` and `kernel` are the input shape and the kernel's [KH, KW].
inline Window2d make_window(const Attrs& attrs, OpKind op, const Shape& x, std::int64_t out_channels,
                            std::int64_t kernel_h, std::int64_t kernel_w) {
  const auto &stride = attrs.get_ints("stride"), &low = attrs.get_ints("pad_low"), &high = attrs.get_ints("pad_high");
  std::vector<std::int64_t> dilation{1, 1};
  if (is_convolution(op)) dilation = attrs.get_ints("dilation");
  Window2d w;
  w.batch = x[0];
  w.in_channels = x[1];
  w.out_channels = out_channels;
  std::int64_t kernel[2] = {kernel_h, kernel_w};
  for (std::size_t d = 0; d < 2; ++d) {
    WindowAxis& a = w.axis[d];
    a = {x[2 + d], 0, kernel[d], stride[d], dilation[d], low[d], high[d]};
    a.output = WindowAxis::outputs(a.input, a.kernel, a.stride, a.dilation, a.pad_low, a.pad_high);
  }
  return w;
}

/// The window of a typed node, from its first operand's shape, its second's (null for one-operand ops) and its
/// result's.
inline Window2d window_of(const Node& n, const Shape& operand0, const Shape* operand1) {
  const Shape& result = n.results[0].shape;
  switch (n.op) {
    case OpKind::conv2d: return make_window(n.attrs, n.op, operand0, (*operand1)[0], (*operand1)[2], (*operand1)[3]);
    case OpKind::conv2d_backward_data:
      return make_window(n.attrs, n.op, result, (*operand1)[0], (*operand1)[2], (*operand1)[3]);
    case OpKind::conv2d_backward_weights: return make_window(n.attrs, n.op, operand0, result[0], result[2], result[3]);
    default: {
      const auto& kernel = n.attrs.get_ints("kernel");
      const Shape& x = n.op == OpKind::avg_pool2d_backward ? result : operand0;
      return make_window(n.attrs, n.op, x, x[1], kernel[0], kernel[1]);
    }
  }
}

}  // namespace loom::ir
