#pragma once
/// Where a value lives while a compiled function runs, as decided by the plan-memory pass
/// (passes/plan_memory.cpp). Printed after the value's type: `@arena[0:4096]`, `@input`, `@state`, `@state(%w)`
/// (written in place into the buffer of state %w), `@output(0)`, `@constant`.

#include <cstdint>

namespace loom::ir {

struct Buffer {
  enum class Kind : std::uint8_t { input, state, constant, arena, output };
  Kind kind = Kind::arena;
  /// The position of the input, state or output whose buffer this is.
  std::uint32_t index = 0;
  /// The bytes [offset, end) of the function's arena.
  std::int64_t offset = 0, end = 0;

  bool operator==(const Buffer&) const = default;
};

}  // namespace loom::ir
