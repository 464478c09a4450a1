// The LLVM kernel emitter against the reference interpreter: every elementwise op of the op table, f32 and
// f64, on sizes that exercise vector tails and on broadcasts that are not trailing; every reduction and row op.

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "compare.h"

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/llvm/jit.h"
#include "loom/ir/kernel_shape.h"
#include "loom/ir/printer.h"
#include "loom/runtime/array.h"

using namespace loom;
using loom::testing::check_close;
namespace lb = loom::codegen::llvm_backend;

namespace {

/// Runs a compiled loop kernel over all its rows, in `pieces` contiguous chunks.
std::vector<Array> run_kernel(lb::KernelFn fn, const ir::Graph& body, const std::vector<Array>& inputs, int pieces = 1) {
  std::vector<Array> outputs;
  std::vector<void*> buffers;
  for (const Array& a : inputs) buffers.push_back(const_cast<void*>(a.raw()));
  for (ir::Value v : body.outputs) {
    outputs.emplace_back(body.type(v).dtype, body.type(v).shape);
    buffers.push_back(outputs.back().raw());
  }
  std::int64_t rows = ir::describe_kernel(body).rows;
  for (int p = 0; p < pieces; ++p) fn(buffers.data(), rows * p / pieces, rows * (p + 1) / pieces);
  return outputs;
}

std::vector<Array> random_inputs(const ir::Graph& body, bool positive, std::uint64_t seed) {
  std::vector<Array> inputs;
  for (std::size_t i = 0; i < body.inputs.size(); ++i) {
    const TensorType& t = body.node(body.inputs[i]).results[0];
    Array u = Array::uniform(t.shape, positive ? 0.25 : -3.0, 3.0, seed + i, DType::f64);
    Array a(t.dtype, t.shape);
    for (std::int64_t k = 0; k < a.size(); ++k) a.set(k, t.dtype == DType::b8 ? (u.get(k) > 0 ? 1 : 0) : u.get(k));
    inputs.push_back(a);
  }
  return inputs;
}


/// A body with one node of `op` over parameters of the given types.
ir::Graph single_op_body(const std::string& name, ir::OpKind op, const std::vector<TensorType>& params, ir::Attrs attrs) {
  ir::Graph body(name);
  std::vector<ir::Value> operands;
  for (std::size_t i = 0; i < params.size(); ++i) {
    ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {params[i]}, SourceLoc{}, "p" + std::to_string(i));
    body.inputs.push_back(id);
    operands.push_back({id, 0});
  }
  body.outputs.push_back({body.add_node(op, operands, attrs, SourceLoc{}), 0});
  return body;
}

const std::vector<std::vector<Shape>> kShapes = {
    {{1}, {1}}, {{3}, {3}}, {{7}, {7}}, {{17}, {17}}, {{64}, {64}}, {{1023}, {1023}},
    {{5, 1, 7}, {5, 3, 7}},   // a broadcast that is not trailing
    {{3, 1}, {1, 17}},        // both sides broadcast
    {{}, {1023}},             // a scalar
};

}  // namespace

