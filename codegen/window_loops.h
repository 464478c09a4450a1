#pragma once
/// The sliding-window ops' loops, written once: the interpreter's oracle and the JIT's own kernels (f64, which
/// oneDNN lacks, and max pooling's backward op) both run them, so their results are identical. The math follows
/// the IR's semantics (docs/IR.md): each result element is a sum (or maximum) over its taps in a fixed order,
/// accumulated in the result's dtype through the scalar algebra `math` (ir/scalar_semantics.h); taps in the padding
/// read nothing. Scatter-shaped gradients (the pools') add into each input element in increasing output order,
/// the order a gather in that element's place would use. One exception, at the end of the file: the JIT runs max
/// pooling's backward over 2 × 2 windows at stride 2 in a vectorizable form of the same scan, which tests compare
/// with the interpreter's.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <type_traits>

#include "loom/ir/window_semantics.h"

namespace loom::codegen {

namespace window_detail {

/// Calls body(plane) for planes [0, count), split over OpenMP threads when `parallel` (planes write disjoint
/// elements, so the split changes no bit).
template <class Body>
void for_planes(std::int64_t count, bool parallel, Body body) {
#pragma omp parallel for schedule(static) if (parallel)
  for (std::int64_t p = 0; p < count; ++p) body(p);
}

/// The first tap of output o along `axis` that lies inside the input, and one past the last (taps k with
/// o·stride − pad_low + k·dilation in [0, input)). Without dilation (every pool) it divides nothing: a division per
/// output was most of max pooling's backward time.
inline std::pair<std::int64_t, std::int64_t> inside_taps(const ir::WindowAxis& a, std::int64_t o) {
  std::int64_t start = o * a.stride - a.pad_low;
  if (a.dilation == 1) {
    std::int64_t first = std::max<std::int64_t>(0, -start), last = std::min(a.kernel, a.input - start);
    return last <= first ? std::pair<std::int64_t, std::int64_t>{0, 0} : std::pair{first, last};
  }
  std::int64_t first = start < 0 ? (-start + a.dilation - 1) / a.dilation : 0;
  std::int64_t past = a.input - start;  // taps k with start + k·dilation < input
  if (past <= 0) return {0, 0};
  std::int64_t last = std::min(a.kernel, (past + a.dilation - 1) / a.dilation);
  return {std::min(first, last), last};
}

}  // namespace window_detail

/// out = op(in0, in1) for a window op `n` with window `w` (ir::window_of); `in1` is null for one-operand ops.
/// With `parallel`, independent planes run on OpenMP threads (`math` must then be stateless).
template <class Math, class T>
void window_loops(const ir::Node& n, const ir::Window2d& w, Math& math, const T* in0, const T* in1, T* out,
                  bool parallel) {
  using V = typename Math::V;
  using window_detail::for_planes;
  using window_detail::inside_taps;
  const ir::WindowAxis &ah = w.axis[0], &aw = w.axis[1];
  const std::int64_t H = ah.input, W = aw.input, OH = ah.output, OW = aw.output, KH = ah.kernel, KW = aw.kernel;
  const std::int64_t C = w.in_channels, O = w.out_channels, N = w.batch;
  switch (n.op) {
    case ir::OpKind::conv2d:  // in0 = x [N,C,H,W], in1 = w [O,C,KH,KW]: out[n,o,oh,ow] = Σ_c,kh,kw x·w
      for_planes(N * O, parallel, [&](std::int64_t plane) {
        std::int64_t b = plane / O, o = plane % O;
        for (std::int64_t oh = 0; oh < OH; ++oh)
          for (std::int64_t ow = 0; ow < OW; ++ow) {
            auto [h0, h1] = inside_taps(ah, oh);
            auto [w0, w1] = inside_taps(aw, ow);
            V acc = 0;
            for (std::int64_t c = 0; c < C; ++c)
              for (std::int64_t kh = h0; kh < h1; ++kh)
                for (std::int64_t kw = w0; kw < w1; ++kw)
                  acc = math.accumulate(acc, math.mul(in0[((b * C + c) * H + ah.input_position(oh, kh)) * W + aw.input_position(ow, kw)],
                                                      in1[((o * C + c) * KH + kh) * KW + kw]));
            out[((b * O + o) * OH + oh) * OW + ow] = static_cast<T>(acc);
          }
      });
      return;
    case ir::OpKind::conv2d_backward_data:  // in0 = dy [N,O,OH,OW], in1 = w: dx[n,c,h,w] = Σ_o,kh,kw dy·w
      for_planes(N * C, parallel, [&](std::int64_t plane) {
        std::int64_t b = plane / C, c = plane % C;
        for (std::int64_t h = 0; h < H; ++h)
          for (std::int64_t x = 0; x < W; ++x) {
            V acc = 0;
            for (std::int64_t o = 0; o < O; ++o)
              for (std::int64_t kh = 0; kh < KH; ++kh) {
                std::int64_t th = h + ah.pad_low - kh * ah.dilation;  // = oh·stride
                if (th < 0 || th % ah.stride != 0 || th / ah.stride >= OH) continue;
                for (std::int64_t kw = 0; kw < KW; ++kw) {
                  std::int64_t tw = x + aw.pad_low - kw * aw.dilation;
                  if (tw < 0 || tw % aw.stride != 0 || tw / aw.stride >= OW) continue;
                  acc = math.accumulate(acc, math.mul(in0[((b * O + o) * OH + th / ah.stride) * OW + tw / aw.stride],
                                                      in1[((o * C + c) * KH + kh) * KW + kw]));
                }
              }
            out[((b * C + c) * H + h) * W + x] = static_cast<T>(acc);
          }
      });
      return;
    case ir::OpKind::conv2d_backward_weights:  // in0 = x, in1 = dy: dw[o,c,kh,kw] = Σ_n,oh,ow x·dy
      for_planes(O * C, parallel, [&](std::int64_t plane) {
        std::int64_t o = plane / C, c = plane % C;
        for (std::int64_t kh = 0; kh < KH; ++kh)
          for (std::int64_t kw = 0; kw < KW; ++kw) {
            V acc = 0;
            for (std::int64_t b = 0; b < N; ++b)
              for (std::int64_t oh = 0; oh < OH; ++oh) {
                std::int64_t ih = ah.input_position(oh, kh);
                if (!ah.inside(ih)) continue;
                for (std::int64_t ow = 0; ow < OW; ++ow) {
                  std::int64_t iw = aw.input_position(ow, kw);
                  if (!aw.inside(iw)) continue;
                  acc = math.accumulate(acc, math.mul(in0[((b * C + c) * H + ih) * W + iw], in1[((b * O + o) * OH + oh) * OW + ow]));
                }
              }
            out[((o * C + c) * KH + kh) * KW + kw] = static_cast<T>(acc);
          }
      });
      return;
    default: break;  // the pools
  }
  // The pools: one (n, c) plane at a time. The forward ops read in0 = x; max_pool2d_backward reads (x, dy) and
  // avg_pool2d_backward reads dy.
  const bool backward = n.op == ir::OpKind::max_pool2d_backward || n.op == ir::OpKind::avg_pool2d_backward;
  const bool is_max = n.op == ir::OpKind::max_pool2d || n.op == ir::OpKind::max_pool2d_backward;
  for_planes(N * C, parallel, [&](std::int64_t plane) {
    const T* x = n.op == ir::OpKind::avg_pool2d_backward ? nullptr : in0 + plane * H * W;
    const T* dy = n.op == ir::OpKind::avg_pool2d_backward ? in0 + plane * OH * OW : backward ? in1 + plane * OH * OW : nullptr;
    T* y = out + plane * (backward ? H * W : OH * OW);
    if (backward)
      for (std::int64_t i = 0; i < H * W; ++i) y[i] = T(0);
    for (std::int64_t oh = 0; oh < OH; ++oh) {
      auto [h0, h1] = inside_taps(ah, oh);
      const std::int64_t row = ah.input_position(oh, 0) * W;
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        auto [w0, w1] = inside_taps(aw, ow);
        const std::int64_t corner = row + aw.input_position(ow, 0);  // may lie in the padding; taps below do not
        if (is_max) {  // the first largest tap, in (kh, kw) order; a pool's padding is smaller than its kernel
          std::int64_t best = corner + h0 * W + w0;
          T peak = x[best];
          for (std::int64_t kh = h0; kh < h1; ++kh)
            for (std::int64_t kw = w0; kw < w1; ++kw) {
              std::int64_t at = corner + kh * W + kw;
              bool larger = x[at] > peak;  // selects, not branches: random data mispredicts half of them
              best = larger ? at : best;
              peak = larger ? x[at] : peak;
            }
          if (backward) y[best] = static_cast<T>(math.accumulate(y[best], dy[oh * OW + ow]));
          else y[oh * OW + ow] = peak;
          continue;
        }
        V count = math.constant(static_cast<double>((h1 - h0) * (w1 - w0)));
        if (backward) {
          V share = math.div(dy[oh * OW + ow], count);
          for (std::int64_t kh = h0; kh < h1; ++kh)
            for (std::int64_t kw = w0; kw < w1; ++kw) {
              T& element = y[corner + kh * W + kw];
              element = static_cast<T>(math.accumulate(element, share));
            }
          continue;
        }
        V acc = 0;
        for (std::int64_t kh = h0; kh < h1; ++kh)
          for (std::int64_t kw = w0; kw < w1; ++kw) acc = math.accumulate(acc, x[corner + kh * W + kw]);
        y[oh * OW + ow] = static_cast<T>(math.div(acc, count));
      }
    }
  });
}

