#pragma once
/// The user's graph: records ops as they are written, and owns the values of its shared variables.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <unordered_map>

#include "loom/ir/expr.h"
#include "loom/runtime/array.h"

namespace loom {

/// Current values of a graph's shared variables, keyed by their `state` node. Shared by the Graph and every
/// Function compiled from it, so a predict function sees what a train function learned. Each keeps one buffer for
/// its whole life (set_value copies into it), which compiled functions read and update in place.
struct SharedStore {
  std::unordered_map<ir::NodeId, Array> values;
  /// One lock per shared variable: a call holds the locks of every variable its function reads or updates (taken
  /// in node order, so two calls never wait for each other in a cycle), get_value and set_value the one they
  /// touch. Calls of Functions that share state from several threads then run one after the other on it.
  std::map<ir::NodeId, std::mutex> locks;
};

/// A graph value as the user holds it. All ops take and return Expr; Tensor adds access to shared variables.
class Tensor : public Expr {
 public:
  Tensor() = default;
  Tensor(const Expr& e) : Expr(e) {}

  /// A copy of a shared variable's current value. Throws Error for non-shared tensors.
  Array get_value(SrcLoc loc = SrcLoc::current()) const;
  /// Replaces a shared variable's value (copied); dtype and shape must match its declaration.
  void set_value(const Array& value, SrcLoc loc = SrcLoc::current());
};

/// A recording graph. Tensors point into it, so it neither copies nor moves.
class Graph : public ir::Graph {
 public:
  Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  /// A value passed in at each call of a Function.
  Tensor input(const std::string& name, Shape shape, DType dtype = DType::f32, SrcLoc loc = SrcLoc::current());
  /// Persistent state (Theano `shared`) starting at a copy of `value`.
  Tensor shared(const std::string& name, const Array& value, SrcLoc loc = SrcLoc::current());
  /// Everything recorded so far, as IR text.
  std::string str() const;
  /// Every shared variable (parameters, optimizer state, running statistics, the step counter), in creation
  /// order: what a checkpoint of a training run holds.
  std::vector<Tensor> shared_variables();

  const std::shared_ptr<SharedStore>& store() const { return store_; }

  /// The counter random ops are keyed by (Philox: seed, step, op, element): a shared f64 scalar "rng.step",
  /// created on first use. Every Function that reads it and is compiled for training advances it by one per call,
  /// so each call draws new numbers and a training run can be replayed from a checkpoint of it.
  Tensor random_step();
  /// A number for a new random op, unique in this graph: its values differ from every other random op's.
  std::uint32_t next_random_stream() { return random_streams_++; }
  /// The seed of this graph's random ops (0 unless set; set it before recording them).
  std::uint64_t random_seed() const { return random_seed_; }
  void set_random_seed(std::uint64_t seed) { random_seed_ = seed; }

  /// An update that compile() adds to every Function reading `state` unless the caller updates it: the step
  /// counter's advance, a normalization's running statistics. `training_only`: only when compiled for training.
  struct AutomaticUpdate {
    Tensor state, value;
    bool training_only = true;
  };
  void add_automatic_update(AutomaticUpdate update) { automatic_updates_.push_back(std::move(update)); }
  const std::vector<AutomaticUpdate>& automatic_updates() const { return automatic_updates_; }

 private:
  Tensor parameter(ir::OpKind op, const std::string& name, TensorType type, const SourceLoc& loc);
  std::shared_ptr<SharedStore> store_ = std::make_shared<SharedStore>();
  Tensor random_step_;
  std::uint32_t random_streams_ = 0;
  std::uint64_t random_seed_ = 0;
  std::vector<AutomaticUpdate> automatic_updates_;
};

}  // namespace loom
