// Logistic regression trained by gradient descent: the Theano demo loom starts from, written with loom.
//
// Two 2-D Gaussian classes (means (-0.7,-0.7) and (0.7,0.7), covariance 0.1·I, N = 1000, fixed seed);
// h = sigmoid(Xᵀw + b); cost = mean cross-entropy + 0.001·Σw²; 50 steps of plain gradient descent, rate 1.
// Prints the cost per step, the training accuracy, and the training function's IR before and after autodiff.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <loom/loom.h>

#include "logistic_regression_model.h"

using namespace loom;

int main(int argc, char** argv) {
  const int N = 1000;
  const std::string dump_dir = argc > 1 ? argv[1] : "out/logistic_regression";

  // Data: column i of `data` is one point; labels are 0 for the first half, 1 for the second.
  Array noise = Array::randn({2, N}, /*seed=*/42);
  Array data = Array::zeros({2, N});
  Array labels = Array::zeros({N});
  for (int i = 0; i < N; ++i) {
    float label = i < N / 2 ? 0.0f : 1.0f;
    float mean = label == 0.0f ? -0.7f : 0.7f;
    labels.data<float>()[i] = label;
    for (int d = 0; d < 2; ++d) data.data<float>()[d * N + i] = mean + std::sqrt(0.1f) * noise.data<float>()[d * N + i];
  }

  // The model (logistic_regression_model.h): h = 1/(1+exp(-(Xᵀw + b))), cost = mean cross-entropy + 0.001·Σw²,
  // and one gradient-descent step as the updates.
  Graph g;
  models::LogisticRegression m = models::logistic_regression(g, N);
  Function train = compile({m.X, m.y}, {m.cost}, m.updates, CompileOptions{.dump_dir = dump_dir, .name = "train"});

  std::printf("step  cost\n");
  for (int step = 1; step <= 50; ++step) {
    float c = train({data, labels})[0].item<float>();
    std::printf("%4d  %.6f\n", step, c);
  }

  Array pred = eval(m.h > 0.5f, {{m.X, data}});
  int correct = 0;
  for (int i = 0; i < N; ++i) correct += (pred.data<bool>()[i] ? 1.0f : 0.0f) == labels.data<float>()[i];
  std::printf("training accuracy: %.3f\n", static_cast<double>(correct) / N);
  std::vector<float> wv = m.w.get_value().to_vector<float>();
  std::printf("w = (%.4f, %.4f), b = %.4f\n", wv[0], wv[1], m.b.get_value().item<float>());

  std::filesystem::path dumps = std::filesystem::path(dump_dir) / "train";
  std::printf("\n--- training function before autodiff (%s) ---\n", (dumps / "0000.input.loom").c_str());
  std::ifstream before(dumps / "0000.input.loom");
  std::printf("%s", std::string(std::istreambuf_iterator<char>(before), {}).c_str());
  std::printf("\n--- training function after the O2 pipeline (final IR) ---\n%s", train.ir().c_str());
  std::printf("\n--- passes ---\n%s", train.report().c_str());
  std::printf("\nIR after each pass: %s/\n", dumps.c_str());
  return 0;
}
