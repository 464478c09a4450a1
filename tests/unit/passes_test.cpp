// The pass manager and the rewrite passes: every rule fires where it should and keeps the interpreter's values,
// the bisect limit isolates single rewrites, and O2 agrees with O0 on every op.

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <catch2/catch.hpp>
#include <loom/loom.h>

#include "loom/codegen/interpreter/interpreter.h"
#include "loom/ir/parser.h"
#include "loom/ir/printer.h"
#include "loom/passes/pass.h"
#include "logistic_regression_model.h"
#include "op_cases.h"

using namespace loom;

namespace {

/// Outputs and update values of `g` on the interpreter, with seeded inputs in [0.1, 2) (inside every op's domain).
std::vector<Array> run_graph(ir::Graph g, std::uint64_t seed = 5) {
  auto values = [&](const std::vector<ir::NodeId>& params, std::uint64_t stream) {
    std::vector<Array> out;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const TensorType& t = g.node(params[i]).results[0];
      Array a = Array::uniform(t.shape, 0.1, 2.0, seed * 1000 + stream * 100 + i, DType::f64).astype(t.dtype);
      if (!is_float(t.dtype))
        for (std::int64_t k = 0; k < a.size(); ++k) a.set(k, std::floor(a.get(k)));
      out.push_back(a);
    }
    return out;
  };
  std::vector<Array> inputs = values(g.inputs, 0), state = values(g.state, 1);
  return codegen::make_interpreter(std::move(g))->run(inputs, state);
}

void check_same_values(const std::vector<Array>& want, const std::vector<Array>& got, double rtol) {
  REQUIRE(want.size() == got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    REQUIRE(want[i].type() == got[i].type());
    for (std::int64_t k = 0; k < want[i].size(); ++k) {
      INFO("result " << i << " element " << k);
      CHECK(got[i].get(k) == Approx(want[i].get(k)).epsilon(rtol).margin(1e-6));
    }
  }
}

struct RuleCase {
  std::string pass, rule, ir;
};

