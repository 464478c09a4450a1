#include "loom/runtime/array.h"

#include <cmath>
#include <new>

#include <fmt/format.h>

#include "loom/runtime/philox.h"

namespace loom {

namespace {
constexpr std::align_val_t kAlignment{64};

std::shared_ptr<std::byte[]> allocate(std::size_t bytes) {
  // Aligned for vector loads; at least one byte so empty arrays still have an address.
  auto* p = static_cast<std::byte*>(::operator new[](std::max<std::size_t>(bytes, 1), kAlignment));
  std::memset(p, 0, bytes);
  return std::shared_ptr<std::byte[]>(p, [](std::byte* q) { ::operator delete[](q, kAlignment); });
}

/// Philox draws for element i: block i/4 of the stream keyed by seed, word i%4.
std::uint32_t random_bits(std::uint64_t seed, std::uint64_t stream, std::int64_t i) {
  auto block = philox4x32({static_cast<std::uint32_t>(i / 4), static_cast<std::uint32_t>(static_cast<std::uint64_t>(i / 4) >> 32),
                           static_cast<std::uint32_t>(stream), 0},
                          {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
  return block[static_cast<std::size_t>(i % 4)];
}
}  // namespace

Array::Array(DType dtype, Shape shape) : type_{dtype, std::move(shape)} {
  if (auto why = unrepresentable(type_)) throw Error("Array: " + *why);
  try {
    storage_ = allocate(nbytes());
  } catch (const std::bad_alloc&) {
    throw Error(fmt::format("Array: cannot allocate {} bytes for {}", nbytes(), type_.str()));
  }
}

Array Array::zeros(Shape shape, DType dtype) { return Array(dtype, std::move(shape)); }

Array Array::full(Shape shape, double value, DType dtype) {
  Array a(dtype, std::move(shape));
  for (std::int64_t i = 0; i < a.size(); ++i) a.set(i, value);
  return a;
}

Array Array::randn(Shape shape, std::uint64_t seed, DType dtype) {
  Array a(dtype, std::move(shape));
  // Box-Muller over two independent Philox streams.
  for (std::int64_t i = 0; i < a.size(); ++i) {
    double u1 = uniform_from_bits(random_bits(seed, 0, i)), u2 = uniform_from_bits(random_bits(seed, 1, i));
    a.set(i, std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  }
  return a;
}

Array Array::uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype) {
  Array a(dtype, std::move(shape));
  for (std::int64_t i = 0; i < a.size(); ++i)
    a.set(i, low + (high - low) * (uniform_from_bits(random_bits(seed, 2, i)) - 0x1p-32));
  return a;
}

void Array::check_dtype(DType expected) const {
  if (expected != type_.dtype)
    throw Error("Array::data: array is " + type_.str() + ", requested " + std::string(to_string(expected)));
}

double Array::get(std::int64_t i) const {
  const std::byte* p = storage_.get();
  switch (type_.dtype) {
    case DType::f32: return reinterpret_cast<const float*>(p)[i];
    case DType::f64: return reinterpret_cast<const double*>(p)[i];
    case DType::i32: return reinterpret_cast<const std::int32_t*>(p)[i];
    case DType::i64: return static_cast<double>(reinterpret_cast<const std::int64_t*>(p)[i]);
    case DType::b8: return reinterpret_cast<const std::uint8_t*>(p)[i] != 0 ? 1.0 : 0.0;
  }
  return 0.0;
}

void Array::set(std::int64_t i, double value) {
  std::byte* p = storage_.get();
  switch (type_.dtype) {
    case DType::f32: reinterpret_cast<float*>(p)[i] = static_cast<float>(value); break;
    case DType::f64: reinterpret_cast<double*>(p)[i] = value; break;
    case DType::i32: reinterpret_cast<std::int32_t*>(p)[i] = static_cast<std::int32_t>(value); break;
    case DType::i64: reinterpret_cast<std::int64_t*>(p)[i] = static_cast<std::int64_t>(value); break;
    case DType::b8: reinterpret_cast<std::uint8_t*>(p)[i] = value != 0.0 ? 1 : 0; break;
  }
}

Array Array::copy() const {
  Array out(type_.dtype, type_.shape);
  std::memcpy(out.raw(), raw(), nbytes());
  return out;
}

Array Array::reshaped(Shape shape) const {
  if (num_elements(shape) != size())
    throw Error("Array::reshaped: cannot view " + type_.str() + " as " + to_string(shape));
  Array out = *this;
  out.type_.shape = std::move(shape);
  return out;
}

Array Array::astype(DType dtype) const {
  if (dtype == type_.dtype) return copy();
  Array out(dtype, type_.shape);
  for (std::int64_t i = 0; i < size(); ++i) out.set(i, get(i));
  return out;
}

}  // namespace loom
