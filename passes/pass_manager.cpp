#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/ir/printer.h"
#include "loom/ir/verifier.h"
#include "loom/passes/autodiff/autodiff.h"
#include "loom/passes/dce.h"
#include "loom/passes/pass.h"

namespace loom::passes {

namespace {

struct PassEntry {
  std::string_view name;
  std::function<std::unique_ptr<Pass>()> create;
};

const std::vector<PassEntry>& registry() {
  static const std::vector<PassEntry> kPasses = {
      {"autodiff", [] { return std::make_unique<Autodiff>(); }},
      {"dce", [] { return std::make_unique<DeadCodeElimination>(); }},
  };
  return kPasses;
}

/// Named levels. O0 is what execution needs (Theano's optimizer=None): gradients expanded, dead code gone.
/// O1 and O2 grow as the optimization passes land (#3, #4, #5).
struct Level {
  std::string_view name, pipeline;
};
constexpr Level kLevels[] = {
    {"O0", "autodiff,dce"},
    {"O1", "autodiff,dce"},
    {"O2", "autodiff,dce"},
};

/// Writes the IR to dump_dir/NNNN.<label>.loom when dumping is on.
void dump(const ir::Graph& g, const PassContext& ctx, int index, std::string_view label) {
  if (ctx.dump_dir.empty()) return;
  std::filesystem::create_directories(ctx.dump_dir);
  auto path = std::filesystem::path(ctx.dump_dir) / fmt::format("{:04}.{}.loom", index, label);
  std::ofstream out(path);
  out << ir::print(g);
  if (!out) throw Error(fmt::format("cannot write IR dump {}", path.string()));
}

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t\n");
  if (begin == std::string_view::npos) return "";
  auto end = s.find_last_not_of(" \t\n");
  return std::string(s.substr(begin, end - begin + 1));
}

}  // namespace

std::unique_ptr<Pass> create_pass(std::string_view name) {
  for (const auto& entry : registry())
    if (entry.name == name) return entry.create();
  throw Error(fmt::format("unknown pass '{}'; known passes: {}", name, fmt::join(pass_names(), ", ")));
}

std::vector<std::string_view> pass_names() {
  std::vector<std::string_view> names;
  for (const auto& entry : registry()) names.push_back(entry.name);
  return names;
}

std::string resolve_pipeline(std::string_view pipeline) {
  for (const auto& level : kLevels)
    if (level.name == pipeline) return std::string(level.pipeline);
  return std::string(pipeline);
}

void run_pipeline(ir::Graph& g, std::string_view pipeline, PassContext& ctx) {
  std::string resolved = resolve_pipeline(trim(pipeline));
  std::string_view rest = resolved;
  int index = 0;
  dump(g, ctx, index++, "input");
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string name = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (name.empty()) continue;
    std::unique_ptr<Pass> pass = create_pass(name);
    pass->run(g, ctx);
    if (ctx.verify_each) ir::verify(g, pass->name());
    dump(g, ctx, index++, fmt::format("after-{}", pass->name()));
  }
}

}  // namespace loom::passes