/// One function per rule, on which that rule fires.
const std::vector<RuleCase> kRuleCases = {
    {"canonicalize", "fold-constants", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 2.0} : f32[]\n %1 = exp(%0) : f32[]\n %2 = mul(%x, %1) : f32[2]\n return %2\n}"},
    {"canonicalize", "add-zero", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 0.0} : f32[]\n %1 = add(%0, %x) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "sub-zero", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 0.0} : f32[]\n %1 = sub(%x, %0) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "mul-one", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 1.0} : f32[]\n %1 = mul(%x, %0) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "div-one", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 1.0} : f32[]\n %1 = div(%x, %0) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "pow-one", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 1.0} : f32[]\n %1 = pow(%x, %0) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "pow-two", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = constant() {value = 2.0} : f32[]\n %1 = pow(%x, %0) : f32[2]\n return %1\n}"},
    {"canonicalize", "double-neg", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = neg(%x) : f32[2]\n %1 = neg(%0) : f32[2]\n %2 = exp(%1) : f32[2]\n return %2\n}"},
    {"canonicalize", "identity-transpose", "func @f(%x: f32[2,3]) -> (f32[2,3]) {\n %0 = transpose(%x) {perm = [0, 1]} : f32[2,3]\n %1 = exp(%0) : f32[2,3]\n return %1\n}"},
    {"canonicalize", "transpose-transpose", "func @f(%x: f32[2,3,4]) -> (f32[4,3,2]) {\n %0 = transpose(%x) {perm = [1, 0, 2]} : f32[3,2,4]\n %1 = transpose(%0) {perm = [2, 0, 1]} : f32[4,3,2]\n return %1\n}"},
    {"canonicalize", "reshape-chain", "func @f(%x: f32[2,3]) -> (f32[6]) {\n %0 = reshape(%x) {shape = [3, 2]} : f32[3,2]\n %1 = reshape(%0) {shape = [6]} : f32[6]\n return %1\n}"},
    {"canonicalize", "identity-reshape", "func @f(%x: f32[2,3]) -> (f32[2,3]) {\n %0 = reshape(%x) {shape = [2, 3]} : f32[2,3]\n %1 = exp(%0) : f32[2,3]\n return %1\n}"},
    {"canonicalize", "identity-broadcast", "func @f(%x: f32[2,3]) -> (f32[2,3]) {\n %0 = broadcast_to(%x) {shape = [2, 3]} : f32[2,3]\n %1 = exp(%0) : f32[2,3]\n return %1\n}"},
    {"canonicalize", "identity-cast", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = cast(%x) {to = \"f32\"} : f32[2]\n %1 = exp(%0) : f32[2]\n return %1\n}"},
    {"canonicalize", "implicit-broadcast", "func @f(%x: f32[2,3], %b: f32[3]) -> (f32[2,3]) {\n %0 = broadcast_to(%b) {shape = [2, 3]} : f32[2,3]\n %1 = add(%x, %0) : f32[2,3]\n return %1\n}"},
    {"canonicalize", "matmul-transpose", "func @f(%a: f32[3,2], %b: f32[3,4]) -> (f32[2,4]) {\n %0 = transpose(%a) {perm = [1, 0]} : f32[2,3]\n %1 = matmul(%0, %b) : f32[2,4]\n return %1\n}"},
    {"canonicalize", "drop-stop-gradient", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = stop_gradient(%x) : f32[2]\n %1 = exp(%0) : f32[2]\n return %1\n}"},
    {"stabilize", "log-softmax", "func @f(%x: f32[2,3]) -> (f32[2,3]) {\n %0 = softmax(%x) {axis = 0} : f32[2,3]\n %1 = log(%0) : f32[2,3]\n return %1\n}"},
    {"stabilize", "sigmoid-from-exp", "func @f(%x: f32[3]) -> (f32[3]) {\n %0 = exp(%x) : f32[3]\n %1 = constant() {value = 1.0} : f32[]\n %2 = add(%0, %1) : f32[3]\n %3 = div(%1, %2) : f32[3]\n return %3\n}"},
    {"stabilize", "log-sigmoid", "func @f(%x: f32[3]) -> (f32[3]) {\n %0 = sigmoid(%x) : f32[3]\n %1 = log(%0) : f32[3]\n return %1\n}"},
    {"stabilize", "log-one-minus-sigmoid", "func @f(%x: f32[3]) -> (f32[3]) {\n %0 = sigmoid(%x) : f32[3]\n %1 = constant() {value = 1.0} : f32[]\n %2 = sub(%1, %0) : f32[3]\n %3 = log(%2) : f32[3]\n return %3\n}"},
    {"stabilize", "log1p", "func @f(%x: f32[3]) -> (f32[3]) {\n %0 = constant() {value = 1.0} : f32[]\n %1 = add(%0, %x) : f32[3]\n %2 = log(%1) : f32[3]\n return %2\n}"},
    {"stabilize", "logsumexp", "func @f(%x: f32[2,3]) -> (f32[2]) {\n %0 = exp(%x) : f32[2,3]\n %1 = sum(%0) {axes = [1], keepdims = 0} : f32[2]\n %2 = log(%1) : f32[2]\n return %2\n}"},
    {"stabilize", "softmax-cross-entropy", "func @f(%x: f32[2,3], %l: i32[2]) -> (f32[2]) {\n %0 = log_softmax(%x) {axis = 1} : f32[2,3]\n %1 = one_hot(%l) {depth = 3, dtype = \"f32\"} : f32[2,3]\n %2 = mul(%0, %1) : f32[2,3]\n %3 = sum(%2) {axes = [1], keepdims = 0} : f32[2]\n %4 = neg(%3) : f32[2]\n return %4\n}"},
    {"cse", "merge", "func @f(%x: f32[2]) -> (f32[2]) {\n %0 = exp(%x) : f32[2]\n %1 = exp(%x) : f32[2]\n %2 = add(%0, %1) : f32[2]\n return %2\n}"},
};

}  // namespace