/// Whether max_pool2d_backward over window `w` is the common pool of 2 × 2 windows at stride 2 that all lie inside
/// the input (max_pool2d_backward_2x2 computes it).
inline bool is_inside_2x2_pool(const ir::Window2d& w) {
  for (const ir::WindowAxis& a : w.axis)
    if (a.kernel != 2 || a.stride != 2 || a.pad_low != 0 || 2 * a.output > a.input) return false;
  return true;
}

/// max_pool2d_backward for is_inside_2x2_pool windows, the JIT's kernel: the same results as window_loops (the
/// interpreter's, the oracle; tests/unit/jit_test.cpp compares them on ties), computed so that GCC vectorizes it.
/// Each window's four taps are compared as window_loops scans them (a tap wins when larger than every tap before
/// it), the winner gets 0 + dy and the others 0, selected by bit masks, and every input element is written once;
/// window_loops' scalar scan with a scatter into a zeroed plane was 8× slower in a standalone timing (and about
/// 4.8 ms of the CNN step's 28 ms). Elements below or right of the last window get 0.
template <class T>
void max_pool2d_backward_2x2(const ir::Window2d& w, const T* x, const T* dy, T* dx, bool parallel) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  const std::int64_t H = w.axis[0].input, W = w.axis[1].input, OH = w.axis[0].output, OW = w.axis[1].output;
  window_detail::for_planes(w.batch * w.in_channels, parallel, [&](std::int64_t plane) {
    const T* in = x + plane * H * W;
    const T* grad = dy + plane * OH * OW;
    T* out = dx + plane * H * W;
    for (std::int64_t oh = 0; oh < OH; ++oh) {
      const T *top = in + 2 * oh * W, *bottom = top + W;
      const T* g = grad + oh * OW;
      T *out_top = out + 2 * oh * W, *out_bottom = out_top + W;
      for (std::int64_t ow = 0; ow < OW; ++ow) {
        T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
        Bits b_wins = Bits(0) - Bits(b > a);
        T peak = std::max(a, b);  // (a < b) ? b : a, the scan's keep-unless-larger
        Bits c_wins = Bits(0) - Bits(c > peak);
        Bits d_wins = Bits(0) - Bits(d > std::max(peak, c));
        Bits gradient = std::bit_cast<Bits>(static_cast<T>(g[ow] + T(0)));
        out_top[2 * ow] = std::bit_cast<T>(gradient & ~b_wins & ~c_wins & ~d_wins);
        out_top[2 * ow + 1] = std::bit_cast<T>(gradient & b_wins & ~c_wins & ~d_wins);
        out_bottom[2 * ow] = std::bit_cast<T>(gradient & c_wins & ~d_wins);
        out_bottom[2 * ow + 1] = std::bit_cast<T>(gradient & d_wins);
      }
      for (std::int64_t col = 2 * OW; col < W; ++col) out_top[col] = out_bottom[col] = T(0);
    }
    for (std::int64_t i = 2 * OH * W; i < H * W; ++i) out[i] = T(0);
  });
}

}  // namespace loom::codegen
