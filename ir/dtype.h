#pragma once
/// Element types and static shapes: the vocabulary every layer of loom shares.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom {

/// The element types of loom tensors. b8 holds booleans as one byte (0 or 1).
enum class DType : std::uint8_t { f32, f64, i32, i64, b8 };

std::string_view to_string(DType dtype);
std::optional<DType> parse_dtype(std::string_view text);
std::size_t size_of(DType dtype);
bool is_float(DType dtype);
bool is_integer(DType dtype);

/// A static shape; an empty shape is a scalar.
using Shape = std::vector<std::int64_t>;

/// The product of the dimensions; INT64_MAX when it does not fit (so an oversized shape never equals a real size
/// and `unrepresentable` reports it).
std::int64_t num_elements(const Shape& shape);
/// "[2,1000]"; "[]" for scalars.
std::string to_string(const Shape& shape);

/// Row-major strides (in elements) of a shape.
std::vector<std::int64_t> row_major_strides(const Shape& shape);

/// The dtype and shape of one IR value.
struct TensorType {
  DType dtype = DType::f32;
  Shape shape;

  std::int64_t rank() const { return static_cast<std::int64_t>(shape.size()); }
  std::int64_t size() const { return num_elements(shape); }
  /// "f32[2,1000]"
  std::string str() const;
  bool operator==(const TensorType&) const = default;
};

/// The most bytes one value may hold (2^60): byte sizes and offsets of a few values then stay within 64 bits,
/// and nothing larger could be allocated anyway.
inline constexpr std::int64_t kMaxValueBytes = std::int64_t{1} << 60;

/// Why no value can have `type` (a negative dimension, or more than kMaxValueBytes bytes), or nullopt when one can.
std::optional<std::string> unrepresentable(const TensorType& type);

/// a + b and a · b, or nullopt when the result does not fit in 64 bits.
std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b);
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b);

}  // namespace loom
