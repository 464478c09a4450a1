// Memory planning: the schedule and plan-memory passes, the plan checker, the executor's in-place updates and
// call_into.

#include <cstring>

#include <catch2/catch.hpp>

#include <loom/loom.h>

#include "loom/ir/memory_plan.h"
#include "loom/ir/parser.h"
#include "loom/ir/printer.h"
#include "loom/passes/passes.h"
#include "mlp_model.h"

using namespace loom;

namespace {

bool bit_identical(const Array& a, const Array& b) {
  return a.type() == b.type() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

/// A batch of inputs for the MLP: pixels in [0, 1) and labels in [0, 10).
std::vector<Array> mlp_batch(const models::Mlp& m, std::uint64_t seed) {
  Array labels(DType::i32, m.labels.shape());
  Array u = Array::uniform(m.labels.shape(), 0.0, 10.0, seed + 1, DType::f64);
  for (std::int64_t i = 0; i < labels.size(); ++i) labels.set(i, std::floor(u.get(i)));
  return {Array::uniform(m.X.shape(), 0.0, 1.0, seed, m.X.dtype()), labels};
}

/// Trains the MLP for `steps` steps; returns the costs and the final parameters.
std::vector<Array> train_mlp(const CompileOptions& options, int steps, DType dtype = DType::f32) {
  Graph g;
  models::Mlp m = models::mlp(g, {784, 64, 32, 10}, 16, dtype);
  Function f = compile({m.X, m.labels}, {m.cost}, m.updates, options);
  std::vector<Array> out;
  std::vector<Array> batch = mlp_batch(m, 7);
  for (int s = 0; s < steps; ++s) out.push_back(f(batch)[0]);
  for (const Tensor& w : m.weights) out.push_back(w.get_value());
  for (const Tensor& v : m.velocities) out.push_back(v.get_value());
  return out;
}

void check_plan_rejects(const std::string& text, const std::string& why) {
  ir::Graph g = ir::parse(text);
  CHECK_THROWS_WITH(ir::check_plan(g), Catch::Contains(why));
}

}  // namespace

TEST_CASE("an MLP training step plans within 1.1x of the liveness lower bound and under half the no-reuse bytes") {
  Graph g;
  models::Mlp m = models::mlp(g, {784, 256, 256, 10}, 128);
  Function f = compile({m.X, m.labels}, {m.cost}, m.updates);
  passes::MemoryStats stats = passes::memory_stats(f.graph());
  INFO(passes::format_memory_stats(f.graph(), stats));
  INFO(f.report());
  CHECK(stats.arena > 0);
  CHECK(stats.arena <= 1.1 * static_cast<double>(stats.lower_bound));
  CHECK(stats.arena < 0.5 * static_cast<double>(stats.no_reuse));
  // Every weight and its velocity is updated in place (the biases' updates are fused into the reductions that
  // compute their gradients, which are not elementwise, so they are copied after the last step).
  CHECK(stats.in_place_updates >= 6);
  // The report accounts for every byte live at the peak, by role.
  std::int64_t at_peak = 0;
  for (const auto& [role, bytes_and_count] : stats.peak_roles) at_peak += bytes_and_count.first;
  CHECK(at_peak == stats.lower_bound);
  CHECK(stats.peak_roles.count("gradient") == 1);
  CHECK(f.report().find("memory plan of @main: arena") != std::string::npos);
  CHECK(f.report().find("schedule of @main: peak live") != std::string::npos);
}

TEST_CASE("training is bit-identical with memory planning on and off, in f32 and f64", "[jit]") {
  for (DType dtype : {DType::f32, DType::f64}) {
    std::vector<Array> planned = train_mlp(CompileOptions{.plan_memory = true}, 3, dtype);
    std::vector<Array> unplanned = train_mlp(CompileOptions{.plan_memory = false}, 3, dtype);
    REQUIRE(planned.size() == unplanned.size());
    for (std::size_t k = 0; k < planned.size(); ++k) CHECK(bit_identical(planned[k], unplanned[k]));
    // The cost falls: the updates really happen.
    CHECK(planned[2].get(0) < planned[0].get(0));
  }
}

TEST_CASE("an elementwise step writes its result over an operand that dies there, and results do not change", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {1000});
  Tensor y = g.input("y", {1000});
  Tensor out = sum(tanh(exp(x * 0.5f) + y) * 2.0f);
  // Without fuse every op is a step of its own, so each temporary dies at the next one.
  Array xv = Array::uniform({1000}, -1, 1, 1), yv = Array::uniform({1000}, -1, 1, 2);
  Function planned = compile({x, y}, {out}, {}, CompileOptions{.pipeline = "schedule,plan-memory"});
  Function reference = compile({x, y}, {out}, {}, CompileOptions{.backend = Backend::interpreter});
  passes::MemoryStats stats = passes::memory_stats(planned.graph());
  INFO(planned.ir());
  CHECK(stats.in_place_results >= 3);
  CHECK(stats.arena <= 4096);  // one 4000-byte buffer, reused by every step
  CHECK(planned({xv, yv})[0].get(0) == Approx(reference({xv, yv})[0].get(0)).epsilon(1e-6));
}

