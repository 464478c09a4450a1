// The JIT backend (LLVM kernels + oneDNN matmul) against the reference interpreter.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include "compare.h"
#include "logistic_regression_model.h"
#include <loom/loom.h>

#include "op_cases.h"

using namespace loom;
using loom::testing::check_close;


TEST_CASE("every op case, forward and gradient, gives the interpreter's values on the JIT in f32 and f64", "[jit]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (const testing::OpCase& c : testing::all_op_cases()) {
      Graph g;
      std::vector<Tensor> x;
      for (std::size_t i = 0; i < c.shapes.size(); ++i) x.push_back(g.input("x" + std::to_string(i), c.shapes[i], dtype));
      Tensor out = c.build(g, x);
      std::vector<Tensor> outputs = grad(sum(out * out), x);
      outputs.push_back(out);
      Function jit = compile(x, outputs, {}, CompileOptions{.backend = Backend::jit});
      Function reference = compile(x, outputs, {}, CompileOptions{.backend = Backend::interpreter});
      std::vector<Array> args = testing::make_inputs(c, dtype, 11);
      std::vector<Array> want = reference(args), got = jit(args);
      INFO(c.name << " in " << to_string(dtype) << "\n" << jit.ir());
      for (std::size_t k = 0; k < want.size(); ++k)
        check_close(want[k], got[k], dtype == DType::f32 ? c.f32_tolerance : 1e-12, dtype == DType::f32 ? c.f32_tolerance : 1e-12);
    }
  }
}

TEST_CASE("the JIT's own kernels give bit-identical results with 1 and 2 threads", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {512, 300});
  Tensor w = g.input("w", {300});
  Tensor y = softmax(tanh(x * w + 0.5f) * 3.0f);
  Tensor loss = sum(log_softmax(x), 1) + max(exp(-x * x), 1);
  Array xv = Array::randn({512, 300}, 1), wv = Array::randn({300}, 2);
  std::vector<Array> one = compile({x, w}, {y, loss}, {}, CompileOptions{.backend = Backend::jit, .threads = 1})({xv, wv});
  std::vector<Array> two = compile({x, w}, {y, loss}, {}, CompileOptions{.backend = Backend::jit, .threads = 2})({xv, wv});
  for (std::size_t k = 0; k < one.size(); ++k) {
    REQUIRE(one[k].nbytes() == two[k].nbytes());
    CHECK(std::memcmp(one[k].raw(), two[k].raw(), one[k].nbytes()) == 0);
  }
}

TEST_CASE("oneDNN matmuls with transposed, batched and vector operands match the interpreter", "[jit]") {
  Graph g;
  Tensor a = g.input("a", {3, 17, 9}), b = g.input("b", {3, 9, 5}), m = g.input("m", {9, 17}), v = g.input("v", {9});
  Tensor c = g.input("c", {5, 9});
  std::vector<Tensor> outputs = {matmul(a, b), matmul(transpose(m), v), matmul(transpose(m), transpose(c)),
                                 matmul(a, transpose(c)), matmul(transpose(a, {0, 2, 1}), transpose(m))};
  std::vector<Array> args;
  for (const Tensor& t : {a, b, m, v, c}) args.push_back(Array::randn(t.shape(), 7 + args.size()));
  Function jit = compile({a, b, m, v, c}, outputs, {}, CompileOptions{.backend = Backend::jit});
  CHECK(jit.ir().find("transpose(") == std::string::npos);  // folded into the matmuls' flags
  std::vector<Array> want = compile({a, b, m, v, c}, outputs, {}, CompileOptions{.backend = Backend::interpreter})(args);
  std::vector<Array> got = jit(args);
  for (std::size_t k = 0; k < want.size(); ++k) check_close(want[k], got[k], 1e-5, 1e-5);
}

TEST_CASE("the logistic-regression training step gives the interpreter's costs on the JIT", "[jit]") {
  const int N = 1000;
  auto train_costs = [&](Backend backend) {
    Graph g;
    models::LogisticRegression m = models::logistic_regression(g, N);
    Function train = compile({m.X, m.y}, {m.cost}, m.updates, CompileOptions{.backend = backend});
    Array data = Array::randn({2, N}, 3), labels(DType::f32, {N});
    for (int i = 0; i < N; ++i) labels.set(i, data.get(i) + data.get(N + i) > 0 ? 1.0 : 0.0);
    std::vector<float> costs;
    for (int step = 0; step < 20; ++step) costs.push_back(train({data, labels})[0].item<float>());
    return costs;
  };
  std::vector<float> want = train_costs(Backend::interpreter), got = train_costs(Backend::jit);
  for (std::size_t k = 0; k < want.size(); ++k) CHECK(got[k] == Approx(want[k]).epsilon(1e-5));
}

