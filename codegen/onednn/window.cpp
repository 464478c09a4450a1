#include "loom/codegen/onednn/window.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "loom/codegen/onednn/primitives.h"

namespace loom::codegen::onednn {

namespace {

using dims = dnnl::memory::dims;
using desc = dnnl::memory::desc;
using tag = dnnl::memory::format_tag;
using ir::OpKind;

/// The window's shapes and geometry in oneDNN's terms (its dilation counts the gaps: 0 is dense). Tensors are
/// described plain (NCHW, OIHW), or with the layout left to oneDNN (`any`) when `blocked`.
struct Geometry {
  desc x, y, w, bias;
  dims strides, dilation, pad_low, pad_high, kernel;

  Geometry(const ir::Window2d& win, bool with_bias, bool blocked) {
    const ir::WindowAxis &h = win.axis[0], &wd = win.axis[1];
    auto make = [&](dims shape, tag plain) { return desc(shape, dnnl::memory::data_type::f32, blocked ? tag::any : plain); };
    x = make({win.batch, win.in_channels, h.input, wd.input}, tag::nchw);
    y = make({win.batch, win.out_channels, h.output, wd.output}, tag::nchw);
    w = make({win.out_channels, win.in_channels, h.kernel, wd.kernel}, tag::oihw);
    if (with_bias) bias = desc({win.out_channels}, dnnl::memory::data_type::f32, tag::x);
    strides = {h.stride, wd.stride};
    dilation = {h.dilation - 1, wd.dilation - 1};
    pad_low = {h.pad_low, wd.pad_low};
    pad_high = {h.pad_high, wd.pad_high};
    kernel = {h.kernel, wd.kernel};
  }

  dnnl::convolution_forward::primitive_desc forward_conv(const dnnl::engine& engine, dnnl::prop_kind kind,
                                                         const dnnl::primitive_attr& attr = primitive_attributes()) const {
    return {{kind, dnnl::algorithm::convolution_direct, x, w, bias, y, strides, dilation, pad_low, pad_high}, attr, engine};
  }
  /// convolution_backward_data or _weights: both take (x, w, y) in that order, and the forward as a hint.
  template <class Primitive>
  typename Primitive::primitive_desc backward_conv(const dnnl::engine& engine, const dnnl::primitive_attr& attr) const {
    typename Primitive::desc d(dnnl::algorithm::convolution_direct, x, w, y, strides, dilation, pad_low, pad_high);
    return {d, attr, engine, forward_conv(engine, dnnl::prop_kind::forward_training)};
  }
  dnnl::pooling_forward::primitive_desc forward_pool(const dnnl::engine& engine, dnnl::prop_kind kind,
                                                     dnnl::algorithm algorithm) const {
    return {{kind, algorithm, x, y, strides, kernel, pad_low, pad_high}, primitive_attributes(), engine};
  }
};

/// Whether a convolution runs on oneDNN's own layout (blocked channels, e.g. nChw16c), with reorders from and to
/// the plain buffers around it. Measured on the CNN step's convolutions (benchmarks/cnn_bench.cpp, docs/PERFORMANCE.md
/// "Convolution layouts"): blocked with their reorders they took 0.5x-0.9x the time of the plain (im2col + GEMM)
/// ones, except the backward-data pass of a convolution over fewer than 16 channels (5x slower blocked).
bool use_blocked_layout(OpKind op, const ir::Window2d& window) {
  if (!ir::is_convolution(op)) return false;
  return op != OpKind::conv2d_backward_data || window.in_channels >= 16;
}

class OneDnnWindow final : public WindowPrimitive {
 public:
  OneDnnWindow(const ir::Node& node, const ir::Window2d& window, const Epilogue& epilogue, Layout layout)
      : engine_(dnnl::engine::kind::cpu, 0) {
    bool blocked = layout == Layout::chosen && use_blocked_layout(node.op, window);
    Geometry g(window, epilogue.bias, blocked), plain(window, epilogue.bias, false);
    constexpr auto avg = dnnl::algorithm::pooling_avg_exclude_padding;
    dnnl::primitive_attr attr = primitive_attributes();
    switch (node.op) {
      case OpKind::conv2d: {
        auto pd = g.forward_conv(engine_, dnnl::prop_kind::forward_inference, primitive_attributes(epilogue));
        std::vector<Arg> args{input(DNNL_ARG_SRC, kIn0, plain.x, pd.src_desc()), input(DNNL_ARG_WEIGHTS, kIn1, plain.w, pd.weights_desc()),
                              output(DNNL_ARG_DST, plain.y, pd.dst_desc())};
        if (epilogue.bias) args.push_back({DNNL_ARG_BIAS, g.bias, {kBias}});
        finish(dnnl::convolution_forward(pd), pd, args);
        break;
      }
      case OpKind::conv2d_backward_data: {  // (dy, w) -> dx
        auto pd = g.backward_conv<dnnl::convolution_backward_data>(engine_, attr);
        finish(dnnl::convolution_backward_data(pd), pd,
               {input(DNNL_ARG_DIFF_DST, kIn0, plain.y, pd.diff_dst_desc()), input(DNNL_ARG_WEIGHTS, kIn1, plain.w, pd.weights_desc()),
                output(DNNL_ARG_DIFF_SRC, plain.x, pd.diff_src_desc())});
        break;
      }
      case OpKind::conv2d_backward_weights: {  // (x, dy) -> dw
        auto pd = g.backward_conv<dnnl::convolution_backward_weights>(engine_, attr);
        finish(dnnl::convolution_backward_weights(pd), pd,
               {input(DNNL_ARG_SRC, kIn0, plain.x, pd.src_desc()), input(DNNL_ARG_DIFF_DST, kIn1, plain.y, pd.diff_dst_desc()),
                output(DNNL_ARG_DIFF_WEIGHTS, plain.w, pd.diff_weights_desc())});
        break;
      }
      case OpKind::max_pool2d:
      case OpKind::avg_pool2d: {
        auto pd = g.forward_pool(engine_, dnnl::prop_kind::forward_inference, node.op == OpKind::max_pool2d ? dnnl::algorithm::pooling_max : avg);
        finish(dnnl::pooling_forward(pd), pd, {input(DNNL_ARG_SRC, kIn0, plain.x, pd.src_desc()), output(DNNL_ARG_DST, plain.y, pd.dst_desc())});
        break;
      }
      case OpKind::avg_pool2d_backward: {  // dy -> dx
        dnnl::pooling_backward::primitive_desc pd({avg, g.x, g.y, g.strides, g.kernel, g.pad_low, g.pad_high}, attr, engine_,
                                                  g.forward_pool(engine_, dnnl::prop_kind::forward_training, avg));
        finish(dnnl::pooling_backward(pd), pd,
               {input(DNNL_ARG_DIFF_DST, kIn0, plain.y, pd.diff_dst_desc()), output(DNNL_ARG_DIFF_SRC, plain.x, pd.diff_src_desc())});
        break;
      }
      default: raise(node.loc, "onednn: {} is not one of its window primitives", ir::op_name(node.op));
    }
  }