TEST_CASE("without reuse every arena value has bytes of its own") {
  Graph g;
  models::Mlp m = models::mlp(g, {784, 64, 10}, 16);
  Function f = compile({m.X, m.labels}, {m.cost}, m.updates, CompileOptions{.plan_memory = false});
  passes::MemoryStats stats = passes::memory_stats(f.graph());
  CHECK(stats.arena == stats.no_reuse);
  CHECK(stats.in_place_results == 0);
  CHECK(stats.in_place_updates == 0);
}

TEST_CASE("in-place updates keep Theano's semantics: every update sees the old state", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {3, 3});
  Tensor a = g.shared("a", Array::from<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}));
  Tensor b = g.shared("b", Array::from<float>({9, 8, 7, 6, 5, 4, 3, 2, 1}, {3, 3}));
  Tensor c = g.shared("c", Array::from<float>({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3}));
  // a and b swap; c takes its own transpose plus a (old), and the outputs read old a and new c.
  Updates updates{{a, b}, {b, a}, {c, transpose(c) + a * x}};
  std::vector<Tensor> outputs{a, c + 1.0f, transpose(c) + a * x};
  Array xv = Array::uniform({3, 3}, -1, 1, 5);
  Array xv_before = xv.copy();
  auto run = [&](Backend backend) {
    a.set_value(Array::from<float>({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3}));
    b.set_value(Array::from<float>({9, 8, 7, 6, 5, 4, 3, 2, 1}, {3, 3}));
    c.set_value(Array::from<float>({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3}));
    Function f = compile({x}, outputs, updates, CompileOptions{.backend = backend});
    std::vector<Array> out = f({xv});
    std::vector<Array> second = f({xv});  // the first call's arrays must not change
    out.push_back(a.get_value());
    out.push_back(b.get_value());
    out.push_back(c.get_value());
    out.insert(out.end(), second.begin(), second.end());
    return out;
  };
  std::vector<Array> want = run(Backend::interpreter), got = run(Backend::jit);
  REQUIRE(want.size() == got.size());
  for (std::size_t k = 0; k < want.size(); ++k) {
    INFO("result " << k);
    CHECK(bit_identical(want[k], got[k]));
  }
  // After two swaps a is back where it started; the caller's input was only read.
  CHECK(got[3].to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(bit_identical(xv, xv_before));
}

TEST_CASE("a call that raises changes no shared variable, even when updates are planned in place", "[jit]") {
  Graph g;
  Tensor logits_in = g.input("logits", {4, 3});
  Tensor pick = g.input("pick", {4}, DType::i32);
  Tensor w = g.shared("w", Array::full({4, 3}, 1.0));
  // The labels are computed (and returned, so they live in an output buffer): they are checked when their
  // kernel runs.
  Tensor labels = cast(cast(pick, DType::f32) * 2.0f, DType::i32);
  Tensor cost = softmax_cross_entropy(logits_in * w, labels);
  Function f = compile({logits_in, pick}, {cost, labels}, {{w, w - grad(cost, {w})[0]}});
  Array x = Array::uniform({4, 3}, -1, 1, 2);
  f({x, Array::from<std::int32_t>({0, 1, 0, 1})});
  Array before = w.get_value();
  CHECK_THROWS_WITH(f({x, Array::from<std::int32_t>({0, 1, 2, 1})}), Catch::Contains("label 4 at row 2"));
  CHECK(bit_identical(w.get_value(), before));
}

TEST_CASE("call_into writes the caller's arrays and checks them", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {5});
  Tensor s = g.shared("s", Array::zeros({5}));
  Function f = compile({x}, {exp(x), x * 2.0f}, {{s, s + x}});
  Array xv = Array::from<float>({0, 1, 2, 3, 4});
  std::vector<Array> out{Array(DType::f32, {5}), Array(DType::f32, {5})};
  f.call_into({xv}, out);
  CHECK(out[1].to_vector<float>() == std::vector<float>{0, 2, 4, 6, 8});
  CHECK(out[0].get(1) == Approx(std::exp(1.0)).epsilon(1e-6));
  CHECK(s.get_value().to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4});

  std::vector<Array> wrong{Array(DType::f32, {4}), Array(DType::f32, {5})};
  CHECK_THROWS_WITH(f.call_into({xv}, wrong), Catch::Contains("output array 0 is f32[4], the output is f32[5]"));
  std::vector<Array> aliased{xv, Array(DType::f32, {5})};
  CHECK_THROWS_WITH(f.call_into({xv}, aliased), Catch::Contains("output array 0 shares its buffer with an input"));
  std::vector<Array> twice{out[0], out[0]};
  CHECK_THROWS_WITH(f.call_into({xv}, twice), Catch::Contains("output array 1 shares its buffer"));
  CHECK(s.get_value().to_vector<float>() == std::vector<float>{0, 1, 2, 3, 4});  // nothing ran
}

