// loom-opt: IR text in, passes, IR text (or Graphviz) out. The workbench for studying and testing passes:
//
//   loom-opt model.loom --passes=stabilize,dce          # rewrite and print
//   loom-opt model.loom --passes=O2 --stats             # with a table of passes, times and rewrite counts
//   loom-opt model.loom --emit=dot | dot -Tsvg > g.svg  # look at it
//   loom-opt model.loom --passes=O2 --run --seed=3      # execute on the interpreter with seeded inputs
//   loom-opt model.loom --passes=O2 --run --backend=jit  # ... or on the JIT (LLVM kernels, oneDNN)
//   loom-opt model.loom --passes=O2 --compare-backends   # both: the first output and kernel that differ
//   loom-opt model.loom --passes=O2 --check-numerics    # fail if the passes changed any output's value
//   loom-opt model.loom --passes=O2 --bisect-limit=17   # stop after 17 rewrites (find a bad rewrite)

#include <cerrno>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "compare_backends.h"
#include "loom/codegen/interpreter/interpreter.h"
#include "loom/codegen/jit_executable.h"
#include "loom/ir/dot.h"
#include "loom/ir/parser.h"
#include "loom/ir/printer.h"
#include "loom/passes/pass.h"

using namespace loom;

namespace {

struct Options {
  std::string input = "-";
  std::string output = "-";
  std::string passes;
  std::string emit = "ir";
  bool stats = false;
  bool run = false;
  std::string backend = "interpreter";
  bool compare_backends = false;
  bool training = true;
  bool check_numerics = false;
  std::int64_t bisect_limit = -1;
  std::uint64_t seed = 1;
  std::vector<std::string> values;  ///< NAME=v1,v2,... for inputs and state
};

std::string read_all(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) throw Error("cannot read " + path + ": it is a directory");
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Values for every parameter: given with --value NAME=..., else seeded random (floats uniform in [-2, 2),
/// integers in [0, 3), booleans 0/1).
std::vector<Array> parameter_values(const ir::Graph& g, const std::vector<ir::NodeId>& params, const Options& o,
                                    std::uint64_t stream) {
  std::map<std::string, std::vector<double>> given;
  for (const std::string& item : o.values) {
    auto eq = item.find('=');
    if (eq == std::string::npos) throw Error("--value expects NAME=v1,v2,..., got " + item);
    std::vector<double> numbers;
    std::stringstream list(item.substr(eq + 1));
    for (std::string cell; std::getline(list, cell, ',');) {
      // strtod, not stod: a bad or out-of-range number is this tool's message, not an exception from the library.
      char* end = nullptr;
      errno = 0;
      double v = std::strtod(cell.c_str(), &end);
      if (cell.empty() || *end != '\0' || errno == ERANGE)
        throw Error(fmt::format("--value {}: '{}' is not a finite number", item.substr(0, eq), cell));
      numbers.push_back(v);
    }
    given[item.substr(0, eq)] = numbers;
  }
  std::vector<Array> out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const ir::Node& p = g.node(params[i]);
    const TensorType& t = p.results[0];
    Array a(t.dtype, t.shape);
    if (auto it = given.find(p.name); it != given.end()) {
      if (it->second.size() != 1 && static_cast<std::int64_t>(it->second.size()) != a.size())
        throw Error(fmt::format("--value {}: {} numbers for {} ({} elements)", p.name, it->second.size(), t.str(), a.size()));
      for (std::int64_t k = 0; k < a.size(); ++k) a.set(k, it->second[it->second.size() == 1 ? 0 : k]);
    } else {
      Array u = Array::uniform(t.shape, 0.0, 1.0, o.seed * 7919 + stream * 131 + i, DType::f64);
      for (std::int64_t k = 0; k < a.size(); ++k)
        a.set(k, is_float(t.dtype) ? -2.0 + 4.0 * u.get(k) : std::floor(u.get(k) * (t.dtype == DType::b8 ? 2 : 3)));
    }
    out.push_back(a);
  }
  return out;
}

/// Outputs then update values, from the interpreter (or the JIT: `jit`, on a planned graph).
std::vector<Array> execute(ir::Graph g, const Options& o, bool jit = false) {
  std::vector<Array> inputs = parameter_values(g, g.inputs, o, 0), state = parameter_values(g, g.state, o, 1);
  if (jit) return codegen::make_jit(std::move(g))->run(inputs, state);
  return codegen::make_interpreter(std::move(g))->run(inputs, state);
}

std::string format_array(const Array& a) {
  std::vector<std::string> items;
  for (std::int64_t k = 0; k < std::min<std::int64_t>(a.size(), 64); ++k) items.push_back(fmt::format("{:.6g}", a.get(k)));
  if (a.size() > 64) items.push_back("...");
  return fmt::format("{} [{}]", a.type().str(), fmt::join(items, ", "));
}

bool same_number(double a, double b, DType dtype) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  double rtol = dtype == DType::f64 ? 1e-10 : 1e-4, atol = dtype == DType::f64 ? 1e-12 : 1e-6;
  return std::abs(a - b) <= atol + rtol * std::abs(b);
}

