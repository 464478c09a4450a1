#pragma once
/// Philox4x32-10 for host code (Array::randn, Array::uniform, the interpreter's Monte Carlo mode): a counter-based
/// generator, so any element's random bits are a pure function of (key, counter).

#include <array>
#include <cstdint>

#include "loom/ir/random_semantics.h"

namespace loom {

using PhiloxBlock = std::array<std::uint32_t, 4>;

/// Ten rounds of Philox4x32 (ir/random_semantics.h, the definition the JIT's kernels compile too).
constexpr PhiloxBlock philox4x32(PhiloxBlock counter, std::array<std::uint32_t, 2> key) {
  ir::PlainWords words;
  return ir::philox4x32(words, counter, key);
}

/// A uniform float in (0, 1] from 32 random bits (never 0, so log() of it is finite).
constexpr double uniform_from_bits(std::uint32_t bits) { return (static_cast<double>(bits) + 1.0) * 0x1p-32; }

}  // namespace loom