TEST_CASE("every rewrite rule fires on its example and keeps the interpreter's values") {
  std::map<std::string, std::set<std::string>> covered;
  for (const RuleCase& c : kRuleCases) {
    SECTION(c.pass + "/" + c.rule) {
      ir::Graph before = ir::parse(c.ir, c.rule);
      ir::Graph after = before;
      passes::PassContext ctx;
      passes::run_pipeline(after, c.pass + ",dce", ctx);
      INFO(ir::print(after));
      CHECK(ctx.records.at(0).rules[c.rule] >= 1);
      check_same_values(run_graph(before), run_graph(after), 1e-5);
    }
    covered[c.pass].insert(c.rule);
  }
  for (std::string pass : {"canonicalize", "stabilize", "cse"})
    for (std::string_view rule : passes::create_pass(pass)->rule_names()) {
      INFO(pass << "/" << rule << " has no test case");
      CHECK(covered[pass].count(std::string(rule)) == 1);
    }
}

TEST_CASE("the bisect limit stops after exactly N rewrites and names the last one") {
  ir::Graph g = ir::parse(
      "func @f(%x: f32[2,3]) -> (f32[2,3]) {\n"
      " %0 = softmax(%x) {axis = 1} : f32[2,3]\n %1 = log(%0) : f32[2,3]\n"
      " %2 = constant() {value = 1.0} : f32[]\n %3 = mul(%1, %2) : f32[2,3]\n"
      " %4 = neg(%3) : f32[2,3]\n %5 = neg(%4) : f32[2,3]\n return %5\n}");
  passes::PassContext full;
  ir::Graph all = g;
  passes::run_pipeline(all, "O2", full);
  REQUIRE(full.rewrites_done == 3);
  // Bisect for the rewrite that introduces log_softmax: the smallest limit whose output contains it.
  std::int64_t lo = 0, hi = full.rewrites_done;
  while (lo < hi) {
    std::int64_t mid = (lo + hi) / 2;
    ir::Graph trial = g;
    passes::PassContext ctx;
    ctx.rewrite_limit = mid;
    passes::run_pipeline(trial, "O2", ctx);
    CHECK(ctx.rewrites_done == mid);
    if (ir::print(trial).find("log_softmax") != std::string::npos) hi = mid;
    else lo = mid + 1;
  }
  ir::Graph culprit = g;
  passes::PassContext ctx;
  ctx.rewrite_limit = lo;
  passes::run_pipeline(culprit, "O2", ctx);
  CHECK(lo == 3);
  CHECK(ctx.last_rewrite.rfind("stabilize/log-softmax at node 2 (log", 0) == 0);
  CHECK(passes::format_report(ctx).find("bisect limit 3") != std::string::npos);
}