  std::size_t workspace_bytes() const override { return workspace_; }
  const std::string& layouts() const override { return layouts_; }

  void run(const void* in0, const void* in1, const void* bias, void* out, void* workspace) const override {
    const void* buffers[kCallerBuffers] = {in0, in1, bias, out};
    const void* resolved[4];
    for (const Exec& exec : execs_) {
      for (std::size_t k = 0; k < exec.places.size(); ++k) {
        const Place& p = exec.places[k];
        resolved[k] = p.buffer >= 0 ? buffers[p.buffer] : static_cast<const char*>(workspace) + p.offset;
      }
      exec.primitive.run(resolved, "window primitive execution");
    }
  }

 private:
  /// The caller's buffers, by position in run().
  enum : int { kIn0, kIn1, kBias, kOut, kCallerBuffers };
  /// Where an argument's bytes are: one of the caller's buffers, or a region of the workspace.
  struct Place {
    int buffer = -1;  ///< kIn0...kOut, or -1: the workspace at `offset`
    std::size_t offset = 0;
  };
  struct Arg {
    int kind;  ///< DNNL_ARG_SRC, ...
    desc layout;
    Place place;
  };
  struct Exec {
    BoundPrimitive primitive;
    std::vector<Place> places;  ///< one per argument, in its order
  };

