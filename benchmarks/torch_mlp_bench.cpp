// The same training step as mlp_adam_bench.cpp in LibTorch (Debian's libtorch 1.13): MLP 784-256-256-10, ReLU,
// dropout 0.2 after each hidden layer, softmax cross-entropy, Adam, batch 128, on as many threads as loom
// (OMP_NUM_THREADS, default the machine's cores). Built when CMake finds Torch.

#include <benchmark/benchmark.h>
#include <omp.h>
#include <torch/torch.h>

namespace {

struct Mlp : torch::nn::Module {
  Mlp() : fc1(register_module("fc1", torch::nn::Linear(784, 256))), fc2(register_module("fc2", torch::nn::Linear(256, 256))),
          out(register_module("out", torch::nn::Linear(256, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::dropout(torch::relu(fc1->forward(x)), 0.2, is_training());
    x = torch::dropout(torch::relu(fc2->forward(x)), 0.2, is_training());
    return out->forward(x);
  }
  torch::nn::Linear fc1, fc2, out;
};

void BM_MlpAdamDropout_LibTorch(benchmark::State& state) {
  torch::set_num_threads(omp_get_max_threads());
  torch::manual_seed(1);
  Mlp net;
  net.train();
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor x = torch::rand({128, 784}), y = torch::arange(128, torch::kLong) % 10;
  for (auto _ : state) {
    adam.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net.forward(x), y);
    loss.backward();
    adam.step();
  }
  state.counters["threads"] = torch::get_num_threads();
}
BENCHMARK(BM_MlpAdamDropout_LibTorch)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
