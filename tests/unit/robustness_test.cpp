// Issue #12's inputs from a hostile or careless user: each ends in a loom::Error that names what is wrong (or in a
// correct result), never in a signal, another exception type or a wrong size.

#include <cmath>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "error_of.h"

#include "loom/ir/parser.h"
#include "loom/ir/verifier.h"
#include "loom/passes/pass.h"

using namespace loom;
using loom::testing::error_of;
using Catch::Matchers::Contains;

namespace {

/// Parses, verifies and runs the O2 pipeline over `text` (a function with one input %x: f32[3]).
void compile_ir(const std::string& body, const std::string& signature = "func @f(%x: f32[3]) -> (f32[3])") {
  ir::Graph g = ir::parse(signature + " {\n" + body + "\n}\n", "hostile.loom");
  ir::verify(g);
  passes::PassContext context;
  passes::run_pipeline(g, "O2", context);
}

}  // namespace

TEST_CASE("IR attributes are checked against the op table's schema") {
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) : f32[3]\n  return %0"); }), Contains("grad: missing attribute 'num_wrt'"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) {num_wrt = -1} : f32[3]\n  return %0"); }),
             Contains("grad: attribute 'num_wrt' = -1 is outside [0, inf]"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) {num_wrt = 1, num_known = 3} : f32[3]\n  return %0"); }),
             Contains("grad: has 1 operands, fewer than"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) {num_wrt = 1, disconnected = \"maybe\"} : f32[3]\n  return %0"); }),
             Contains("grad: attribute 'disconnected' = \"maybe\" is not one of raise|zero"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = constant() : f32[3]\n  return %0"); }), Contains("constant: missing attribute 'value'"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = exp(%x) {alpha = 2.0} : f32[3]\n  return %0"); }),
             Contains("exp: unknown attribute 'alpha' (it takes: none)"));
  CHECK_THAT(error_of([] { compile_ir("  %0 = leaky_relu(%x) {alpha = \"big\"} : f32[3]\n  return %0"); }),
             Contains("leaky_relu: attribute 'alpha' must be a number"));
  CHECK_THAT(error_of([] {
               compile_ir("  %s = constant() {value = 1.0} : f32[]\n  %0 = concat(%s, %s) {axis = 0} : f32[2]\n  return %x");
             }),
             Contains("concat: cannot concatenate scalars"));
  // The error points at the line of the IR text.
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) : f32[3]\n  return %0"); }), Contains("hostile.loom:2"));
}

TEST_CASE("sizes that overflow or are negative are errors naming the op, not wrong shapes") {
  CHECK_THAT(error_of([] { compile_ir("  return %x", "func @f(%x: f32[9223372036854775807]) -> (f32[9223372036854775807])"); }),
             Contains("hostile.loom:1:12: impossible type: f32[9223372036854775807] would take more than 2^60 bytes"));
  CHECK_THAT(error_of([] { compile_ir("  return %x", "func @f(%x: f32[-3]) -> (f32[-3])"); }),
             Contains("f32[-3] has a negative dimension"));
  CHECK_THAT(error_of([] {
               compile_ir("  %0 = pad(%x) {low = [9223372036854775807], high = [0], interior = [0]} : f32[1]\n  return %0");
             }),
             Contains("pad: padding dimension 0 by 9223372036854775807, 0 and 0 between elements overflows"));
  CHECK_THAT(error_of([] {
               compile_ir("  %0 = concat(%x, %x) {axis = 0} : f32[6]\n  %1 = slice(%0) {begin = [0], end = [9223372036854775807], step = [1]} : f32[1]\n  return %x");
             }),
             Contains("slice [0:9223372036854775807:1] is out of range"));

  Graph g;
  Tensor x = g.input("x", {3});
  Tensor one = g.input("one", {1});
  CHECK_THAT(error_of([&] { broadcast_to(one, {std::int64_t{1} << 32, std::int64_t{1} << 32}); }),
             Contains("broadcast_to: its result f32[4294967296,4294967296] would take more than 2^60 bytes"));
  CHECK_THAT(error_of([&] { broadcast_to(one, {-3}); }), Contains("broadcast_to"));
  CHECK_THAT(error_of([&] { g.input("neg", {-3}); }), Contains("input: 'neg' has a negative dimension in [-3]"));
  CHECK_THAT(error_of([] { Array::zeros({std::int64_t{1} << 61, 2}); }), Contains("would take more than 2^60 bytes"));
  CHECK_THAT(error_of([] { Array::zeros({std::int64_t{1} << 58}, DType::f64); }), Contains("would take more than 2^60 bytes"));
  CHECK_THAT(error_of([&] { one_hot(g.input("k", {2}, DType::i32), std::int64_t{1} << 61); }),
             Contains("one_hot: its result f32[2,2305843009213693952] would take more than 2^60 bytes"));
  CHECK(x.type().str() == "f32[3]");
}

