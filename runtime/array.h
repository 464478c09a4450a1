#pragma once
/// Array: a dense, row-major, 64-byte aligned tensor value in host memory. What users pass in and get back.
/// Copies share storage (like a NumPy view of the whole array); `copy()` makes an independent one.

#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include "loom/ir/dtype.h"
#include "loom/ir/error.h"

namespace loom {

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>) return DType::f32;
  else if constexpr (std::is_same_v<T, double>) return DType::f64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return DType::i32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return DType::i64;
  else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::uint8_t>) return DType::b8;
  else static_assert(sizeof(T) == 0, "no loom dtype for this C++ type");
}

class Array {
 public:
  /// An empty f32 scalar-less array (size 0); use the factories below.
  Array() : Array(DType::f32, Shape{0}) {}
  /// Zero-filled.
  Array(DType dtype, Shape shape);

  static Array zeros(Shape shape, DType dtype = DType::f32);
  static Array full(Shape shape, double value, DType dtype = DType::f32);
  static Array scalar(float value) { return full({}, value, DType::f32); }
  static Array scalar(double value) { return full({}, value, DType::f64); }
  static Array scalar(std::int32_t value) { return full({}, value, DType::i32); }
  static Array scalar(std::int64_t value) { return full({}, static_cast<double>(value), DType::i64); }
  /// Standard normal samples from Philox keyed by `seed`: the same seed gives the same array everywhere.
  static Array randn(Shape shape, std::uint64_t seed, DType dtype = DType::f32);
  /// Uniform samples in [low, high).
  static Array uniform(Shape shape, double low, double high, std::uint64_t seed, DType dtype = DType::f32);
  template <class T>
  static Array from(const std::vector<T>& values, Shape shape);
  template <class T>
  static Array from(const std::vector<T>& values) { return from(values, Shape{static_cast<std::int64_t>(values.size())}); }

  const Shape& shape() const { return type_.shape; }
  DType dtype() const { return type_.dtype; }
  const TensorType& type() const { return type_; }
  std::int64_t size() const { return num_elements(type_.shape); }
  std::int64_t rank() const { return type_.rank(); }
  std::size_t nbytes() const { return static_cast<std::size_t>(size()) * size_of(type_.dtype); }

  void* raw() { return storage_.get(); }
  const void* raw() const { return storage_.get(); }
  /// Typed access; throws Error if T is not the array's dtype.
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  /// Element i (row-major) converted to double, whatever the dtype.
  double get(std::int64_t i) const;
  /// Sets element i from a double, converting to the dtype.
  void set(std::int64_t i, double value);
  /// The single element of a size-1 array, converted to T.
  template <class T>
  T item() const;
  /// All elements converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  /// An independent copy.
  Array copy() const;
  /// The same data with another shape of equal size (shares storage).
  Array reshaped(Shape shape) const;
  /// Converted to another dtype (a new array).
  Array astype(DType dtype) const;

 private:
  void check_dtype(DType expected) const;

  TensorType type_;
  std::shared_ptr<std::byte[]> storage_;
};

template <class T>
Array Array::from(const std::vector<T>& values, Shape shape) {
  if (static_cast<std::int64_t>(values.size()) != num_elements(shape))
    throw Error("Array::from: " + std::to_string(values.size()) + " values do not fill shape " + to_string(shape));
  Array a(dtype_of<T>(), std::move(shape));
  if constexpr (std::is_same_v<T, bool>) {
    for (std::size_t i = 0; i < values.size(); ++i) a.set(static_cast<std::int64_t>(i), values[i] ? 1.0 : 0.0);
  } else {
    if (a.nbytes() > 0) std::memcpy(a.raw(), values.data(), a.nbytes());  // data() may be null when empty
  }
  return a;
}

template <class T>
T* Array::data() {
  check_dtype(dtype_of<T>());
  return reinterpret_cast<T*>(storage_.get());
}

template <class T>
const T* Array::data() const {
  check_dtype(dtype_of<T>());
  return reinterpret_cast<const T*>(storage_.get());
}

template <class T>
T Array::item() const {
  if (size() != 1) throw Error("Array::item: array " + type_.str() + " has " + std::to_string(size()) + " elements, not 1");
  return static_cast<T>(get(0));
}

template <class T>
std::vector<T> Array::to_vector() const {
  std::vector<T> out(static_cast<std::size_t>(size()));
  for (std::int64_t i = 0; i < size(); ++i) out[static_cast<std::size_t>(i)] = static_cast<T>(get(i));
  return out;
}

}  // namespace loom
