#pragma once
/// The pass interface and pipelines. A pipeline is one readable string, used alike by CompileOptions::pipeline and
/// loom-opt --passes=:
///
///   pipeline := item (',' item)*
///   item     := pass-name | 'fixpoint<' N '>(' pipeline ')' | 'O0' | 'O1' | 'O2'
///
/// fixpoint<N>(...) repeats its pipeline until nothing changes, at most N times (Theano's unbounded rewrite loops
/// made compile time unpredictable; here every loop is capped).

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loom/ir/graph.h"
#include "loom/ir/verifier.h"

namespace loom::passes {

/// What one run of one pass did.
struct PassRecord {
  std::string name;
  double milliseconds = 0;
  std::int64_t rewrites = 0;
  bool changed = false;
  /// Rewrites per rule name.
  std::map<std::string, std::int64_t> rules;
};

struct PassContext {
  /// Run the verifier on the pipeline's input and after every pass that changed the graph.
  bool verify_each = true;
  /// The kernel bodies the verifier has checked in this pipeline (each once).
  ir::VerifiedBodies verified_bodies;
  /// When set, the IR is written there before the pipeline (0000.input.loom) and after each pass
  /// (0001.after-autodiff.loom, ...), replacing the numbered dumps of an earlier pipeline.
  std::string dump_dir;
  /// Bisect limit: the number of rewrites allowed in the whole pipeline; negative means no limit. Halving it
  /// finds the single rewrite that breaks a program.
  std::int64_t rewrite_limit = -1;

  /// modes: lower dropout and the like for training (true) or inference (false).
  bool training = true;

  /// plan-memory: false gives every value bytes of its own, no in-place reuse (the "planning off" baseline).
  bool memory_reuse = true;
  /// plan-memory: whether updates may be computed straight into their state's buffer. Off under nan_guard, so
  /// that a step that raises leaves the state as it was.
  bool state_in_place = true;

  /// One record per pass run, in order.
  std::vector<PassRecord> records;
  std::int64_t rewrites_done = 0;
  /// Lines a pass reports beyond its counts (the schedule it chose, the memory plan), shown after the table.
  std::vector<std::string> notes;
  /// "stabilize/log-sigmoid at %12 (model.cpp:40)": the most recent rewrite, to name the culprit when bisecting.
  std::string last_rewrite;
  int dump_index = 0;

  /// Asks to apply one rewrite of `rule`; false once the bisect limit is reached. Counts it when granted.
  bool grant_rewrite(std::string_view rule, std::string_view where);
};

class Pass {
 public:
  virtual ~Pass() = default;
  virtual std::string_view name() const = 0;
  /// Rewrites `g`; returns whether anything changed.
  virtual bool run(ir::Graph& g, PassContext& ctx) = 0;
  /// The names under which the pass counts its rewrites (tests check each one).
  virtual std::vector<std::string_view> rule_names() const { return {}; }
};

/// A pass by name; throws Error listing the known names.
std::unique_ptr<Pass> create_pass(std::string_view name);
/// Names of every registered pass, in registration order.
std::vector<std::string_view> pass_names();

/// The pipeline text of a named optimization level ("O0", "O1", "O2"); any other text is returned unchanged.
std::string resolve_pipeline(std::string_view pipeline);
/// Runs a pipeline over `g`, verifying, timing, counting and dumping around every pass. Returns whether anything
/// changed. Throws Error on a malformed pipeline (naming the position) before running anything.
bool run_pipeline(ir::Graph& g, std::string_view pipeline, PassContext& ctx);

/// The records as a table: pass, time, rewrites, changed, and the rules that fired.
std::string format_report(const PassContext& ctx);

}  // namespace loom::passes