TEST_CASE("an allocation that fails is a loom::Error naming the bytes and the type") {
  // 2^44 bytes (16 TiB): representable, but no machine of this project has it.
  CHECK_THAT(error_of([] { Array::zeros({std::int64_t{1} << 42}); }), Contains("Array: cannot allocate 17592186044416 bytes for f32[4398046511104]"));
}

TEST_CASE("options that would kill the process, and a Function never compiled, are errors") {
  Graph g;
  Tensor x = g.input("x", {4});
  CHECK_THAT(error_of([&] { compile({x}, {exp(x)}, {}, {.threads = 65536}); }), Contains("compile: threads = 65536 is outside [0, 1024]"));
  CHECK_THAT(error_of([&] { compile({x}, {exp(x)}, {}, {.threads = -1}); }), Contains("threads = -1"));
  Function never;
  CHECK_THAT(error_of([&] { never({Array::zeros({4})}); }), Contains("this Function was never compiled"));
  CHECK_THAT(error_of([&] { never.ir(); }), Contains("this Function was never compiled"));
  CHECK_THAT(error_of([&] { compile({x}, {}); }), Contains("compile: nothing to compute (no outputs and no updates)"));
}

TEST_CASE("unwritable dump directories, bad pipelines and bad names are loom::Errors") {
  Graph g;
  Tensor x = g.input("x", {4});
  std::string file = (std::filesystem::temp_directory_path() / "loom-robustness-file").string();
  std::ofstream(file) << "a file, not a directory";
  CHECK_THAT(error_of([&] { compile({x}, {exp(x)}, {}, {.dump_dir = file}); }), Contains("cannot write IR dumps to " + file));
  CHECK_THAT(error_of([&] { compile({x}, {exp(x)}, {}, {.pipeline = "fixpoint<99999999999999999>(cse)"}); }),
             Contains("the round limit must be at most 1000"));
  CHECK_THAT(error_of([&] { compile({x}, {exp(x)}, {}, {.name = "../../escaped"}); }),
             Contains("the function name '../../escaped' is not letters, digits"));
  CHECK_THAT(error_of([&] { g.input("say \"hi\"\n", {2}); }), Contains("input: the name 'say \"hi\"\n' is not letters"));
  CHECK_THAT(error_of([&] { g.shared("", Array::zeros({2})); }), Contains("state: the name '' is not letters"));
}

TEST_CASE("reshape names the shape the user wrote, and a batched matmul over zero batches works on both backends", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {2, 3});
  CHECK_THAT(error_of([&] { reshape(x, {-1, -1}); }), Contains("reshape: [-1,-1] has more than one -1"));
  Tensor a = g.input("a", {0, 2, 3}), b = g.input("b", {0, 3, 4});
  for (Backend backend : {Backend::jit, Backend::interpreter}) {
    Function f = compile({a, b}, {matmul(a, b)}, {}, {.backend = backend});
    std::vector<Array> out = f({Array::zeros({0, 2, 3}), Array::zeros({0, 3, 4})});
    CHECK(out[0].shape() == Shape{0, 2, 4});
  }
}

TEST_CASE("deep graphs: an 8,000-op chain compiles and runs, and nesting beyond the parser's limit is an error", "[jit]") {
  Graph g;
  Tensor x = g.input("x", {4});
  Tensor h = x;
  for (int i = 0; i < 8000; ++i) h = tanh(h) + 0.5f;
  std::vector<float> got = compile({x}, {h})({Array::full({4}, 0.25)})[0].to_vector<float>();
  float expected = 0.25f;
  for (int i = 0; i < 8000; ++i) expected = std::tanh(expected) + 0.5f;
  CHECK(got[3] == Approx(expected).epsilon(1e-5));

  std::string text = "func @f(%x: f32[3]) -> (f32[3]) {\n";
  for (int depth = 0; depth < 100; ++depth)
    text += "  %0 = fused(%x) {kernel = \"k\", kind = \"loop\"} : f32[3] {\nfunc @k(%x: f32[3]) -> (f32[3]) {\n";
  CHECK_THAT(error_of([&] { ir::parse(text, "nested.loom"); }), Contains("bodies nested more than 64 deep"));
}

