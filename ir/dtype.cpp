#include "loom/ir/dtype.h"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace loom {

namespace {
struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::f32, "f32", 4}, {DType::f64, "f64", 8}, {DType::i32, "i32", 4},
    {DType::i64, "i64", 8}, {DType::b8, "b8", 1},
};
}  // namespace

std::string_view to_string(DType dtype) { return kDTypes[static_cast<int>(dtype)].name; }

std::optional<DType> parse_dtype(std::string_view text) {
  for (const auto& info : kDTypes)
    if (info.name == text) return info.dtype;
  return std::nullopt;
}

std::size_t size_of(DType dtype) { return kDTypes[static_cast<int>(dtype)].size; }
bool is_float(DType dtype) { return dtype == DType::f32 || dtype == DType::f64; }
bool is_integer(DType dtype) { return dtype == DType::i32 || dtype == DType::i64; }

std::int64_t num_elements(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<std::int64_t>::max();
  return n;
}

std::optional<std::string> unrepresentable(const TensorType& type) {
  for (std::int64_t d : type.shape)
    if (d < 0) return fmt::format("{} has a negative dimension", type.str());
  std::int64_t bytes = static_cast<std::int64_t>(size_of(type.dtype));
  for (std::int64_t d : type.shape)
    if (__builtin_mul_overflow(bytes, d, &bytes) || bytes > kMaxValueBytes)
      return fmt::format("{} would take more than 2^60 bytes", type.str());
  return std::nullopt;
}

std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::string to_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

std::vector<std::int64_t> row_major_strides(const Shape& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::string TensorType::str() const { return fmt::format("{}{}", to_string(dtype), to_string(shape)); }

}  // namespace loom
