#pragma once
/// Minibatches: a seeded order per epoch, batches copied into the caller's preallocated arrays (then passed to
/// Function::call_into, so feeding a step allocates nothing), and the host-side augmentations of the course.

#include <cstdint>
#include <vector>

#include "loom/runtime/data/fashion_mnist.h"

namespace loom::data {

/// The first `n` examples of a set (a smaller training set, to watch a model over-fit).
LabelledImages head(const LabelledImages& set, std::int64_t n);

/// A seeded split: `validation` examples drawn at random become the validation set, the rest the training set.
struct Split {
  LabelledImages train, validation;
};
Split split(const LabelledImages& set, std::int64_t validation, std::uint64_t seed);

/// Minibatches of a fixed size over a set, in an order drawn from (seed, epoch). Every example is seen in every
/// epoch: when the examples do not fill the last batch, it is completed with the first examples of the epoch's order
/// (and `next` says how many of the batch are new, so evaluation counts each example once).
class Batches {
 public:
  Batches(const LabelledImages& set, std::int64_t batch_size, std::uint64_t seed, bool shuffle = true);

  /// Starts `epoch` at `position` examples into its order (0 for a new epoch; a checkpoint's position to resume).
  void start(std::int64_t epoch, std::int64_t position = 0);
  /// Copies the next batch into x [batch, features] and labels [batch]; returns how many of its examples are new
  /// (the batch size, fewer in the last batch), 0 when the epoch is over.
  std::int64_t next(Array& x, Array& labels);

  std::int64_t epoch() const { return epoch_; }
  std::int64_t position() const { return position_; }
  std::int64_t batches_per_epoch() const;
  std::int64_t batch_size() const { return batch_size_; }
  const LabelledImages& set() const { return set_; }

 private:
  LabelledImages set_;
  std::int64_t batch_size_;
  std::uint64_t seed_;
  bool shuffle_;
  std::int64_t epoch_ = 0, position_ = 0;
  std::vector<std::int64_t> order_;
};

/// The augmentations of the course, applied in place to a batch of square grey images [batch, side·side] in
/// [0, 1], drawn from `seed`: Gaussian pixel noise (standard deviation `noise`, clipped back to [0, 1]), a
/// horizontal flip of half the images, shifts of up to `max_shift` pixels in each direction (zeros come in).
struct Augmentation {
  double noise = 0.0;
  bool flip = false;
  std::int64_t max_shift = 0;
  bool any() const { return noise > 0 || flip || max_shift > 0; }
};
void augment(Array& batch, const Augmentation& augmentation, std::uint64_t seed);

}  // namespace loom::data