/// Compares the optimized function against the unoptimized one (gradients expanded, nothing else) on the same
/// seeded inputs. Returns the number of differing values and prints them.
int check_numerics(const ir::Graph& before, const ir::Graph& after, const Options& o) {
  ir::Graph reference = before;
  passes::PassContext ctx;
  ctx.training = o.training;
  passes::run_pipeline(reference, "modes,autodiff", ctx);
  std::vector<Array> want = execute(reference, o), got = execute(after, o);
  int mismatches = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    std::string what = i < after.outputs.size() ? fmt::format("output {}", i)
                                                : fmt::format("update {}", i - after.outputs.size());
    if (want[i].type() != got[i].type()) {
      std::fprintf(stderr, "check-numerics: %s changed type: %s -> %s\n", what.c_str(), want[i].type().str().c_str(),
                   got[i].type().str().c_str());
      ++mismatches;
      continue;
    }
    for (std::int64_t k = 0; k < want[i].size(); ++k)
      if (!same_number(got[i].get(k), want[i].get(k), want[i].dtype())) {
        std::fprintf(stderr, "check-numerics: %s element %lld: %.9g before the passes, %.9g after\n", what.c_str(),
                     static_cast<long long>(k), want[i].get(k), got[i].get(k));
        ++mismatches;
        break;
      }
  }
  std::fprintf(stderr, "check-numerics: %zu values compared, %d differ\n", want.size(), mismatches);
  return mismatches;
}

int run(const Options& o) {
  std::string source = o.input == "-" ? "<stdin>" : o.input;
  ir::Graph g = ir::parse(read_all(o.input), source);
  ir::Graph original = g;
  passes::PassContext ctx;
  ctx.rewrite_limit = o.bisect_limit;
  ctx.training = o.training;
  bool jit = o.compare_backends || (o.run && o.backend == "jit");
  std::string pipeline = passes::resolve_pipeline(o.passes);
  // The JIT runs a memory plan: as compile() does, a pipeline without one gets it last.
  if (jit && pipeline.find("plan-memory") == std::string::npos) pipeline += pipeline.empty() ? "plan-memory" : ",plan-memory";
  passes::run_pipeline(g, pipeline, ctx);

  std::string text = o.emit == "dot" ? ir::to_dot(g) : ir::print(g);
  if (o.output == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    std::ofstream out(o.output);
    out << text;
    if (!out) throw Error("cannot write " + o.output);
  }
  std::fflush(stdout);  // keep the IR before the table when both go to one pipe
  if (o.stats) std::fprintf(stderr, "%s", passes::format_report(ctx).c_str());
  if (o.compare_backends) {
    int differing = tools::compare_backends(g, parameter_values(g, g.inputs, o, 0), parameter_values(g, g.state, o, 1));
    if (differing > 0) return 1;
  }
  if (o.run) {
    std::vector<Array> results = execute(g, o, o.backend == "jit");
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i < g.outputs.size())
        std::printf("output %zu = %s\n", i, format_array(results[i]).c_str());
      else
        std::printf("update %%%s = %s\n", g.node(g.updates[i - g.outputs.size()].first).name.c_str(),
                    format_array(results[i]).c_str());
    }
  }
  if (o.check_numerics && check_numerics(original, g, o) > 0) return 1;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loom-opt: read loom IR, run passes, print IR"};
  Options o;
  app.add_option("input", o.input, "IR file ('-' or nothing for stdin)");
  app.add_option("-o,--output", o.output, "where to write the result ('-' for stdout)");
  app.add_option("--passes", o.passes, "pipeline, e.g. \"autodiff,fixpoint<8>(canonicalize,cse),dce\" or O0/O1/O2");
  app.add_option("--emit", o.emit, "ir or dot")->check(CLI::IsMember({"ir", "dot"}));
  app.add_flag("--stats", o.stats, "print a table of passes, times and rewrite counts to stderr");
  app.add_option("--bisect-limit", o.bisect_limit, "stop rewriting after this many rewrites");
  app.add_flag("--run", o.run, "execute the result and print outputs and updates");
  app.add_option("--backend", o.backend, "what --run executes on: interpreter (the reference) or jit")
      ->check(CLI::IsMember({"interpreter", "jit"}));
  app.add_flag("--compare-backends", o.compare_backends,
               "run on the interpreter and the JIT with the same seeded inputs; name the first output and the first "
               "kernel whose numbers differ beyond rounding (exit 1 if any)");
  app.add_flag("--check-numerics", o.check_numerics,
               "fail unless the interpreter gives the same outputs before and after the passes");
  app.add_option("--seed", o.seed, "seed for random parameter values");
  bool inference = false;
  app.add_flag("--inference", inference, "lower dropout and its kin for inference (the modes pass), not training");
  app.add_option("--value", o.values, "NAME=v1,v2,... (or one value to fill) for an input or state parameter");
  CLI11_PARSE(app, argc, argv);
  o.training = !inference;
  try {
    return run(o);
  } catch (const Error& e) {
    std::fprintf(stderr, "loom-opt: error: %s\n", e.what());
  } catch (const std::exception& e) {  // a library's own failure (e.g. allocation): a message, never an abort
    std::fprintf(stderr, "loom-opt: error: %s\n", e.what());
  }
  return 1;
}