TEST_CASE("a memory plan whose intermediates add up to more than 2^60 bytes is an error, not a wrapped offset", "[jit]") {
  // Each value is 2^59 bytes (allowed), twenty of them alive at once would overflow 64-bit offsets.
  Graph g;
  Tensor x = g.input("x", {std::int64_t{1} << 57});
  std::vector<Tensor> parts;
  for (int k = 0; k < 20; ++k) parts.push_back(Tensor(x * static_cast<float>(k + 2)).no_fuse());
  Tensor total = parts[0];
  for (int k = 1; k < 20; ++k) total = total + parts[static_cast<std::size_t>(k)];
  CHECK_THAT(error_of([&] { compile({x}, {total}); }),
             Contains("plan-memory: the intermediates of @main need more than 2^60 bytes in all"));
}

TEST_CASE("deep graphs: a 1,500-link chain's gradient splits into bounded kernels and matches f64", "[jit]") {
  // 4,500 ops forward and about twice that backward: several windows of fuse's program order and far more than
  // one kernel's worth of ops, so kernels are cut by both bounds and the backward kernels read forward values
  // stored by other kernels. Each link's derivative is near 1, so the gradient neither vanishes nor explodes.
  // Compiled with 2 threads, the kernels are compiled in parts on 2 threads; with 1, as one module: the same bits.
  constexpr int kLinks = 1500;
  Graph g;
  Tensor x = g.input("x", {5});
  Tensor w = g.shared("w", Array::from(std::vector<float>{0.1f, -0.2f, 0.3f, 0.05f, -0.4f}));
  Tensor h = x * w;
  for (int i = 0; i < kLinks; ++i) h = h + 0.001f * tanh(h);
  Tensor cost = sum(h);
  Function step = compile({x}, {cost, grad(cost, {w})[0]}, {}, {.threads = 2});
  std::vector<float> xs{0.5f, -1.0f, 0.25f, 2.0f, -0.75f}, ws{0.1f, -0.2f, 0.3f, 0.05f, -0.4f};
  std::vector<Array> out = step({Array::from(xs)});
  std::vector<Array> one_thread = compile({x}, {cost, grad(cost, {w})[0]}, {}, {.threads = 1})({Array::from(xs)});
  CHECK(one_thread[0].to_vector<float>() == out[0].to_vector<float>());
  CHECK(one_thread[1].to_vector<float>() == out[1].to_vector<float>());
  std::vector<float> dw = out[1].to_vector<float>();
  double expected_cost = 0;
  for (std::size_t k = 0; k < xs.size(); ++k) {  // forward and backward of the same chain in f64
    std::vector<double> t(kLinks);
    double v = double(xs[k]) * ws[k];
    for (int i = 0; i < kLinks; ++i) v += 0.001 * (t[i] = std::tanh(v));
    expected_cost += v;
    double d = 1;
    for (int i = kLinks - 1; i >= 0; --i) d *= 1 + 0.001 * (1 - t[i] * t[i]);
    INFO("element " << k);
    CHECK(dw[k] == Approx(d * xs[k]).epsilon(1e-4));
  }
  CHECK(out[0].to_vector<float>()[0] == Approx(expected_cost).epsilon(1e-4));

  std::size_t kernels = 0;
  for (ir::NodeId id = 0; id < step.graph().num_nodes(); ++id) {
    const ir::Node& n = step.graph().node(id);
    if (n.dead || n.op != ir::OpKind::fused) continue;
    ++kernels;
    std::size_t ops = 0;
    for (ir::NodeId b = 0; b < n.body->num_nodes(); ++b)
      ops += !n.body->node(b).dead && n.body->node(b).info().category != ir::OpCategory::Param &&
             n.body->node(b).op != ir::OpKind::constant;
    CHECK(ops <= 256);
  }
  CHECK(kernels >= 4500 / 256);
}

TEST_CASE("inputs the fuzzer found: a grad with no results declared with one, and arrays from empty vectors") {
  // A grad with num_wrt = 0 has no results; the parser's message used to read the first of them (a segfault).
  CHECK_THAT(error_of([] { compile_ir("  %0 = grad(%x) {num_wrt = 0} : f32[3]\n  return %x"); }),
             Contains("%0 is declared f32[3] but its operands give ()"));
  // Array::from copied from an empty vector's data(), which may be null (undefined behaviour UBSan reports).
  Array empty = Array::from(std::vector<double>{}, {0, 7});
  CHECK(empty.shape() == Shape{0, 7});
  CHECK(empty.nbytes() == 0);
}