  Place allocate(const desc& layout) {
    constexpr std::size_t kAlignment = 64;
    Place p{-1, workspace_};
    workspace_ += (layout.get_size() + kAlignment - 1) / kAlignment * kAlignment;
    return p;
  }
  Exec reorder(const desc& from, Place from_place, const desc& to, Place to_place) {
    dnnl::reorder::primitive_desc pd(engine_, from, engine_, to, primitive_attributes());
    return {BoundPrimitive(engine_, dnnl::reorder(pd), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}}, pd.scratchpad_desc()),
            {from_place, to_place}};
  }
  /// An operand the primitive reads in layout `chosen`, held by the caller in `plain`: reordered first if they differ.
  Arg input(int kind, int buffer, const desc& plain, const desc& chosen) {
    if (chosen == plain) return {kind, plain, {buffer}};
    Place staged = allocate(chosen);
    before_.push_back(reorder(plain, {buffer}, chosen, staged));
    return {kind, chosen, staged};
  }
  /// The result, written in layout `chosen` and reordered into the caller's plain buffer if they differ.
  Arg output(int kind, const desc& plain, const desc& chosen) {
    if (chosen == plain) return {kind, plain, {kOut}};
    Place staged = allocate(chosen);
    after_.push_back(reorder(chosen, staged, plain, {kOut}));
    return {kind, chosen, staged};
  }
  void finish(dnnl::primitive primitive, const dnnl::primitive_desc_base& pd, const std::vector<Arg>& args) {
    std::vector<std::pair<int, desc>> kinds;
    std::vector<Place> places;
    layouts_ = pd.impl_info_str();
    for (const Arg& a : args) {
      kinds.push_back({a.kind, a.layout});
      places.push_back(a.place);
      layouts_ += fmt::format(", {} {}{}", argument_name(a.kind), format_of(a.layout), a.place.buffer < 0 ? " (reordered)" : "");
    }
    execs_ = std::move(before_);
    execs_.push_back({BoundPrimitive(engine_, std::move(primitive), kinds, pd.scratchpad_desc()), places});
    for (Exec& e : after_) execs_.push_back(std::move(e));
  }

  static const char* argument_name(int kind) {
    switch (kind) {
      case DNNL_ARG_SRC: return "src";
      case DNNL_ARG_WEIGHTS: return "weights";
      case DNNL_ARG_BIAS: return "bias";
      case DNNL_ARG_DST: return "dst";
      case DNNL_ARG_DIFF_SRC: return "diff_src";
      case DNNL_ARG_DIFF_DST: return "diff_dst";
      case DNNL_ARG_DIFF_WEIGHTS: return "diff_weights";
      default: return "arg";
    }
  }
  /// A plain or blocked layout in oneDNN's notation: the dimensions (a, b, ...) from the largest stride to the
  /// smallest, a blocked one in capitals, then its inner blocks (aBcd16b). Written here because oneDNN 2.6 has
  /// no public function that names a descriptor's layout.
  static std::string format_of(const desc& d) {
    const dnnl_memory_desc_t& md = d.data;
    const dnnl_blocking_desc_t& blocking = md.format_desc.blocking;
    std::vector<int> order(static_cast<std::size_t>(md.ndims));
    for (int k = 0; k < md.ndims; ++k) order[static_cast<std::size_t>(k)] = k;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return blocking.strides[a] > blocking.strides[b]; });
    std::string text;
    for (int dim : order) {
      bool blocked = false;
      for (int k = 0; k < blocking.inner_nblks; ++k) blocked = blocked || blocking.inner_idxs[k] == dim;
      text += static_cast<char>((blocked ? 'A' : 'a') + dim);
    }
    for (int k = 0; k < blocking.inner_nblks; ++k)
      text += fmt::format("{}{}", blocking.inner_blks[k], static_cast<char>('a' + blocking.inner_idxs[k]));
    return text;
  }

  dnnl::engine engine_;
  std::string layouts_;
  std::vector<Exec> execs_, before_, after_;  ///< execs_: the reorders in, the primitive, the reorder out
  std::size_t workspace_ = 0;
};

}  // namespace

bool WindowPrimitive::supports(ir::OpKind op, const ir::Window2d& window) {
  bool empty = window.batch == 0 || window.in_channels == 0 || window.out_channels == 0;
  for (const ir::WindowAxis& a : window.axis) empty = empty || a.input == 0 || a.output == 0;
  return op != OpKind::max_pool2d_backward && !empty;
}

std::unique_ptr<WindowPrimitive> WindowPrimitive::create(const ir::Node& node, const ir::Window2d& window, const Epilogue& epilogue,
                                                         Layout layout) {
  try {
    return std::make_unique<OneDnnWindow>(node, window, epilogue, layout);
  } catch (const dnnl::error& e) {
    raise(node.loc, "onednn: cannot create {} for a window of {} x {} with kernel {} x {}: {}", ir::op_name(node.op),
          window.axis[0].input, window.axis[1].input, window.axis[0].kernel, window.axis[1].kernel, e.what());
  }
}

}  // namespace loom::codegen::onednn
