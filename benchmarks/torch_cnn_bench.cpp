// The same training step as cnn_bench.cpp in LibTorch (Debian's libtorch 1.13): conv32-bn-relu-pool,
// conv64-bn-relu-pool (3 x 3 "same" convolutions without bias, 2 x 2 max pools), fc128-relu, dropout 0.2, fc10,
// softmax cross-entropy, Adam, batch 64, on as many threads as loom. Built when CMake finds Torch.

#include "torch_step.h"

namespace {

struct Cnn : torch::nn::Module {
  Cnn()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1).bias(false)))),
        bn1(register_module("bn1", torch::nn::BatchNorm2d(32))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1).bias(false)))),
        bn2(register_module("bn2", torch::nn::BatchNorm2d(64))),
        fc1(register_module("fc1", torch::nn::Linear(64 * 7 * 7, 128))),
        out(register_module("out", torch::nn::Linear(128, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(bn1->forward(conv1->forward(x.view({-1, 1, 28, 28})))), 2);
    x = torch::max_pool2d(torch::relu(bn2->forward(conv2->forward(x))), 2);
    x = torch::dropout(torch::relu(fc1->forward(x.flatten(1))), 0.2, is_training());
    return out->forward(x);
  }
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Linear fc1, out;
};

void BM_CnnStep_LibTorch(benchmark::State& state) {
  torch::manual_seed(1);
  Cnn net;
  loom::bench::torch_training_steps(state, net, 64, 784);
}
BENCHMARK(BM_CnnStep_LibTorch)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
