// The public API contract of DESIGN §3, compiled and run exactly as written there.

#include <catch2/catch.hpp>
#include <loom/loom.h>

using namespace loom;

TEST_CASE("the DESIGN section 3 contract snippet compiles and runs as written") {
  const int N = 100;
  Array data = Array::randn({2, N}, /*seed=*/3);
  Array labels = Array::zeros({N});
  for (int i = 0; i < N; ++i) labels.data<float>()[i] = data.data<float>()[i] + data.data<float>()[N + i] > 0 ? 1.0f : 0.0f;

  // ---- begin contract snippet ----
  Graph g;
  Tensor X = g.input("X", {2, N});                 // dtype f32 unless given: g.input("y", {N}, DType::i32)
  Tensor y = g.input("y", {N});
  Tensor w = g.shared("w", Array::randn({2}, /*seed=*/1));   // Theano `shared`: persistent state
  Tensor b = g.shared("b", Array::scalar(0.0f));
  Tensor h = 1.0f / (1.0f + exp(-matmul(transpose(X), w) - b));
  Tensor cost = (1.0f / N) * sum(-y * log(h) - (1.0f - y) * log(1.0f - h)) + 0.001f * sum(pow(w, 2.0f));
  std::vector<Tensor> gr = grad(cost, {w, b});     // symbolic: Tensors in the same graph
  Function train = compile({X, y}, {cost}, {{w, w - 1.0f * gr[0]}, {b, b - 1.0f * gr[1]}});
  std::vector<Array> out = train({data, labels});  // updates use old values, then all are assigned (Theano semantics)
  float c = out[0].item<float>();
  Array pred = eval(h > 0.5f, {{X, data}});        // comparisons give DType::b8
  Array wv = w.get_value();  w.set_value(Array::zeros({2}));
  std::string text = train.ir();                   // the final IR as text
  // ---- end contract snippet ----

  CHECK(std::isfinite(c));
  CHECK(c > 0.0f);
  CHECK(pred.dtype() == DType::b8);
  CHECK(pred.shape() == Shape{N});
  CHECK(wv.shape() == Shape{2});
  CHECK(w.get_value().to_vector<float>() == std::vector<float>{0.0f, 0.0f});
  CHECK(text.find("func @main(%X: f32[2,100] @input, %y: f32[100] @input) state(%w: f32[2] @state, %b: f32[] @state)") !=
        std::string::npos);
  CHECK(text.find("update %w = ") != std::string::npos);
  CHECK(text.find("grad(") == std::string::npos);
}

TEST_CASE("the DESIGN section 3 optimizers and initializers are called as the contract lists them") {
  Graph g;
  Tensor X = g.input("X", {8, 4});
  std::vector<Tensor> params{g.shared("W", init::glorot_uniform({4, 3}, /*seed=*/1)), g.shared("b", init::zeros({3}))};
  Tensor cost = mean(square(matmul(X, params[0]) + params[1]));
  std::vector<Tensor> grads = grad(cost, params);
  for (Updates updates : {optim::sgd(params, grads, {}), optim::momentum(params, grads, {}), optim::nesterov(params, grads, {}),
                          optim::adagrad(params, grads, {}), optim::adadelta(params, grads, {}), optim::rmsprop(params, grads, {}),
                          optim::adam(params, grads, {}), optim::adamw(params, grads, {})}) {
    Function step = compile({X}, {cost}, updates);
    CHECK(std::isfinite(step({Array::randn({8, 4}, 2)})[0].item<float>()));
  }
  for (Array a : {init::zeros({2, 3}), init::constant({2, 3}, 0.5), init::uniform({2, 3}, -1, 1, 1), init::normal({2, 3}, 0, 1, 1),
                  init::glorot_uniform({2, 3}, 1), init::glorot_normal({2, 3}, 1), init::he_uniform({2, 3}, 1),
                  init::he_normal({2, 3}, 1), init::lecun_uniform({2, 3}, 1)})
    CHECK(a.shape() == Shape{2, 3});
}
