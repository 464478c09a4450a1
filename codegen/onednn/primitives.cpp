#include "loom/codegen/onednn/primitives.h"

#include <string>

#include "loom/ir/error.h"

namespace loom::codegen::onednn {

namespace {

dnnl::algorithm eltwise_algorithm(ir::OpKind activation) {
  switch (activation) {
    case ir::OpKind::relu:
    case ir::OpKind::leaky_relu: return dnnl::algorithm::eltwise_relu;  // alpha is the negative slope
    case ir::OpKind::tanh: return dnnl::algorithm::eltwise_tanh;
    case ir::OpKind::sigmoid: return dnnl::algorithm::eltwise_logistic;
    case ir::OpKind::elu: return dnnl::algorithm::eltwise_elu;
    default: throw Error(std::string("onednn: no post-op for ") + std::string(ir::op_name(activation)));
  }
}

}  // namespace

dnnl::primitive_attr primitive_attributes(const Epilogue& epilogue) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (epilogue.activation != ir::OpKind::stop_gradient) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, eltwise_algorithm(epilogue.activation), static_cast<float>(epilogue.alpha), 0.0f);
    attr.set_post_ops(ops);
  }
  return attr;
}

BoundPrimitive::BoundPrimitive(const dnnl::engine& engine, dnnl::primitive primitive,
                               const std::vector<std::pair<int, dnnl::memory::desc>>& args,
                               const dnnl::memory::desc& scratchpad)
    : engine_(engine), primitive_(std::move(primitive)), stream_(engine_) {
  for (const auto& [kind, desc] : args) {
    memories_.push_back(dnnl::memory(desc, engine_, DNNL_MEMORY_NONE));
    args_.push_back({kind, memories_.back().get()});
  }
  if (scratchpad.get_size() > 0) {
    scratchpad_ = dnnl::memory(scratchpad, engine_);  // allocated by oneDNN, freed with the memory
    args_.push_back({DNNL_ARG_SCRATCHPAD, scratchpad_.get()});
  }
}

void BoundPrimitive::run(const void* const* buffers, const char* what) const {
  for (std::size_t k = 0; k < memories_.size(); ++k) memories_[k].set_data_handle(const_cast<void*>(buffers[k]));
  dnnl::error::wrap_c_api(dnnl_primitive_execute(primitive_.get(), stream_.get(), static_cast<int>(args_.size()), args_.data()), what);
  dnnl::error::wrap_c_api(dnnl_stream_wait(stream_.get()), "stream wait");
}

}  // namespace loom::codegen::onednn