TEST_CASE("with dump_dir the JIT writes the kernels' LLVM IR and vectorized assembly", "[jit]") {
  auto dir = std::filesystem::temp_directory_path() / "loom-jit-dumps";
  std::filesystem::remove_all(dir);
  Graph g;
  Tensor a = g.input("a", {4096}), b = g.input("b", {4096});
  compile({a, b}, {relu(a * b + 1.0f)}, {}, CompileOptions{.backend = Backend::jit, .dump_dir = dir.string(), .name = "f"});
  std::ifstream ll(dir / "f" / "kernels.ll"), s(dir / "f" / "kernels.s");
  std::string ir((std::istreambuf_iterator<char>(ll)), {}), assembly((std::istreambuf_iterator<char>(s)), {});
  CHECK(ir.find("vector.body") != std::string::npos);
  CHECK(ir.find("fmul <") != std::string::npos);
  CHECK(assembly.find("vmulps") != std::string::npos);  // packed single-precision multiplies
  std::filesystem::remove_all(dir);
}

TEST_CASE("with dump_dir the JIT writes the layout each oneDNN convolution and pool runs in", "[jit]") {
  auto dir = std::filesystem::temp_directory_path() / "loom-onednn-dumps";
  std::filesystem::remove_all(dir);
  Graph g;
  Tensor x = g.input("x", {2, 16, 12, 12}), w = g.input("w", {24, 16, 3, 3});
  compile({x, w}, {max_pool2d(relu(conv2d(x, w, 1, "same")), 2)}, {},
          CompileOptions{.backend = Backend::jit, .dump_dir = dir.string(), .name = "f"});
  std::ifstream file(dir / "f" / "onednn.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  // Which layouts oneDNN picks depends on the CPU; that each argument is named with one does not.
  const std::regex conv(R"(%\d+ conv2d: \S+, src [a-dA-D0-9]+( \(reordered\))?, weights [a-dA-D0-9]+( \(reordered\))?, dst [a-dA-D0-9]+( \(reordered\))?)");
  const std::regex pool(R"(%\d+ max_pool2d: \S+, src [a-dA-D0-9]+( \(reordered\))?, dst [a-dA-D0-9]+( \(reordered\))?)");
  REQUIRE(lines.size() == 2);
  CHECK(std::regex_match(lines[0], conv));
  CHECK(std::regex_match(lines[1], pool));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a matmul with a bias and an activation runs as one oneDNN primitive and matches the interpreter", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {64, 33}), bias = g.input("bias", {17}), xb = g.input("xb", {3, 8, 33});
  std::vector<Tensor> inputs = {x, bias, xb};
  auto weights = [&] {  // a matmul of its own for each case (cse would merge equal ones)
    inputs.push_back(g.input("w" + std::to_string(inputs.size()), {33, 17}));
    return inputs.back();
  };
  std::vector<Tensor> outputs = {relu(matmul(x, weights()) + bias),    tanh(bias + matmul(x, weights())),
                                 sigmoid(matmul(x, weights()) + bias), leaky_relu(matmul(x, weights()) + bias, 0.2),
                                 elu(matmul(x, weights()) + bias, 0.7), matmul(x, weights()) + bias,
                                 relu(matmul(xb, weights()) + bias)};
  std::vector<Array> args;
  for (const Tensor& t : inputs) args.push_back(Array::randn(t.shape(), 31 + args.size()));
  Function jit = compile(inputs, outputs, {}, CompileOptions{.backend = Backend::jit});
  std::string text = jit.ir();
  INFO(text);
  std::size_t matmul_kernels = 0;
  for (std::size_t at = text.find("kind = \"matmul\""); at != std::string::npos; at = text.find("kind = \"matmul\"", at + 1))
    ++matmul_kernels;
  CHECK(matmul_kernels == outputs.size());
  std::vector<Array> want = compile(inputs, outputs, {}, CompileOptions{.backend = Backend::interpreter})(args);
  std::vector<Array> got = jit(args);
  for (std::size_t k = 0; k < want.size(); ++k) {
    INFO("output " << k);
    check_close(want[k], got[k], 1e-5, 1e-5);
  }
}

TEST_CASE("softmax rows are within 1.5 ulp of the exact values down to the smallest subnormal, on any CPU", "[jit]") {
  // A row whose sum is exactly 1 in f32 on any path: exp(0) = 1 and every other exponential below e^-30, so
  // their total (< 1e-9) is absorbed however the vector lanes split the sum. The outputs are then the row
  // kernel's exponentials themselves (scaled by 1/1), which are the same bits on every x86-64 (an FMA polynomial;
  // codegen/llvm/row_exp.h), and are checked against exp in double.
  constexpr std::int64_t n = 11001;
  Graph g;
  Tensor x = g.input("x", {1, n});
  Function f = compile({x}, {softmax(x, 1)});
  Array row(DType::f32, {1, n});
  row.set(0, 0.0);
  for (std::int64_t i = 1; i < n; ++i) row.set(i, -30.0 - 80.0 * static_cast<double>(i) / static_cast<double>(n - 1));
  Array got = f({row})[0];
  double worst_normal = 0, worst_subnormal = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double want = std::exp(static_cast<double>(static_cast<float>(row.get(i))));
    float as_float = static_cast<float>(want);
    double ulp = std::nextafter(as_float, 1.0f) - as_float;  // the subnormal spacing below 2^-126
    double& worst = want < 0x1p-126 ? worst_subnormal : worst_normal;
    worst = std::max(worst, std::abs(got.get(i) - want) / ulp);
  }
  INFO("worst error " << worst_normal << " ulp (normal results), " << worst_subnormal << " ulp (subnormal)");
  CHECK(got.get(0) == 1.0);
  // Cephes' expf polynomial: 1.22 ulp at worst over this row (0.75 where the result is subnormal, rounded once
  // into that spacing), on every CPU alike.
  CHECK(worst_normal <= 1.5);
  CHECK(worst_subnormal <= 1.5);
  CHECK(got.get(n - 1) == 0.0);  // exp(-110) underflows to 0 in f32
}

