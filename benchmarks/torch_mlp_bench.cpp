// The same training step as mlp_adam_bench.cpp in LibTorch (Debian's libtorch 1.13): MLP 784-256-256-10, ReLU,
// dropout 0.2 after each hidden layer, softmax cross-entropy, Adam, batch 128, on as many threads as loom
// (OMP_NUM_THREADS, default the machine's cores). Built when CMake finds Torch.

#include "torch_step.h"

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
  torch::manual_seed(1);
  Mlp net;
  loom::bench::torch_training_steps(state, net, 128, 784);
}
BENCHMARK(BM_MlpAdamDropout_LibTorch)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
