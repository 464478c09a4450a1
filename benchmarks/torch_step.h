#pragma once
/// The LibTorch side of the peer comparisons: one training step (forward, cross-entropy, backward, Adam 1e-3) of a
/// module on a fixed batch, timed by Google Benchmark, on as many threads as loom (OMP_NUM_THREADS, default the
/// machine's cores).

#include <benchmark/benchmark.h>
#include <omp.h>
#include <torch/torch.h>

namespace loom::bench {

/// Times `net`'s training step on `batch` uniform inputs of `features` values with labels i % 10.
template <class Net>
void torch_training_steps(benchmark::State& state, Net& net, std::int64_t batch, std::int64_t features) {
  torch::set_num_threads(omp_get_max_threads());
  net.train();
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor x = torch::rand({batch, features}), y = torch::arange(batch, torch::kLong) % 10;
  for (auto _ : state) {
    adam.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    adam.step();
  }
  state.counters["threads"] = torch::get_num_threads();
}

}  // namespace loom::bench
