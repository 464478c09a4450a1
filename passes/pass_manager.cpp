#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/ir/printer.h"
#include "loom/ir/verifier.h"
#include "loom/passes/passes.h"
#include "loom/passes/pass.h"

namespace loom::passes {

namespace {

struct PassEntry {
  std::string_view name;
  std::function<std::unique_ptr<Pass>()> create;
};

const std::vector<PassEntry>& registry() {
  static const std::vector<PassEntry> kPasses = {
      {"modes", [] { return std::make_unique<Modes>(); }},
      {"autodiff", [] { return std::make_unique<Autodiff>(); }},
      {"canonicalize", [] { return std::make_unique<Canonicalize>(); }},
      {"cse", [] { return std::make_unique<CommonSubexpressionElimination>(); }},
      {"stabilize", [] { return std::make_unique<Stabilize>(); }},
      {"dce", [] { return std::make_unique<DeadCodeElimination>(); }},
      {"fuse", [] { return std::make_unique<Fuse>(); }},
      {"rematerialize", [] { return std::make_unique<Rematerialize>(); }},
      {"schedule", [] { return std::make_unique<Schedule>(); }},
      {"plan-memory", [] { return std::make_unique<PlanMemory>(); }},
  };
  return kPasses;
}

/// Named levels. O0 is what execution needs (Theano's optimizer=None): training or inference behaviour chosen,
/// gradients expanded, dead code gone.
/// Stabilization runs before autodiff too, so gradients are derived from the stable forms (the gradient of
/// softplus is a sigmoid; the gradient of log(sigmoid) would divide by an underflowed zero).
struct Level {
  std::string_view name, pipeline;
};
constexpr Level kLevels[] = {
    {"O0", "modes,autodiff,dce"},
    {"O1", "modes,stabilize,autodiff,fixpoint<4>(canonicalize,cse),dce,fuse,rematerialize,dce,schedule,plan-memory"},
    {"O2", "modes,canonicalize,stabilize,autodiff,fixpoint<8>(canonicalize,cse,stabilize),dce,fuse,rematerialize,dce,schedule,plan-memory"},
};

/// A parsed pipeline: a list of steps, each a pass or a capped fixed point of a sub-pipeline.
struct Step {
  std::string pass;
  int max_rounds = 0;  ///< > 0 for fixpoint<N>(...)
  std::vector<Step> body;
};

class PipelineParser {
 public:
  explicit PipelineParser(std::string_view text) : text_(text) {}

  std::vector<Step> parse() {
    std::vector<Step> steps = list();
    skip_space();
    if (pos_ != text_.size()) fail("expected ',' or the end");
    return steps;
  }

 private:
  std::vector<Step> list() {
    std::vector<Step> steps;
    do {
      std::vector<Step> item = this->item();
      steps.insert(steps.end(), item.begin(), item.end());
    } while (accept(','));
    return steps;
  }

