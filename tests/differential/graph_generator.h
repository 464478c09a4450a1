#pragma once
/// Random training steps for differential testing: elementwise chains, broadcasts of every kind ([M,K] with [1,K],
/// [M,1], [K] and scalars), reductions (sum, mean, max, min, logsumexp; kept, dropped or broadcast back),
/// softmax and log_softmax over either axis (rows of length 1 included), layout ops, matmuls, convolutions and
/// pools (the M×K value as an image, "same"-padded), a softmax
/// cross-entropy on integer labels, dropout (its mask recomputed in the backward kernels), several intermediate values returned beside the cost (multi-output kernels),
/// the gradient of every input and of a shared weight, and state updates (in-place candidates).
///
/// The same seed builds the same graph in any dtype, so an f32 graph can be judged against its f64 twin.

#include <loom/loom.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace loom::testing {

struct GeneratedStep {
  std::vector<Tensor> inputs;
  /// The cost, the last value, a few intermediates, then the gradient of every input and of the weight.
  std::vector<Tensor> outputs;
  Updates updates;
  /// What each output is ("cost", "d/da", ...), for failure messages.
  std::vector<std::string> output_names;
  /// The shared variables the updates write, with their initial values (set before every run).
  std::vector<std::pair<Tensor, Array>> shared;
  /// "M×K, 11 ops: softmax, sum, ..." for failure messages.
  std::string summary;
};

class GraphGenerator {
 public:
  GraphGenerator(std::uint64_t seed, DType dtype) : rng_(seed), dropout_rng_(seed ^ 0x9E3779B97F4A7C15ull), dtype_(dtype), seed_(seed) {}

  /// Records one training step into `g`.
  GeneratedStep build(Graph& g);

  /// Input values for a built step: floats uniform in [-2, 2] (f32-representable, so an f64 twin gets exactly the
  /// same numbers), labels in [0, K).
  static std::vector<Array> arguments(const GeneratedStep& step, std::uint64_t seed, DType dtype);

 private:
  Tensor step();
  Tensor reduction(const Tensor& x);
  Tensor row_op(const Tensor& x);
  Tensor layout(const Tensor& x);
  Tensor product(const Tensor& x);
  Tensor window(const Tensor& x);
  Tensor partner(const Tensor& x);
  Tensor any();
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  float scalar() { return static_cast<float>(uniform(1, 9)) * 0.1f; }

  std::mt19937_64 rng_;
  /// Whether a step's value goes through dropout: a stream of its own, so the rest of a seed's graph stays as it
  /// was before dropout joined the generator.
  std::mt19937_64 dropout_rng_;
  DType dtype_;
  std::uint64_t seed_;
  std::int64_t rows_ = 0, cols_ = 0;
  std::vector<Tensor> pool_;
  Tensor weight_, labels_;
  std::vector<std::string> ops_;
  Tensor extra_cost_;
};

}  // namespace loom::testing
