#include "loom/runtime/data/batches.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include <fmt/format.h>

namespace loom::data {

namespace {

/// The rows `rows` of `set`, in that order.
LabelledImages gather(const LabelledImages& set, const std::vector<std::int64_t>& rows) {
  std::int64_t features = set.images.shape()[1];
  LabelledImages out{Array(set.images.dtype(), {static_cast<std::int64_t>(rows.size()), features}),
                     Array(set.labels.dtype(), {static_cast<std::int64_t>(rows.size())})};
  std::size_t row_bytes = static_cast<std::size_t>(features) * size_of(set.images.dtype());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(static_cast<char*>(out.images.raw()) + i * row_bytes,
                static_cast<const char*>(set.images.raw()) + static_cast<std::size_t>(rows[i]) * row_bytes, row_bytes);
    out.labels.set(static_cast<std::int64_t>(i), set.labels.get(rows[i]));
  }
  return out;
}

/// A permutation of [0, n) drawn from (seed, stream): std::mt19937_64 and std::shuffle give the same order for a
/// seed on every machine of this project (libstdc++).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed, std::uint64_t stream) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + stream);
  std::shuffle(order.begin(), order.end(), rng);
  return order;
}

}  // namespace

LabelledImages head(const LabelledImages& set, std::int64_t n) {
  std::int64_t total = set.images.shape()[0];
  if (n <= 0 || n > total) throw Error(fmt::format("data::head: {} examples of a set of {}", n, total));
  std::vector<std::int64_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  return gather(set, rows);
}

Split split(const LabelledImages& set, std::int64_t validation, std::uint64_t seed) {
  std::int64_t total = set.images.shape()[0];
  if (validation <= 0 || validation >= total)
    throw Error(fmt::format("data::split: a validation set of {} from {} examples leaves nothing to train on", validation, total));
  std::vector<std::int64_t> order = permutation(total, seed, 0xDA7A);
  std::vector<std::int64_t> held(order.begin(), order.begin() + validation), kept(order.begin() + validation, order.end());
  std::sort(held.begin(), held.end());
  std::sort(kept.begin(), kept.end());
  return {gather(set, kept), gather(set, held)};
}

Batches::Batches(const LabelledImages& set, std::int64_t batch_size, std::uint64_t seed, bool shuffle)
    : set_(set), batch_size_(batch_size), seed_(seed), shuffle_(shuffle) {
  if (batch_size <= 0) throw Error(fmt::format("data::Batches: batch size {}", batch_size));
  start(0);
}

void Batches::start(std::int64_t epoch, std::int64_t position) {
  std::int64_t n = set_.images.shape()[0];
  epoch_ = epoch;
  position_ = std::clamp<std::int64_t>(position, 0, n);
  if (shuffle_) {
    order_ = permutation(n, seed_, static_cast<std::uint64_t>(epoch));
  } else {
    order_.resize(static_cast<std::size_t>(n));
    std::iota(order_.begin(), order_.end(), 0);
  }
}

std::int64_t Batches::batches_per_epoch() const { return (set_.images.shape()[0] + batch_size_ - 1) / batch_size_; }

std::int64_t Batches::next(Array& x, Array& labels) {
  std::int64_t n = set_.images.shape()[0], features = set_.images.shape()[1];
  if (x.shape() != Shape{batch_size_, features} || x.dtype() != set_.images.dtype() || labels.shape() != Shape{batch_size_})
    throw Error(fmt::format("data::Batches: batch arrays {} and {} do not hold {} examples of {} features", x.type().str(),
                            labels.type().str(), batch_size_, features));
  if (position_ >= n) return 0;
  std::int64_t fresh = std::min(batch_size_, n - position_);
  std::size_t row_bytes = static_cast<std::size_t>(features) * size_of(x.dtype());
  for (std::int64_t i = 0; i < batch_size_; ++i) {
    // Past the end of the epoch's order, the batch is completed from its beginning.
    std::int64_t row = order_[static_cast<std::size_t>(i < fresh ? position_ + i : (i - fresh) % n)];
    std::memcpy(static_cast<char*>(x.raw()) + static_cast<std::size_t>(i) * row_bytes,
                static_cast<const char*>(set_.images.raw()) + static_cast<std::size_t>(row) * row_bytes, row_bytes);
    labels.set(i, set_.labels.get(row));
  }
  position_ += fresh;
  return fresh;
}

void augment(Array& batch, const Augmentation& a, std::uint64_t seed) {
  if (!a.any()) return;
  std::int64_t rows = batch.shape()[0], pixels = batch.shape()[1];
  auto side = static_cast<std::int64_t>(std::lround(std::sqrt(static_cast<double>(pixels))));
  if (side * side != pixels) throw Error(fmt::format("data::augment: rows of {} pixels are not square images", pixels));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, a.noise > 0 ? a.noise : 1.0);
  std::uniform_int_distribution<std::int64_t> shift(-a.max_shift, a.max_shift);
  std::vector<double> image(static_cast<std::size_t>(pixels));
  for (std::int64_t r = 0; r < rows; ++r) {
    bool flip = a.flip && (rng() & 1);
    std::int64_t dx = a.max_shift > 0 ? shift(rng) : 0, dy = a.max_shift > 0 ? shift(rng) : 0;
    for (std::int64_t i = 0; i < pixels; ++i) image[static_cast<std::size_t>(i)] = batch.get(r * pixels + i);
    for (std::int64_t y = 0; y < side; ++y)
      for (std::int64_t x = 0; x < side; ++x) {
        std::int64_t sx = (flip ? side - 1 - x : x) - dx, sy = y - dy;
        double v = sx >= 0 && sx < side && sy >= 0 && sy < side ? image[static_cast<std::size_t>(sy * side + sx)] : 0.0;
        if (a.noise > 0) v = std::clamp(v + normal(rng), 0.0, 1.0);
        batch.set(r * pixels + y * side + x, v);
      }
  }
}

}  // namespace loom::data