TEST_CASE("convolutions over 16 or more channels, on oneDNN's blocked layouts, are as accurate as the interpreter", "[jit]") {
  // The op cases' few channels keep backward-data plain (codegen/onednn/window.cpp); these run every pass blocked.
  // Their gradients sum hundreds of products of sums, so f32 rounding moves them by more than 1e-4 relative: each
  // backend's f32 results are judged against the f64 evaluation, the JIT's error against the interpreter's.
  for (Size2 stride : {Size2(1), Size2(2, 1)}) {
    auto run = [&](DType dtype, Backend backend) {
      Graph g;
      Tensor x = g.input("x", {3, 16, 9, 10}, dtype), w = g.input("w", {24, 16, 3, 3}, dtype), b = g.input("b", {24}, dtype);
      Tensor y = max_pool2d(relu(conv2d(x, w, b, stride, "same")), 2, 1);
      std::vector<Tensor> outputs = grad(sum(y * y), {x, w, b});
      outputs.push_back(y);
      std::vector<Array> args;
      for (const Tensor& t : {x, w, b}) args.push_back(Array::randn(t.shape(), 1 + args.size()).astype(dtype));
      return compile({x, w, b}, outputs, {}, CompileOptions{.backend = backend})(args);
    };
    std::vector<Array> exact = run(DType::f64, Backend::interpreter), oracle = run(DType::f32, Backend::interpreter),
                       jit = run(DType::f32, Backend::jit);
    for (std::size_t k = 0; k < exact.size(); ++k) {
      double oracle_error = 0, jit_error = 0, scale = 0;
      for (std::int64_t i = 0; i < exact[k].size(); ++i) {
        oracle_error = std::max(oracle_error, std::abs(oracle[k].get(i) - exact[k].get(i)));
        jit_error = std::max(jit_error, std::abs(jit[k].get(i) - exact[k].get(i)));
        scale = std::max(scale, std::abs(exact[k].get(i)));
      }
      INFO("output " << k << ": largest |value| " << scale << ", f32 error of the interpreter " << oracle_error << ", of the JIT "
                     << jit_error);
      CHECK(jit_error <= 4 * oracle_error + 1e-6 * scale);
      CHECK(jit_error <= 1e-4 * scale);
    }
  }
}

TEST_CASE("max pooling's gradient goes to each window's first largest tap on the JIT too, ties included", "[jit]") {
  // Inputs of -1, 0 and 1 tie in most windows (as ReLU's zeros do). The forward runs on oneDNN, the backward on
  // the JIT's own kernels (codegen/window_loops.h: the vectorized one for 2 × 2 pools, leaving the last row and
  // column of the 9 × 9 planes out of every window); a backend that broke ties another way would be off by w, at
  // least 0.5.
  Array values(DType::f32, {2, 3, 9, 9});
  for (std::int64_t i = 0; i < values.size(); ++i) values.set(i, static_cast<double>((i / 3 + i / 11) % 3) - 1.0);
  for (int overlapping = 0; overlapping < 2; ++overlapping) {
    Graph g;
    Tensor x = g.input("x", values.shape()), w = g.input("w", {2, 3, overlapping ? 9 : 4, overlapping ? 9 : 4});
    Tensor y = overlapping ? max_pool2d(x, 3, 1, "same") : max_pool2d(x, 2);
    std::vector<Tensor> outputs{y, grad(sum(y * w), {x})[0]};
    std::vector<Array> args{values, Array::uniform(w.shape(), 0.5, 1.5, 4)};
    std::vector<Array> want = compile({x, w}, outputs, {}, CompileOptions{.backend = Backend::interpreter})(args);
    // Into arrays holding 7: an element the JIT left unwritten would keep it.
    std::vector<Array> got{Array::full(y.shape(), 7.0), Array::full(values.shape(), 7.0)};
    compile({x, w}, outputs, {}, CompileOptions{.backend = Backend::jit}).call_into(args, got);
    for (std::size_t k = 0; k < want.size(); ++k) {
      INFO("overlapping " << overlapping << ", output " << k);
      check_close(want[k], got[k], 1e-6, 1e-6);
    }
  }
}