  std::vector<Step> item() {
    skip_space();
    std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' || text_[pos_] == '_'))
      ++pos_;
    std::string word(text_.substr(start, pos_ - start));
    if (word.empty()) fail("expected a pass name");
    if (word == "fixpoint") {
      expect('<');
      std::size_t digits = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (digits == pos_) fail("expected the round limit of fixpoint<N>");
      // Up to 1000 rounds: more would only hide a pair of rewrites undoing each other.
      if (pos_ - digits > 4 || std::stoi(std::string(text_.substr(digits, pos_ - digits))) > 1000)
        fail(fmt::format("fixpoint<{}>: the round limit must be at most 1000", text_.substr(digits, pos_ - digits)));
      int rounds = std::stoi(std::string(text_.substr(digits, pos_ - digits)));
      expect('>');
      expect('(');
      Step step{"", rounds, list()};
      expect(')');
      return {step};
    }
    std::string resolved = resolve_pipeline(word);
    if (resolved != word) return PipelineParser(resolved).parse();
    create_pass(word);  // throws for unknown names, before anything runs
    return {Step{word, 0, {}}};
  }

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}'", c));
  }
  [[noreturn]] void fail(const std::string& what) {
    throw Error(fmt::format("pipeline \"{}\": {} at column {}", text_, what, pos_ + 1));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

/// Writes the IR to dump_dir/NNNN.<label>.loom when dumping is on. The first dump of a pipeline removes the
/// numbered dumps an earlier compile left there, so the directory shows one pipeline.
void dump(const ir::Graph& g, PassContext& ctx, std::string_view label) {
  if (ctx.dump_dir.empty()) return;
  try {
    std::filesystem::create_directories(ctx.dump_dir);
    if (ctx.dump_index == 0)
      for (const auto& entry : std::filesystem::directory_iterator(ctx.dump_dir)) {
        std::string file = entry.path().filename().string();
        bool numbered = file.size() > 10 && std::all_of(file.begin(), file.begin() + 4, ::isdigit) && file[4] == '.' &&
                        entry.path().extension() == ".loom";
        if (numbered) std::filesystem::remove(entry.path());
      }
  } catch (const std::filesystem::filesystem_error& e) {
    throw Error(fmt::format("cannot write IR dumps to {}: {}", ctx.dump_dir, e.code().message()));
  }
  auto path = std::filesystem::path(ctx.dump_dir) / fmt::format("{:04}.{}.loom", ctx.dump_index++, label);
  std::ofstream out(path);
  out << ir::print(g);
  if (!out) throw Error(fmt::format("cannot write IR dump {}", path.string()));
}

bool run_steps(ir::Graph& g, const std::vector<Step>& steps, PassContext& ctx) {
  bool changed = false;
  for (const Step& step : steps) {
    if (step.max_rounds > 0) {
      for (int round = 0; round < step.max_rounds; ++round)
        if (run_steps(g, step.body, ctx)) changed = true;
        else break;
      continue;
    }
    std::unique_ptr<Pass> pass = create_pass(step.pass);
    std::int64_t rewrites_before = ctx.rewrites_done;
    ctx.records.push_back(PassRecord{step.pass});
    auto start = std::chrono::steady_clock::now();
    bool planned = ir::is_planned(g);
    bool pass_changed = pass->run(g, ctx);
    // A memory plan describes the graph it was made for: a pass that changes the graph afterwards drops it.
    if (planned && pass_changed && step.pass != "plan-memory")
      for (ir::NodeId id = 0; id < g.num_nodes(); ++id) g.node(id).buffers.clear();
    PassRecord& record = ctx.records.back();
    record.milliseconds = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    record.changed = pass_changed;
    record.rewrites = ctx.rewrites_done - rewrites_before;
    // A pass that changed nothing leaves the graph it was given, already verified (a deep graph's verification
    // costs as much as a pass).
    if (ctx.verify_each && pass_changed) ir::verify(g, pass->name(), &ctx.verified_bodies);
    dump(g, ctx, fmt::format("after-{}", pass->name()));
    changed = changed || pass_changed;
  }
  return changed;
}

}  // namespace

bool PassContext::grant_rewrite(std::string_view rule, std::string_view where) {
  if (rewrite_limit >= 0 && rewrites_done >= rewrite_limit) return false;
  ++rewrites_done;
  if (!records.empty()) ++records.back().rules[std::string(rule)];
  last_rewrite = fmt::format("{}/{} at {}", records.empty() ? "" : records.back().name, rule, where);
  return true;
}

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

bool run_pipeline(ir::Graph& g, std::string_view pipeline, PassContext& ctx) {
  std::vector<Step> steps;
  if (pipeline.find_first_not_of(" \t\n") != std::string_view::npos) steps = PipelineParser(pipeline).parse();
  dump(g, ctx, "input");
  if (ctx.verify_each) ir::verify(g, "", &ctx.verified_bodies);
  return run_steps(g, steps, ctx);
}

std::string format_report(const PassContext& ctx) {
  std::string out = fmt::format("{:<4} {:<14} {:>10} {:>9} {:>8}  {}\n", "#", "pass", "time (ms)", "rewrites", "changed", "rules");
  double total_ms = 0;
  for (std::size_t i = 0; i < ctx.records.size(); ++i) {
    const PassRecord& r = ctx.records[i];
    std::vector<std::string> rules;
    for (const auto& [rule, count] : r.rules) rules.push_back(fmt::format("{}={}", rule, count));
    out += fmt::format("{:<4} {:<14} {:>10.3f} {:>9} {:>8}  {}\n", i + 1, r.name, r.milliseconds, r.rewrites,
                       r.changed ? "yes" : "no", fmt::join(rules, " "));
    total_ms += r.milliseconds;
  }
  out += fmt::format("{:<4} {:<14} {:>10.3f} {:>9}\n", "", "total", total_ms, ctx.rewrites_done);
  for (const std::string& note : ctx.notes) out += note + "\n";
  if (ctx.rewrite_limit >= 0)
    out += fmt::format("bisect limit {} reached after {} rewrites; last rewrite: {}\n", ctx.rewrite_limit,
                       ctx.rewrites_done, ctx.last_rewrite.empty() ? "none" : ctx.last_rewrite);
  return out;
}

}  // namespace loom::passes