TEST_CASE("every elementwise op compiled by LLVM matches the interpreter in f32 and f64") {
  std::vector<ir::Graph> bodies;
  std::vector<bool> positive;
  for (int i = 0; i < ir::num_ops(); ++i) {
    auto op = static_cast<ir::OpKind>(i);
    const ir::OpInfo& info = ir::op_info(op);
    // Random ops read the step counter, not numbers: tests/unit/dropout_test.cpp checks their bits on the JIT.
    if (info.category != ir::OpCategory::Elementwise || info.has(ir::trait::Random)) continue;
    for (DType dtype : {DType::f32, DType::f64})
      for (const auto& shapes : kShapes) {
        std::vector<TensorType> params;
        for (int k = 0; k < info.arity; ++k) params.push_back({dtype, shapes[static_cast<std::size_t>(k) % shapes.size()]});
        ir::Attrs attrs;
        if (info.has(ir::trait::Select)) params[0].dtype = DType::b8;
        if (info.has(ir::trait::Cast)) attrs.set("to", std::string(dtype == DType::f32 ? "i32" : "f32"));
        if (op == ir::OpKind::leaky_relu) attrs.set("alpha", 0.2);
        if (op == ir::OpKind::elu) attrs.set("alpha", 0.7);
        bodies.push_back(single_op_body("k" + std::to_string(bodies.size()), op, params, attrs));
        positive.push_back(op == ir::OpKind::log || op == ir::OpKind::sqrt || op == ir::OpKind::rsqrt ||
                           op == ir::OpKind::pow || op == ir::OpKind::log1p);
      }
  }
  std::vector<lb::KernelSource> pointers;
  for (const auto& b : bodies) pointers.emplace_back(&b);
  auto module = lb::KernelModule::compile(pointers, {.want_text = true});
  for (std::size_t k = 0; k < bodies.size(); ++k) {
    const ir::Graph& body = bodies[k];
    const ir::Node& node = body.node(body.outputs[0]);
    INFO(ir::op_name(node.op) << " on " << body.node(body.inputs[0]).results[0].str());
    std::vector<Array> inputs = random_inputs(body, positive[k], 17 + k);
    std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
    std::vector<Array> got = run_kernel(module->lookup(body.name()), body, inputs);
    // f32: 1e-5 relative (glibc's libmvec is within 4 ulp); f64: 1e-12.
    bool single = node.results[0].dtype == DType::f32 || body.type(node.operands[0]).dtype == DType::f32;
    check_close(want[0], got[0], single ? 1e-5 : 1e-12, single ? 1e-6 : 1e-14);
  }
  // The loops vectorize and exp goes to the vector math library (libmvec: _ZGV<isa>N<lanes>v_expf; with
  // LOOM_VECLIB=sleef: Sleef_expf<lanes>_u10; which
  // width the cost model picks on this CPU is a tuning question for the benchmarks).
  const std::string& ir = module->llvm_ir();
  CHECK((ir.find("v_expf(<") != std::string::npos || ir.find("Sleef_expf") != std::string::npos));
  CHECK(module->llvm_ir().find("vector.body") != std::string::npos);
}

TEST_CASE("a fused loop body with transposes, broadcasts, constants and two outputs compiles and matches") {
  ir::Graph body("chain");
  auto param = [&](const char* name, TensorType t) {
    ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {t}, SourceLoc{}, name);
    body.inputs.push_back(id);
    return ir::Value{id, 0};
  };
  ir::Value x = param("x", {DType::f32, {17, 9}}), bias = param("bias", {DType::f32, {17}});
  auto node = [&](ir::OpKind op, std::vector<ir::Value> operands, ir::Attrs attrs = {}) {
    return ir::Value{body.add_node(op, std::move(operands), std::move(attrs), SourceLoc{}), 0};
  };
  ir::Value xt = node(ir::OpKind::transpose, {x}, {{"perm", std::vector<std::int64_t>{1, 0}}});  // [9,17]
  ir::Value bb = node(ir::OpKind::broadcast_to, {bias}, {{"shape", std::vector<std::int64_t>{9, 17}}});
  ir::Value two = {body.add_typed_node(ir::OpKind::constant, {}, {{"value", 2.0}}, {{DType::f32, {}}}, SourceLoc{}), 0};
  ir::Value s = node(ir::OpKind::sigmoid, {node(ir::OpKind::add, {xt, bb})});
  ir::Value t = node(ir::OpKind::mul, {s, node(ir::OpKind::sub, {two, s})});
  body.outputs = {s, t};
  auto module = lb::KernelModule::compile({&body});
  std::vector<Array> inputs = random_inputs(body, false, 3);
  std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
  std::vector<Array> whole = run_kernel(module->lookup("chain"), body, inputs, 1);
  std::vector<Array> split = run_kernel(module->lookup("chain"), body, inputs, 4);
  for (int k = 0; k < 2; ++k) {
    check_close(want[static_cast<std::size_t>(k)], whole[static_cast<std::size_t>(k)], 1e-5, 1e-6);
    // Rows are independent: any split over threads gives the same bits.
    CHECK(std::memcmp(whole[static_cast<std::size_t>(k)].raw(), split[static_cast<std::size_t>(k)].raw(),
                      whole[static_cast<std::size_t>(k)].nbytes()) == 0);
  }
}

