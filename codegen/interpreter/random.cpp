#include "loom/codegen/interpreter/kernels.h"
#include "loom/ir/random_semantics.h"
#include "loom/ir/scalar_semantics.h"

namespace loom::codegen::interp {

Array random(const ir::Node& n, Operands in) {
  const TensorType& type = n.results[0];
  Array out(type.dtype, type.shape);
  auto seed = static_cast<std::uint64_t>(n.attrs.get_int("seed"));
  auto stream = static_cast<std::uint32_t>(n.attrs.get_int("stream"));
  auto step = static_cast<std::uint32_t>(static_cast<std::uint64_t>(in[0]->get(0)));
  ir::PlainWords words;
  ir::PlainMath<double> math;
  for (std::int64_t i = 0; i < out.size(); ++i) {
    auto element = static_cast<std::uint64_t>(i);
    out.set(i, ir::random_value(n.op, words, math, seed, stream, static_cast<std::uint32_t>(element),
                                static_cast<std::uint32_t>(element >> 32), step));
  }
  return out;
}

}  // namespace loom::codegen::interp
