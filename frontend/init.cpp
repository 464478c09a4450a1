#include "loom/frontend/init.h"

#include <cmath>

namespace loom::init {

Fans fans(const Shape& shape) {
  if (shape.empty()) return {};
  if (shape.size() == 1) return {static_cast<double>(shape[0]), static_cast<double>(shape[0])};
  if (shape.size() == 2) return {static_cast<double>(shape[0]), static_cast<double>(shape[1])};
  // OIHW: the leading two dimensions are out and in, the rest the receptive field.
  double field = 1;
  for (std::size_t d = 2; d < shape.size(); ++d) field *= static_cast<double>(shape[d]);
  return {static_cast<double>(shape[1]) * field, static_cast<double>(shape[0]) * field};
}

Array zeros(Shape shape, DType dtype) { return Array::zeros(std::move(shape), dtype); }

Array constant(Shape shape, double value, DType dtype) { return Array::full(std::move(shape), value, dtype); }

Array uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype) {
  return Array::uniform(std::move(shape), low, high, seed, dtype);
}

Array normal(Shape shape, double mean, double stddev, std::uint64_t seed, DType dtype) {
  Array standard = Array::randn(shape, seed, DType::f64);
  Array out(dtype, std::move(shape));
  for (std::int64_t i = 0; i < out.size(); ++i) out.set(i, mean + stddev * standard.get(i));
  return out;
}

namespace {

Array symmetric_uniform(Shape shape, double limit, std::uint64_t seed, DType dtype) {
  return uniform(std::move(shape), -limit, limit, seed, dtype);
}

}  // namespace

Array glorot_uniform(Shape shape, std::uint64_t seed, DType dtype) {
  Fans f = fans(shape);
  return symmetric_uniform(std::move(shape), std::sqrt(6.0 / (f.in + f.out)), seed, dtype);
}

Array glorot_normal(Shape shape, std::uint64_t seed, DType dtype) {
  Fans f = fans(shape);
  return normal(std::move(shape), 0.0, std::sqrt(2.0 / (f.in + f.out)), seed, dtype);
}

Array he_uniform(Shape shape, std::uint64_t seed, DType dtype) {
  Fans f = fans(shape);
  return symmetric_uniform(std::move(shape), std::sqrt(6.0 / f.in), seed, dtype);
}

Array he_normal(Shape shape, std::uint64_t seed, DType dtype) {
  Fans f = fans(shape);
  return normal(std::move(shape), 0.0, std::sqrt(2.0 / f.in), seed, dtype);
}

Array lecun_uniform(Shape shape, std::uint64_t seed, DType dtype) {
  Fans f = fans(shape);
  return symmetric_uniform(std::move(shape), std::sqrt(3.0 / f.in), seed, dtype);
}

}  // namespace loom::init