TEST_CASE("a loop kernel's inner loop runs over the last axes on which every value is whole or broadcast") {
  struct Case {
    Shape operand;                        // the second operand of add(x [3, 4, 5, 6], ·)
    bool transpose_x;                     // x read through a transpose of [3, 4, 6, 5] instead: a layout op that moves elements
    std::size_t tail;                     // the first axis of the merged run
    std::int64_t rows;
  };
  const Case cases[] = {
      {{1, 4, 1, 1}, false, 2, 12},  // batch norm's per-channel operand: one loop over H·W
      {{4, 1, 1}, false, 2, 12},     // the same, aligned right
      {{3, 4, 5, 6}, false, 0, 1},   // whole everywhere: one loop over everything
      {{3, 4, 5, 1}, false, 3, 60},  // broadcast along W only: W alone
      {{1, 4, 1, 6}, false, 3, 60},  // mixed over H and W
      {{1, 4, 1, 1}, true, 3, 60},   // a transpose reads elsewhere: W alone
  };
  for (const Case& c : cases) {
    ir::Graph body("tail");
    auto param = [&](const char* name, Shape shape) {
      ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {{DType::f32, shape}}, SourceLoc{}, name);
      body.inputs.push_back(id);
      return ir::Value{id, 0};
    };
    ir::Value x = param("x", c.transpose_x ? Shape{3, 4, 6, 5} : Shape{3, 4, 5, 6}), y = param("y", c.operand);
    if (c.transpose_x)
      x = {body.add_node(ir::OpKind::transpose, {x}, {{"perm", std::vector<std::int64_t>{0, 1, 3, 2}}}, SourceLoc{}), 0};
    ir::Value sum = {body.add_node(ir::OpKind::add, {x, y}, {}, SourceLoc{}), 0};
    body.outputs = {{body.add_node(ir::OpKind::tanh, {sum}, {}, SourceLoc{}), 0}};
    INFO(loom::to_string(c.operand) << (c.transpose_x ? " with a transpose" : ""));
    ir::KernelShape shape = ir::describe_kernel(body);
    CHECK(shape.tail == c.tail);
    CHECK(shape.rows == c.rows);
    auto module = lb::KernelModule::compile({&body});
    std::vector<Array> inputs = random_inputs(body, false, 5);
    std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
    std::vector<Array> whole = run_kernel(module->lookup("tail"), body, inputs, 1);
    check_close(want[0], whole[0], 1e-5, 1e-6);
    if (c.rows > 1) {  // rows are independent: any split gives the same bits
      std::vector<Array> split = run_kernel(module->lookup("tail"), body, inputs, 5);
      CHECK(std::memcmp(whole[0].raw(), split[0].raw(), whole[0].nbytes()) == 0);
    }
  }
}

TEST_CASE("a kernel rejects ops that kernels cannot contain, naming them and the user's line") {
  ir::Graph body("bad");
  ir::NodeId x = body.add_typed_node(ir::OpKind::input, {}, {}, {{DType::f32, {4, 4}}}, SourceLoc{}, "x");
  body.inputs.push_back(x);
  body.outputs.push_back({body.add_node(ir::OpKind::matmul, {{x, 0}, {x, 0}}, {}, SourceLoc{"model.cpp", 7}), 0});
  CHECK_THROWS_WITH(lb::KernelModule::compile({&body}),
                    Catch::Matchers::Contains("kernel bad is not one kernel: a matmul kernel is a matmul, a bias add") &&
                        Catch::Matchers::Contains("model.cpp:7"));
}