TEST_CASE("the O2 pipeline dumps the IR after each pass under numbered names") {
  auto dir = std::filesystem::temp_directory_path() / "loom-o2-dumps";
  std::filesystem::remove_all(dir);
  Graph g;
  Tensor x = g.input("x", {3});
  Function f = compile({x}, {grad(sum(log(sigmoid(x))), {x})[0]}, {}, CompileOptions{.dump_dir = dir.string(), .name = "f"});
  const char* expected[] = {"0000.input.loom",          "0001.after-modes.loom",        "0002.after-canonicalize.loom",
                            "0003.after-stabilize.loom", "0004.after-autodiff.loom",     "0005.after-canonicalize.loom",
                            "0006.after-cse.loom",       "0007.after-stabilize.loom"};
  for (const char* name : expected) {
    INFO(name);
    CHECK(std::filesystem::exists(dir / "f" / name));
  }
  // The report names every pass that ran, with its rewrite counts.
  CHECK(f.report().find("log-sigmoid=1") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("O2 computes what O0 computes, forward and gradient, for every op case") {
  for (const testing::OpCase& c : testing::all_op_cases()) {
    Graph g;
    std::vector<Tensor> x;
    for (std::size_t i = 0; i < c.shapes.size(); ++i) x.push_back(g.input("x" + std::to_string(i), c.shapes[i], DType::f64));
    Tensor out = c.build(g, x);
    std::vector<Tensor> outputs = grad(sum(out * out), x);
    outputs.push_back(out);
    Function o0 = compile(x, outputs, {}, CompileOptions{.opt = OptLevel::O0});
    Function o2 = compile(x, outputs, {}, CompileOptions{.opt = OptLevel::O2});
    INFO(c.name << "\n" << o2.ir());
    check_same_values(o0(testing::make_inputs(c, DType::f64, 3)), o2(testing::make_inputs(c, DType::f64, 3)), 1e-9);
  }
}

TEST_CASE("every op in the table prints and parses back identically") {
  std::set<ir::OpKind> seen;
  std::vector<testing::OpCase> cases = testing::all_op_cases();
  // stop_gradient has no place in the gradient-checked cases (finite differences see through it).
  cases.push_back({"stop_gradient", {{3}}, [](Graph&, const std::vector<Tensor>& x) { return stop_gradient(x[0]) * x[0]; }});
  // Nor do random ops: dropout, recorded, and random_uniform, its lowering inside the compiled kernels.
  cases.push_back({"dropout", {{3, 4}}, [](Graph&, const std::vector<Tensor>& x) { return dropout(x[0], 0.5); }});
  cases.push_back({"gradient noise", {{3, 4}}, [](Graph&, const std::vector<Tensor>& x) { return transform::gradient_noise({x[0]}, 0.1)[0]; }});
  cases.push_back({"rrelu", {{3, 4}}, [](Graph&, const std::vector<Tensor>& x) { return rrelu(x[0]); }});
  for (const testing::OpCase& c : cases) {
    Graph g;
    std::vector<Tensor> x;
    for (std::size_t i = 0; i < c.shapes.size(); ++i) x.push_back(g.input("x" + std::to_string(i), c.shapes[i]));
    Tensor out = c.build(g, x);
    std::vector<Tensor> grads = grad(sum(out), x, GradOptions{.disconnected = Disconnected::zero});
    g.outputs = {out.value()};
    // The recorded graph (with its grad node) and the compiled one (with fused kernels).
    std::vector<Tensor> outputs = grads;
    outputs.push_back(out);
    for (std::string text : {ir::print(g), compile(x, outputs).ir()}) {
      INFO(text);
      ir::Graph parsed = ir::parse(text);
      CHECK(ir::print(parsed) == text);
      std::vector<const ir::Graph*> graphs{&parsed};
      for (std::size_t k = 0; k < graphs.size(); ++k)
        for (ir::NodeId id = 0; id < graphs[k]->num_nodes(); ++id) {
          seen.insert(graphs[k]->node(id).op);
          if (graphs[k]->node(id).body) graphs.push_back(graphs[k]->node(id).body.get());
        }
    }
  }
  for (int i = 0; i < ir::num_ops(); ++i) {
    INFO("no round-trip case uses " << ir::op_name(static_cast<ir::OpKind>(i)));
    CHECK(seen.count(static_cast<ir::OpKind>(i)) == 1);
  }
}

TEST_CASE("the logistic-regression training step is at most 3 kernels plus its matmuls") {
  Graph g;
  models::LogisticRegression m = models::logistic_regression(g, 1000);
  Function train = compile({m.X, m.y}, {m.cost}, m.updates);
  const ir::Graph& fn = train.graph();
  std::map<std::string, int> counts;
  for (ir::NodeId id : ir::topological_order(fn))
    if (fn.node(id).info().category != ir::OpCategory::Param) ++counts[std::string(ir::op_name(fn.node(id).op))];
  INFO(train.ir());
  CHECK(counts["fused"] <= 3);
  CHECK(counts["matmul"] == 2);
  CHECK(counts.size() == 2);  // nothing but kernels and matmuls
}
