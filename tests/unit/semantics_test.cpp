// Theano's semantics for functions, shared variables and gradients.

#include <filesystem>

#include <catch2/catch.hpp>
#include <loom/loom.h>

using namespace loom;

TEST_CASE("updates are computed from the old state, then all assigned") {
  Graph g;
  Tensor a = g.shared("a", Array::scalar(1.0f)), b = g.shared("b", Array::scalar(2.0f));
  Function swap = compile({}, {a + b * 10.0f}, {{a, b}, {b, a}});
  CHECK(swap({})[0].item<float>() == 21.0f);
  CHECK(a.get_value().item<float>() == 2.0f);
  CHECK(b.get_value().item<float>() == 1.0f);
  CHECK(swap({})[0].item<float>() == 12.0f);
}

TEST_CASE("functions of one graph share its variables, and eval sees them") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor w = g.shared("w", Array::zeros({3}));
  Function learn = compile({x}, {}, {{w, w + x}});
  Function predict = compile({x}, {sum(w * x)});
  Array ones = Array::full({3}, 1.0);
  CHECK(predict({ones})[0].item<float>() == 0.0f);
  learn({ones});
  learn({ones});
  CHECK(predict({ones})[0].item<float>() == 6.0f);
  CHECK(eval(sum(w)).item<float>() == 6.0f);
  w.set_value(Array::full({3}, -1.0));
  CHECK(predict({ones})[0].item<float>() == -3.0f);
}

TEST_CASE("a graph keeps growing after compile without changing earlier functions") {
  Graph g;
  Tensor x = g.input("x", {2});
  Function f = compile({x}, {x * 2.0f});
  std::string before = f.ir();
  Tensor later = exp(x) + 1.0f;
  Function h = compile({x}, {later});
  CHECK(f.ir() == before);
  CHECK(f({Array::from<float>({1, 2})})[0].to_vector<float>() == std::vector<float>{2, 4});
  CHECK(h({Array::from<float>({0, 0})})[0].to_vector<float>() == std::vector<float>{2, 2});
}

TEST_CASE("returned arrays stay valid and independent of later calls and of the state") {
  Graph g;
  Tensor w = g.shared("w", Array::from<float>({1, 2}));
  Function step = compile({}, {w}, {{w, w * 2.0f}});
  Array first = step({})[0];
  first.data<float>()[0] = 100.0f;
  Array second = step({})[0];
  CHECK(second.to_vector<float>() == std::vector<float>{2, 4});
  CHECK(w.get_value().to_vector<float>() == std::vector<float>{4, 8});
}

TEST_CASE("known_grads seeds the chain rule at an intermediate value") {
  Graph g;
  Tensor x = g.input("x", {3}, DType::f64);
  Tensor h = exp(x);
  Tensor gh = g.input("gh", {3}, DType::f64);
  Tensor gx = grad(Tensor(), {x}, GradOptions{.known_grads = {{h, gh}}})[0];
  Array xv = Array::from<double>({0.0, 1.0, -1.0}), ghv = Array::from<double>({1.0, 2.0, 3.0});
  std::vector<double> got = compile({x, gh}, {gx})({xv, ghv})[0].to_vector<double>();
  for (int i = 0; i < 3; ++i) CHECK(got[i] == Approx(ghv.get(i) * std::exp(xv.get(i))));
}

TEST_CASE("consider_constant and stop_gradient block gradients") {
  Graph g;
  Tensor x = g.input("x", {3}, DType::f64);
  Tensor y = x * 2.0f;
  Tensor constant_y = grad(sum(x * y), {x}, GradOptions{.consider_constant = {y}})[0];
  Tensor stopped = grad(sum(stop_gradient(x) * x), {x})[0];
  Tensor full = grad(sum(x * y), {x})[0];
  Array xv = Array::from<double>({1.0, -2.0, 0.5});
  std::vector<Array> out = compile({x}, {constant_y, stopped, full})({xv});
  for (int i = 0; i < 3; ++i) {
    CHECK(out[0].get(i) == Approx(2.0 * xv.get(i)));
    CHECK(out[1].get(i) == Approx(xv.get(i)));
    CHECK(out[2].get(i) == Approx(4.0 * xv.get(i)));
  }
}

