#include "loom/codegen/onednn/window.h"

#include "loom/codegen/onednn/primitives.h"

namespace loom::codegen::onednn {

namespace {

using dims = dnnl::memory::dims;
using tag = dnnl::memory::format_tag;
using ir::OpKind;

dnnl::memory::desc plain(dims shape, tag format) { return {shape, dnnl::memory::data_type::f32, format}; }

/// The window's shapes and geometry in oneDNN's terms (its dilation counts the gaps: 0 is dense).
struct Geometry {
  dnnl::memory::desc x, y, w, bias;
  dims strides, dilation, pad_low, pad_high, kernel;

  explicit Geometry(const ir::Window2d& win, bool with_bias) {
    const ir::WindowAxis &h = win.axis[0], &wd = win.axis[1];
    x = plain({win.batch, win.in_channels, h.input, wd.input}, tag::nchw);
    y = plain({win.batch, win.out_channels, h.output, wd.output}, tag::nchw);
    w = plain({win.out_channels, win.in_channels, h.kernel, wd.kernel}, tag::oihw);
    if (with_bias) bias = plain({win.out_channels}, tag::x);
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
  dnnl::pooling_forward::primitive_desc forward_pool(const dnnl::engine& engine, dnnl::algorithm algorithm) const {
    return {{dnnl::prop_kind::forward_training, algorithm, x, y, strides, kernel, pad_low, pad_high}, primitive_attributes(), engine};
  }
};

class OneDnnWindow final : public WindowPrimitive {
 public:
  OneDnnWindow(const ir::Node& node, const ir::Window2d& window, const Epilogue& epilogue) {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    Geometry g(window, epilogue.bias);
    constexpr auto avg = dnnl::algorithm::pooling_avg_exclude_padding;
    auto bind = [&](dnnl::primitive p, const dnnl::primitive_desc_base& pd, std::vector<std::pair<int, dnnl::memory::desc>> args) {
      primitive_ = BoundPrimitive(engine, std::move(p), args, pd.scratchpad_desc());
    };
    dnnl::primitive_attr attr = primitive_attributes();
    switch (node.op) {
      case OpKind::conv2d: {
        auto pd = g.forward_conv(engine, dnnl::prop_kind::forward_inference, primitive_attributes(epilogue));
        std::vector<std::pair<int, dnnl::memory::desc>> args{{DNNL_ARG_SRC, g.x}, {DNNL_ARG_WEIGHTS, g.w}, {DNNL_ARG_DST, g.y}};
        if (epilogue.bias) args.push_back({DNNL_ARG_BIAS, g.bias});
        bind(dnnl::convolution_forward(pd), pd, args);
        break;
      }
      case OpKind::conv2d_backward_data: {  // (dy, w) -> dx
        dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, g.x, g.w, g.y, g.strides, g.dilation,
                                                g.pad_low, g.pad_high);
        dnnl::convolution_backward_data::primitive_desc pd(d, attr, engine, g.forward_conv(engine, dnnl::prop_kind::forward_training));
        bind(dnnl::convolution_backward_data(pd), pd, {{DNNL_ARG_DIFF_DST, g.y}, {DNNL_ARG_WEIGHTS, g.w}, {DNNL_ARG_DIFF_SRC, g.x}});
        break;
      }
      case OpKind::conv2d_backward_weights: {  // (x, dy) -> dw
        dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, g.x, g.w, g.y, g.strides, g.dilation,
                                                   g.pad_low, g.pad_high);
        dnnl::convolution_backward_weights::primitive_desc pd(d, attr, engine, g.forward_conv(engine, dnnl::prop_kind::forward_training));
        bind(dnnl::convolution_backward_weights(pd), pd, {{DNNL_ARG_SRC, g.x}, {DNNL_ARG_DIFF_DST, g.y}, {DNNL_ARG_DIFF_WEIGHTS, g.w}});
        break;
      }
      case OpKind::max_pool2d:
      case OpKind::avg_pool2d: {
        auto algorithm = node.op == OpKind::max_pool2d ? dnnl::algorithm::pooling_max : avg;
        dnnl::pooling_forward::primitive_desc pd(
            {dnnl::prop_kind::forward_inference, algorithm, g.x, g.y, g.strides, g.kernel, g.pad_low, g.pad_high}, attr, engine);
        bind(dnnl::pooling_forward(pd), pd, {{DNNL_ARG_SRC, g.x}, {DNNL_ARG_DST, g.y}});
        break;
      }
      case OpKind::avg_pool2d_backward: {  // dy -> dx
        dnnl::pooling_backward::primitive_desc pd({avg, g.x, g.y, g.strides, g.kernel, g.pad_low, g.pad_high}, attr, engine,
                                                  g.forward_pool(engine, avg));
        bind(dnnl::pooling_backward(pd), pd, {{DNNL_ARG_DIFF_DST, g.y}, {DNNL_ARG_DIFF_SRC, g.x}});
        break;
      }
      default: raise(node.loc, "onednn: {} is not one of its window primitives", ir::op_name(node.op));
    }
    two_operands_ = node.operands.size() == 2;
  }

  void run(const void* in0, const void* in1, const void* bias, void* out) const override {
    const void* buffers[4] = {in0, in1, out, bias};
    if (!two_operands_) buffers[1] = out;  // one operand: (x, out)
    primitive_.run(buffers, "window primitive execution");
  }

 private:
  BoundPrimitive primitive_;
  bool two_operands_ = true;
};

}  // namespace

bool WindowPrimitive::supports(ir::OpKind op, const ir::Window2d& window) {
  bool empty = window.batch == 0 || window.in_channels == 0 || window.out_channels == 0;
  for (const ir::WindowAxis& a : window.axis) empty = empty || a.input == 0 || a.output == 0;
  return op != OpKind::max_pool2d_backward && !empty;
}

std::unique_ptr<WindowPrimitive> WindowPrimitive::create(const ir::Node& node, const ir::Window2d& window, const Epilogue& epilogue) {
  try {
    return std::make_unique<OneDnnWindow>(node, window, epilogue);
  } catch (const dnnl::error& e) {
    raise(node.loc, "onednn: cannot create {} for a window of {} x {} with kernel {} x {}: {}", ir::op_name(node.op),
          window.axis[0].input, window.axis[1].input, window.axis[0].kernel, window.axis[1].kernel, e.what());
  }
}

}  // namespace loom::codegen::onednn
