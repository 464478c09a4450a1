#pragma once
/// What a memory plan means, shared by the pass that makes it (passes/plan_memory.cpp), the executor that follows
/// it (codegen/jit_executable.cpp) and the checker that tests and debug builds run on it.
///
/// A planned function runs as its steps in id order, each reading its operands' buffers and writing its results'
/// buffers (ir/buffer.h). After the last step, every update whose value is not already in its state's buffer is
/// copied there. Every output is computed into its own output buffer (plan-memory inserts a `copy` where an
/// output is a parameter, a constant or another output), so returned arrays never alias anything.

#include <cstdint>
#include <vector>

#include "loom/ir/graph.h"

namespace loom::ir {

/// Arena offsets are multiples of this (a cache line and an AVX-512 vector).
inline constexpr std::int64_t kArenaAlignment = 64;

/// The bytes a value of type `t` takes in the arena, rounded up to kArenaAlignment.
std::int64_t arena_size(const TensorType& t);

/// The needed nodes that compute (neither parameters nor constants), in execution order.
std::vector<NodeId> program_steps(const Graph& g);

/// The largest arena end of a planned graph: the bytes its arena needs.
std::int64_t arena_bytes(const Graph& g);

/// Checks a planned graph by simulating one call on symbolic buffer contents: every parameter, constant and step
/// result has a buffer of its kind; arena ranges fit their values; each step finds every operand still in its
/// buffer (so no two buffers live at the same time overlap, every read follows its write and no update overwrites
/// a value read later); a result overlaps one of its step's operands only where ir::may_overwrite allows it (the
/// checker relies there on what kernel_shape.h states of emitted kernels: every read of an element precedes every
/// store to it); no state is written before a step that may raise; at the end every output and state buffer
/// holds its value. Throws Error naming the step, op and line on the first violation.
void check_plan(const Graph& g);

}  // namespace loom::ir