TEST_CASE("disconnected = zero gives zeros for variables the cost ignores") {
  Graph g;
  Tensor x = g.input("x", {2}), z = g.input("z", {2, 2});
  std::vector<Tensor> grads = grad(sum(x), {x, z}, GradOptions{.disconnected = Disconnected::zero});
  std::vector<Array> out = compile({x, z}, grads)({Array::zeros({2}), Array::zeros({2, 2})});
  CHECK(out[0].to_vector<float>() == std::vector<float>{1, 1});
  CHECK(out[1].to_vector<float>() == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("gradients point at the user's lines and print as IR") {
  Graph g;
  Tensor x = g.input("x", {4});
  Tensor w = g.shared("w", Array::zeros({4}));
  int line = __LINE__; Tensor cost = sum(sigmoid(w * x)).named("cost");
  std::vector<Tensor> gw = grad(cost, {w});
  std::string recorded = g.str();
  CHECK(recorded.find("= grad(%cost, %w) {disconnected = \"raise\", has_cost = 1, num_known = 0, num_wrt = 1} : f32[4]") !=
        std::string::npos);
  Function f = compile({x}, {gw[0]});
  std::string text = f.ir();
  INFO(text);
  CHECK(text.find("grad(") == std::string::npos);
  // The sigmoid's gradient is recorded at the line of the sigmoid.
  CHECK(text.find("loc(\"unit/semantics_test.cpp\":" + std::to_string(line) + ")") != std::string::npos);
  CHECK(text.find("sub(") != std::string::npos);  // 1 - sigmoid
}

TEST_CASE("dump_dir receives the IR before and after every pass") {
  auto dir = std::filesystem::temp_directory_path() / "loom-dump-test";
  std::filesystem::remove_all(dir);
  Graph g;
  Tensor x = g.input("x", {2});
  Tensor gx = grad(sum(x * x), {x})[0];
  compile({x}, {gx}, {}, CompileOptions{.dump_dir = dir.string(), .pipeline = "stabilize,autodiff,dce", .name = "f"});
  CHECK(std::filesystem::exists(dir / "f" / "0000.input.loom"));
  CHECK(std::filesystem::exists(dir / "f" / "0001.after-stabilize.loom"));
  CHECK(std::filesystem::exists(dir / "f" / "0002.after-autodiff.loom"));
  CHECK(std::filesystem::exists(dir / "f" / "0003.after-dce.loom"));
  // A second compile of the same function replaces the first one's dumps.
  compile({x}, {gx}, {}, CompileOptions{.dump_dir = dir.string(), .pipeline = "autodiff", .name = "f"});
  CHECK(std::filesystem::exists(dir / "f" / "0001.after-autodiff.loom"));
  CHECK_FALSE(std::filesystem::exists(dir / "f" / "0003.after-dce.loom"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("an f64 model trains on the interpreter") {
  Graph g;
  Tensor x = g.input("x", {8, 3}, DType::f64);
  Tensor target = g.input("t", {8}, DType::f64);
  Tensor w = g.shared("w", Array::zeros({3}, DType::f64));
  Tensor cost = mse(matmul(x, w), target);
  Function step = compile({x, target}, {cost}, {{w, w - 0.1f * grad(cost, {w})[0]}});
  Array xv = Array::randn({8, 3}, 4, DType::f64), tv(DType::f64, {8});
  for (int i = 0; i < 8; ++i) tv.set(i, xv.get(i * 3) - 2.0 * xv.get(i * 3 + 2));
  double first = step({xv, tv})[0].item<double>(), last = first;
  for (int k = 0; k < 300; ++k) last = step({xv, tv})[0].item<double>();
  CHECK(last < 1e-6 * first);
  std::vector<double> wv = w.get_value().to_vector<double>();
  CHECK(wv[0] == Approx(1.0).margin(1e-3));
  CHECK(wv[2] == Approx(-2.0).margin(1e-3));
}

TEST_CASE("a value returned twice and assigned to the state gives independent arrays, on both backends") {
  for (Backend backend : {Backend::interpreter, Backend::jit}) {
    Graph g;
    Tensor w = g.shared("w", Array::from<float>({1, 2}));
    Tensor y = w * 3.0f;
    Function f = compile({}, {y, y}, {{w, y}}, CompileOptions{.backend = backend});
    std::vector<Array> out = f({});
    out[0].data<float>()[0] = -1.0f;
    CHECK(out[1].to_vector<float>() == std::vector<float>{3, 6});
    CHECK(w.get_value().to_vector<float>() == std::vector<float>{3, 6});
  }
}
