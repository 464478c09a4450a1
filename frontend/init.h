#pragma once
/// Initial values for weights (DESIGN §3 `init::`): seeded and deterministic (the same seed gives the same array
/// on every machine: Philox, as Array::uniform and Array::randn), with the variance each method is named for.
/// Formulas and papers in docs/OPTIMIZERS.md.

#include <cstdint>

#include "loom/runtime/array.h"

namespace loom::init {

/// How many inputs feed one output of a weight (fan_in) and how many outputs one input feeds (fan_out):
///   dense [in, out] (y = x·W):          in, out
///   convolution OIHW [out, in, kh, kw]: in·kh·kw, out·kh·kw
///   a vector [n] (a bias):              n, n
///   a scalar:                           1, 1
/// Other ranks count the last two dimensions as a dense weight's and the leading ones as a receptive field.
struct Fans {
  double in = 1, out = 1;
};
Fans fans(const Shape& shape);

Array zeros(Shape shape, DType dtype = DType::f32);
Array constant(Shape shape, double value, DType dtype = DType::f32);
/// Uniform in [low, high).
Array uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype = DType::f32);
/// Normal with the given mean and standard deviation.
Array normal(Shape shape, double mean, double stddev, std::uint64_t seed, DType dtype = DType::f32);

/// Glorot & Bengio (2010): variance 2/(fan_in + fan_out). Uniform in ±√(6/(fan_in + fan_out)), or normal.
Array glorot_uniform(Shape shape, std::uint64_t seed, DType dtype = DType::f32);
Array glorot_normal(Shape shape, std::uint64_t seed, DType dtype = DType::f32);
/// He et al. (2015), for ReLU layers: variance 2/fan_in. Uniform in ±√(6/fan_in), or normal.
Array he_uniform(Shape shape, std::uint64_t seed, DType dtype = DType::f32);
Array he_normal(Shape shape, std::uint64_t seed, DType dtype = DType::f32);
/// LeCun et al. (1998): variance 1/fan_in, uniform in ±√(3/fan_in).
Array lecun_uniform(Shape shape, std::uint64_t seed, DType dtype = DType::f32);

}  // namespace loom::init
