// The IR core: the op table, the verifier and the printer.

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "loom/ir/kernel_shape.h"
#include "loom/ir/printer.h"
#include "loom/ir/verifier.h"

using namespace loom;

TEST_CASE("every op in the table has a unique name that parses back") {
  for (int i = 0; i < ir::num_ops(); ++i) {
    auto op = static_cast<ir::OpKind>(i);
    INFO(ir::op_name(op));
    CHECK(ir::parse_op(ir::op_name(op)) == op);
  }
  CHECK_FALSE(ir::parse_op("no_such_op").has_value());
}

TEST_CASE("the verifier rejects a node whose recorded type disagrees with its operands") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor y = exp(x);
  ir::Graph fn = compile({x}, {y}, {}, CompileOptions{.opt = OptLevel::O0}).graph();
  CHECK_NOTHROW(ir::verify(fn));
  for (ir::NodeId id = 0; id < fn.num_nodes(); ++id)
    if (fn.node(id).op == ir::OpKind::exp) fn.node(id).results[0].shape = {4};
  CHECK_THROWS_WITH(ir::verify(fn, "test-pass"), Catch::Matchers::Contains("verifier (after test-pass): exp") &&
                                                     Catch::Matchers::Contains("records type f32[4] but its operands give f32[3]"));
}

TEST_CASE("a pipeline's verifier checks each kernel body once, and still catches a replaced body or kernel shape") {
  Graph g;
  Tensor x = g.input("x", {3});
  ir::Graph fn = compile({x}, {exp(x) * 2.0f}).graph();
  ir::NodeId fused = 0;
  while (fused < fn.num_nodes() && fn.node(fused).op != ir::OpKind::fused) ++fused;
  REQUIRE(fused < fn.num_nodes());
  ir::Node& n = fn.node(fused);
  ir::VerifiedBodies verified;
  CHECK_NOTHROW(ir::verify(fn, "fuse", &verified));
  CHECK(verified.contains(n));

  const auto body = n.body;
  const auto kernel = n.kernel;
  auto wrong_shape = std::make_shared<ir::KernelShape>(*kernel);
  wrong_shape->rows += 1;
  n.kernel = wrong_shape;
  CHECK_THROWS_WITH(ir::verify(fn, "later", &verified), Catch::Matchers::Contains("no longer describes its body"));

  n.kernel = kernel;
  n.attrs.set("kind", std::string("reduce"));
  CHECK_THROWS_WITH(ir::verify(fn, "later", &verified), Catch::Matchers::Contains("says kind = \"reduce\""));

  n.attrs.set("kind", std::string(ir::to_string(kernel->kind)));
  auto broken = std::make_shared<ir::Graph>(*body);
  for (ir::NodeId id = 0; id < broken->num_nodes(); ++id)
    if (broken->node(id).op == ir::OpKind::exp) broken->node(id).results[0].shape = {4};
  n.body = broken;
  CHECK_THROWS_WITH(ir::verify(fn, "later", &verified), Catch::Matchers::Contains("records type f32[4]"));

  n.body = body;
  CHECK_NOTHROW(ir::verify(fn, "later", &verified));
}

TEST_CASE("the verifier rejects updates of the wrong type and outputs that refer to dead nodes") {
  Graph g;
  Tensor x = g.input("x", {3});
  Tensor w = g.shared("w", Array::zeros({3}));
  ir::Graph fn = compile({x}, {x + w}, {{w, w * x}}, CompileOptions{.opt = OptLevel::O0}).graph();
  ir::Graph dead = fn;
  dead.node(dead.outputs[0].node).dead = true;
  CHECK_THROWS_WITH(ir::verify(dead), Catch::Matchers::Contains("an output refers to a missing value"));
  fn.updates[0].second = fn.outputs[0];
  fn.node(fn.outputs[0].node).results[0].dtype = DType::f64;
  CHECK_THROWS(ir::verify(fn));
}

TEST_CASE("the printer writes the signature, named values, attributes, types and locations") {
  Graph g;
  Tensor x = g.input("x", {2, 3});
  Tensor b = g.shared("bias", Array::zeros({3}, DType::f64));
  int line = __LINE__; Tensor s = softmax(cast(x, DType::f64) + b, 1).named("probs");
  std::string text =
      compile({x}, {s, argmax(s, 1)}, {{b, b * 0.5f}},
              CompileOptions{.opt = OptLevel::O0, .backend = Backend::interpreter, .name = "demo"})
          .ir();
  INFO(text);
  CHECK(text.rfind("func @demo(%x: f32[2,3]) state(%bias: f64[3]) -> (f64[2,3], i32[2]) {\n", 0) == 0);
  CHECK(text.find("%0 = cast(%x) {to = \"f64\"} : f64[2,3]") != std::string::npos);
  CHECK(text.find("%probs = softmax(%1) {axis = 1} : f64[2,3]") != std::string::npos);
  CHECK(text.find("loc(\"unit/ir_test.cpp\":" + std::to_string(line) + ")") != std::string::npos);
  CHECK(text.find("argmax(%probs) {axes = [1], keepdims = 0} : i32[2]") != std::string::npos);
  CHECK(text.find("constant() {value = 0.5} : f64[]") != std::string::npos);
  CHECK(text.find("  return %probs, %") != std::string::npos);
  CHECK(text.find("  update %bias = %") != std::string::npos);
  CHECK(text.substr(text.size() - 2) == "}\n");
}

TEST_CASE("floats print exactly and always look like floats") {
  CHECK(ir::format_float(1.0) == "1.0");
  CHECK(ir::format_float(-0.5) == "-0.5");
  CHECK(ir::format_float(1e-8) == "1e-08");
  CHECK(ir::format_float(0.1) == "0.1");
  CHECK(std::stod(ir::format_float(1.0 / 3.0)) == 1.0 / 3.0);
}