namespace {

/// A body computing root(producer(x, y)) where the producer exp(x) * y is also an output.
ir::Graph reduce_body(const std::string& name, ir::OpKind root, const Shape& shape, DType dtype, ir::Attrs attrs,
                      bool with_labels = false) {
  ir::Graph body(name);
  auto param = [&](const char* n, TensorType t) {
    ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {t}, SourceLoc{}, n);
    body.inputs.push_back(id);
    return ir::Value{id, 0};
  };
  ir::Value x = param("x", {dtype, shape}), y = param("y", {dtype, shape});
  ir::Value e = {body.add_node(ir::OpKind::exp, {x}, {}, SourceLoc{}), 0};
  ir::Value p = {body.add_node(ir::OpKind::mul, {e, y}, {}, SourceLoc{}), 0};
  std::vector<ir::Value> operands{p};
  if (with_labels) operands.push_back(param("labels", {DType::i32, Shape(shape.begin(), shape.end() - 1)}));
  ir::Value r = {body.add_node(root, operands, attrs, SourceLoc{}), 0};
  body.outputs = {p, r};
  return body;
}

}  // namespace

TEST_CASE("reduction and row kernels compiled by LLVM match the interpreter, extra outputs included") {
  using V = std::vector<std::int64_t>;
  std::vector<ir::Graph> bodies;
  for (DType dtype : {DType::f32, DType::f64}) {
    for (ir::OpKind op : {ir::OpKind::sum, ir::OpKind::max, ir::OpKind::min, ir::OpKind::logsumexp}) {
      for (const auto& [shape, axes] : std::vector<std::pair<Shape, V>>{
               {{1023}, {}}, {{5, 7}, {1}}, {{5, 7}, {0}}, {{3, 4, 17}, {0, 2}}, {{2, 3, 4}, {}}, {{1, 1}, {1}}})
        for (std::int64_t keep : {0, 1})
          bodies.push_back(reduce_body("r" + std::to_string(bodies.size()), op, shape, dtype,
                                       {{"axes", axes}, {"keepdims", keep}}));
    }
    for (const auto& [shape, axis] : std::vector<std::pair<Shape, std::int64_t>>{{{7}, 0}, {{4, 9}, 1}, {{4, 9}, 0}, {{2, 3, 5}, 1}}) {
      bodies.push_back(reduce_body("a" + std::to_string(bodies.size()), ir::OpKind::argmax, shape, dtype,
                                   {{"axes", V{axis}}, {"keepdims", std::int64_t{0}}}));
      bodies.push_back(reduce_body("s" + std::to_string(bodies.size()), ir::OpKind::softmax, shape, dtype, {{"axis", axis}}));
      bodies.push_back(reduce_body("l" + std::to_string(bodies.size()), ir::OpKind::log_softmax, shape, dtype, {{"axis", axis}}));
    }
    for (const Shape& shape : {Shape{6, 10}, Shape{1, 3}, Shape{2, 3, 4}})
      bodies.push_back(reduce_body("x" + std::to_string(bodies.size()), ir::OpKind::softmax_cross_entropy, shape, dtype, {}, true));
  }
  std::vector<lb::KernelSource> pointers;
  for (const auto& b : bodies) pointers.emplace_back(&b);
  auto module = lb::KernelModule::compile(pointers);
  for (std::size_t k = 0; k < bodies.size(); ++k) {
    const ir::Graph& body = bodies[k];
    const ir::Node& root = body.node(body.outputs[1]);
    INFO(ir::op_name(root.op) << " " << ir::format_attrs(root.attrs) << " of " << body.type(root.operands[0]).str());
    std::vector<Array> inputs = random_inputs(body, false, 5 + k);
    if (root.op == ir::OpKind::softmax_cross_entropy)
      for (std::int64_t i = 0; i < inputs[2].size(); ++i) inputs[2].set(i, i % body.type(root.operands[0]).shape.back());
    std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
    std::vector<Array> got = run_kernel(module->lookup(body.name()), body, inputs, 3);
    bool single = root.results[0].dtype != DType::f64 && body.type(root.operands[0]).dtype == DType::f32;
    for (std::size_t out = 0; out < 2; ++out) check_close(want[out], got[out], single ? 1e-5 : 1e-12, single ? 1e-6 : 1e-13);
  }
}

