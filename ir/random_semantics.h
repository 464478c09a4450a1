#pragma once
/// Random numbers written once: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
/// SC'11), a counter-based generator, so any element's random bits are a pure function of (key, counter) and a
/// random op's values do not depend on threads, fusion or schedule. Written here rather than taken from a library
/// because the LLVM emitter must compute the same bits inside kernels: the interpreter and Array instantiate it
/// with plain 32-bit integers (PlainWords), the emitter with i32 LLVM values.
///
/// A word algebra W provides: V (a 32-bit word); constant(uint32) -> V; add xor (V, V) -> V (mod 2^32);
/// mul_wide(V, V) -> {high word, low word} of the 64-bit product; as_double(V) -> the word as a number of the
/// scalar algebra S (scalar_semantics.h, over doubles) the values are computed in.

#include <array>
#include <cstdint>
#include <utility>

#include "loom/ir/op_table.h"

namespace loom::ir {

template <class W>
using Words4 = std::array<typename W::V, 4>;

/// Ten rounds of Philox4x32 on `counter` with `key`.
template <class W>
constexpr Words4<W> philox4x32(W& w, Words4<W> counter, std::array<typename W::V, 2> key) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    auto [high0, low0] = w.mul_wide(w.constant(kMul0), counter[0]);
    auto [high1, low1] = w.mul_wide(w.constant(kMul1), counter[2]);
    counter = {w.xor_(w.xor_(high1, counter[1]), key[0]), low1, w.xor_(w.xor_(high0, counter[3]), key[1]), low0};
    key = {w.add(key[0], w.constant(kWeyl0)), w.add(key[1], w.constant(kWeyl1))};
  }
  return counter;
}

/// A uniform number in (0, 1] from a random word given as a number (never 0, so log of it is finite; exact in
/// double). S is a scalar algebra (scalar_semantics.h) over doubles.
template <class S>
typename S::V uniform_from_word(S& s, typename S::V word) {
  return s.mul(s.add(word, s.constant(1.0)), s.constant(0x1p-32));
}

/// Element `element` (its row-major position in the op's shape) of random op `op`, the op numbered `stream` in its
/// graph, at step `step` of the graph's counter, for `seed`: from the Philox block with counter (element, step,
/// stream) and key seed.
///   random_uniform  (w₀ + 1)·2⁻³², in (0, 1]
///   random_normal   √(−2·ln u₀)·cos(2π·u₁) with uᵢ = (wᵢ + 1)·2⁻³² (Box & Muller 1958), standard normal
template <class W, class S>
typename S::V random_value(OpKind op, W& w, S& s, std::uint64_t seed, std::uint32_t stream, typename W::V element_low,
                           typename W::V element_high, typename W::V step) {
  Words4<W> counter{element_low, element_high, step, w.constant(stream)};
  Words4<W> block = philox4x32(
      w, counter, {w.constant(static_cast<std::uint32_t>(seed)), w.constant(static_cast<std::uint32_t>(seed >> 32))});
  typename S::V u0 = uniform_from_word(s, w.as_double(block[0]));
  if (op != OpKind::random_normal) return u0;
  typename S::V u1 = uniform_from_word(s, w.as_double(block[1]));
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return s.mul(s.sqrt(s.mul(s.constant(-2.0), s.log(u0))), s.cos(s.mul(s.constant(kTwoPi), u1)));
}

/// The word algebra over plain 32-bit integers.
struct PlainWords {
  using V = std::uint32_t;
  constexpr V constant(std::uint32_t v) const { return v; }
  constexpr V add(V a, V b) const { return a + b; }
  constexpr V xor_(V a, V b) const { return a ^ b; }
  constexpr std::pair<V, V> mul_wide(V a, V b) const {
    std::uint64_t product = std::uint64_t{a} * b;
    return {static_cast<V>(product >> 32), static_cast<V>(product)};
  }
  constexpr double as_double(V a) const { return static_cast<double>(a); }
};

}  // namespace loom::ir