TEST_CASE("outputs that are parameters, constants or repeated values get copies of their own", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor s = g.shared("s", Array::from<float>({1, 2, 3}));
  Tensor y = x + 1.0f;
  Function f = compile({x}, {x, s, y, y, full_like(x, 7.0)}, {{s, y}});
  Array xv = Array::from<float>({1, 1, 1});
  std::vector<Array> out = f({xv});
  CHECK(out[0].raw() != xv.raw());
  CHECK(out[1].to_vector<float>() == std::vector<float>{1, 2, 3});  // the old value of s
  CHECK(out[2].raw() != out[3].raw());
  CHECK(out[3].to_vector<float>() == std::vector<float>{2, 2, 2});
  CHECK(out[4].to_vector<float>() == std::vector<float>{7, 7, 7});
  CHECK(s.get_value().to_vector<float>() == std::vector<float>{2, 2, 2});
  CHECK(f.ir().find("copy(%x)") != std::string::npos);
}

TEST_CASE("buffer annotations print and parse back") {
  Graph g;
  models::Mlp m = models::mlp(g, {20, 8, 4}, 5);
  Function f = compile({m.X, m.labels}, {m.cost}, m.updates);
  std::string text = f.ir();
  CHECK(text.find("@arena[") != std::string::npos);
  CHECK(text.find("@state(%W1)") != std::string::npos);
  CHECK(text.find("@output(0)") != std::string::npos);
  CHECK(text.find("%X: f32[5,20] @input") != std::string::npos);
  ir::Graph parsed = ir::parse(text);
  CHECK(ir::print(parsed) == text);
  ir::check_plan(parsed);
}

TEST_CASE("the plan checker rejects overlapping, clobbered and early-overwritten buffers") {
  const std::string good = R"(func @f(%x: f32[4] @input) state(%w: f32[4] @state) -> (f32[4]) {
  %0 = exp(%x) : f32[4] @arena[0:64]
  %1 = neg(%x) : f32[4] @arena[64:128]
  %2 = add(%0, %1) : f32[4] @output(0)
  %3 = mul(%w, %2) : f32[4] @state(%w)
  return %2
  update %w = %3
})";
  ir::check_plan(ir::parse(good));
  // Two values alive at once in the same bytes.
  std::string overlap = good;
  overlap.replace(overlap.find("@arena[64:128]"), 14, "@arena[0:64]");
  check_plan_rejects(overlap, "reads exp#0");
  // An update computed in place before a step that still reads the old value.
  check_plan_rejects(R"(func @f(%x: f32[4] @input) state(%w: f32[4] @state) -> (f32[4]) {
  %0 = mul(%w, %x) : f32[4] @state(%w)
  %1 = add(%w, %x) : f32[4] @output(0)
  return %1
  update %w = %0
})", "reads state#0");
  // A result written over an operand that is not read element for element (a transpose).
  check_plan_rejects(R"(func @f(%x: f32[4,4] @input) -> (f32[4,4]) {
  %0 = exp(%x) : f32[4,4] @arena[0:64]
  %1 = transpose(%0) {perm = [1, 0]} : f32[4,4] @arena[0:64]
  %2 = neg(%1) : f32[4,4] @output(0)
  return %2
})", "writes result 0 over operand 0");
  // A range too small for its value.
  check_plan_rejects(R"(func @f(%x: f32[32] @input) -> (f32[32]) {
  %0 = exp(%x) : f32[32] @arena[0:64]
  %1 = neg(%0) : f32[32] @output(0)
  return %1
})", "does not fit");
  // An output not in its output buffer.
  check_plan_rejects(R"(func @f(%x: f32[4] @input) -> (f32[4]) {
  %0 = exp(%x) : f32[4] @arena[0:64]
  return %0
})", "output 0 is not in its output buffer");
}

TEST_CASE("schedule keeps readers of a state's old value before its in-place update") {
  ir::Graph g = ir::parse(R"(func @f(%x: f32[64]) state(%w: f32[64]) -> (f32[]) {
  %0 = mul(%w, %x) : f32[64]
  %1 = sum(%w) {axes = [0], keepdims = 0} : f32[]
  %2 = add(%1, %1) : f32[]
  return %2
  update %w = %0
})");
  passes::PassContext ctx;
  passes::run_pipeline(g, "schedule,plan-memory", ctx);
  std::string text = ir::print(g);
  INFO(text);
  CHECK(text.find("sum(%w)") < text.find("mul(%w, %x)"));
  CHECK(text.find("@state(%w)") != std::string::npos);
}