TEST_CASE("the disk cache serves a second compile and never loads a corrupted or truncated entry") {
  auto dir = std::filesystem::temp_directory_path() / "loom-cache-test";
  std::filesystem::remove_all(dir);
  ::setenv("LOOM_CACHE_DIR", dir.c_str(), 1);
  ir::Graph body = single_op_body("cached", ir::OpKind::tanh, {{DType::f32, {257}}}, {});
  std::vector<Array> inputs = random_inputs(body, false, 9);
  std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
  auto compile_and_check = [&](bool expect_cached) {
    auto module = lb::KernelModule::compile({&body});
    CHECK(module->from_cache() == expect_cached);
    check_close(want[0], run_kernel(module->lookup("cached"), body, inputs)[0], 1e-5, 1e-6);
  };
  compile_and_check(false);
  compile_and_check(true);
  REQUIRE(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()) == 1);
  std::filesystem::path entry = std::filesystem::directory_iterator(dir)->path();
  auto size = std::filesystem::file_size(entry);

  {  // flip one byte in the middle of the object
    std::fstream f(entry, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(size / 2));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  compile_and_check(false);  // detected, recompiled, replaced
  compile_and_check(true);
  std::filesystem::resize_file(entry, size - 100);
  compile_and_check(false);  // truncated: detected too
  compile_and_check(true);
  ::unsetenv("LOOM_CACHE_DIR");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a result stored over an operand in place does not change what the kernel's other results read") {
  // ir/kernel_shape.h: an emitted kernel reads every operand element a result element needs before it stores any
  // result element, which ir::check_plan relies on. Here y0 = 2z is stored over x, which y0 does not read but y1
  // = x + 1 does: y1 must still see the old x.
  ir::Graph body("inplace");
  auto param = [&](const char* name) {
    ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {{DType::f32, {4, 1000}}}, SourceLoc{}, name);
    body.inputs.push_back(id);
    return ir::Value{id, 0};
  };
  ir::Value x = param("x"), z = param("z");
  auto constant = [&](double v) {
    return ir::Value{body.add_typed_node(ir::OpKind::constant, {}, {{"value", v}}, {{DType::f32, {}}}, SourceLoc{}), 0};
  };
  ir::Value y0 = {body.add_node(ir::OpKind::mul, {z, constant(2.0)}, {}, SourceLoc{}), 0};
  ir::Value y1 = {body.add_node(ir::OpKind::add, {x, constant(1.0)}, {}, SourceLoc{}), 0};
  body.outputs = {y0, y1};
  ir::KernelShape shape = ir::describe_kernel(body);
  REQUIRE(shape.read_at_store_index.count(x) == 1);  // the plan may put y0 over x
  auto module = lb::KernelModule::compile({lb::KernelSource(&body, shape, {0, -1})});
  std::vector<Array> inputs = random_inputs(body, false, 5);
  std::vector<Array> old_inputs{inputs[0].copy(), inputs[1].copy()};
  std::vector<Array> want = codegen::make_interpreter(body)->run(old_inputs, {});
  Array unused(DType::f32, {4, 1000}), second(DType::f32, {4, 1000});
  std::vector<void*> buffers{inputs[0].raw(), inputs[1].raw(), unused.raw(), second.raw()};
  lb::KernelFn fn = module->lookup("inplace");
  for (int piece = 0; piece < 3; ++piece) fn(buffers.data(), shape.rows * piece / 3, shape.rows * (piece + 1) / 3);
  check_close(want[0], inputs[0], 0, 0);  // y0, in x's buffer
  check_close(want[1], second, 0, 0);     // y1, from the old x
}

