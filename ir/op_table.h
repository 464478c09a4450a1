#pragma once
/// The op registry generated from ops.def.

#include <cstdint>
#include <optional>
#include <string_view>

namespace loom::ir {

enum class OpKind : std::uint8_t {
#define OP(name, arity, category, traits) name,
#include "loom/ir/ops.def"
#undef OP
};

enum class OpCategory : std::uint8_t { Param, Constant, Elementwise, Reduction, Normalize, Contraction, Layout, Loss, Kernel, Meta, Mode };

namespace trait {
enum : std::uint32_t {
  None = 0,
  Commutative = 1u << 0,
  Float = 1u << 1,
  Predicate = 1u << 2,
  Select = 1u << 3,
  Cast = 1u << 4,
  Identity = 1u << 5,
  Random = 1u << 6,
};
}

struct OpInfo {
  std::string_view name;
  int arity;  ///< -1 for variadic
  OpCategory category;
  std::uint32_t traits;

  bool has(std::uint32_t t) const { return (traits & t) != 0; }
  /// Reductions, normalizations and losses: ops that need a whole row (or more) of their operand before they
  /// produce a value, so a kernel is organized around them.
  bool is_row_op() const {
    return category == OpCategory::Reduction || category == OpCategory::Normalize || category == OpCategory::Loss;
  }
};

/// SELU's constants (Klambauer et al. 2017), shared by its scalar semantics and its gradient rule.
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;

const OpInfo& op_info(OpKind op);
std::string_view op_name(OpKind op);
std::optional<OpKind> parse_op(std::string_view name);
/// Number of rows in the op table.
int num_ops();

}  // namespace loom::ir