TEST_CASE("several reductions share one pass, and values computed from their results run once per row") {
  for (DType dtype : {DType::f32, DType::f64}) {
    ir::Graph body("multi");
    auto param = [&](const char* name, Shape shape) {
      ir::NodeId id = body.add_typed_node(ir::OpKind::input, {}, {}, {{dtype, shape}}, SourceLoc{}, name);
      body.inputs.push_back(id);
      return ir::Value{id, 0};
    };
    auto node = [&](ir::OpKind op, std::vector<ir::Value> operands, ir::Attrs attrs = {}) {
      return ir::Value{body.add_node(op, std::move(operands), std::move(attrs), SourceLoc{}), 0};
    };
    ir::Value x = param("x", {6, 33}), y = param("y", {6, 33}), c = param("c", {6});
    ir::Attrs over_rows{{"axes", std::vector<std::int64_t>{1}}, {"keepdims", std::int64_t{0}}};
    ir::Value product = node(ir::OpKind::mul, {x, y});
    ir::Value total = node(ir::OpKind::sum, {product}, over_rows);
    ir::Value peak = node(ir::OpKind::max, {x}, over_rows);
    ir::Value where = node(ir::OpKind::argmax, {y}, over_rows);
    ir::Value epilogue = node(ir::OpKind::add, {node(ir::OpKind::sub, {node(ir::OpKind::abs, {total}), peak}), c});
    body.outputs = {product, total, epilogue, where};
    auto module = lb::KernelModule::compile({&body});
    std::vector<Array> inputs = random_inputs(body, false, 21);
    std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
    std::vector<Array> got = run_kernel(module->lookup("multi"), body, inputs, 2);
    for (std::size_t k = 0; k < want.size(); ++k)
      check_close(want[k], got[k], dtype == DType::f32 ? 1e-5 : 1e-12, dtype == DType::f32 ? 1e-6 : 1e-13);
  }
}

TEST_CASE("every layout op compiled by LLVM matches the interpreter on sizes from 1 to 1023") {
  using V = std::vector<std::int64_t>;
  std::vector<ir::Graph> bodies;
  auto add = [&](ir::OpKind op, std::vector<TensorType> params, ir::Attrs attrs) {
    bodies.push_back(single_op_body("lay" + std::to_string(bodies.size()), op, params, attrs));
  };
  for (DType dtype : {DType::f32, DType::f64})
    for (std::int64_t n : {1, 3, 7, 17, 64, 1023}) {
      add(ir::OpKind::transpose, {{dtype, {3, n}}}, {{"perm", V{1, 0}}});
      add(ir::OpKind::reshape, {{dtype, {n, 2}}}, {{"shape", V{2, n}}});
      add(ir::OpKind::broadcast_to, {{dtype, {n, 1}}}, {{"shape", V{2, n, 5}}});
      add(ir::OpKind::slice, {{dtype, {2, n}}}, {{"begin", V{1, 0}}, {"end", V{2, n}}, {"step", V{1, n > 2 ? 2 : 1}}});
      add(ir::OpKind::pad, {{dtype, {n, 2}}}, {{"low", V{1, 0}}, {"high", V{2, 1}}, {"interior", V{1, 0}}});
      add(ir::OpKind::concat, {{dtype, {2, n}}, {dtype, {2, 3}}, {dtype, {2, n}}}, {{"axis", std::int64_t{1}}});
      add(ir::OpKind::one_hot, {{DType::i32, {n}}}, {{"depth", std::int64_t{5}}, {"dtype", std::string(to_string(dtype))}});
    }
  std::vector<lb::KernelSource> pointers;
  for (const auto& b : bodies) pointers.emplace_back(&b);
  auto module = lb::KernelModule::compile(pointers);
  for (std::size_t k = 0; k < bodies.size(); ++k) {
    const ir::Graph& body = bodies[k];
    INFO(ir::op_name(body.node(body.outputs[0]).op) << " on " << body.node(body.inputs[0]).results[0].str());
    std::vector<Array> inputs = random_inputs(body, false, 40 + k);
    if (body.node(body.outputs[0]).op == ir::OpKind::one_hot)  // indices in and out of range
      for (std::int64_t i = 0; i < inputs[0].size(); ++i) inputs[0].set(i, static_cast<double>(i % 7) - 1.0);
    std::vector<Array> want = codegen::make_interpreter(body)->run(inputs, {});
    std::vector<Array> got = run_kernel(module->lookup(body.name()), body, inputs, 3);
    REQUIRE(want[0].nbytes() == got[0].nbytes());
    CHECK(std::memcmp(want[0].raw(), got[0].raw(), want[0].nbytes()) == 0);  // data movement is exact
  }
}
