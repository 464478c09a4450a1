#pragma once
/// The op registry generated from ops.def.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

namespace loom::ir {

enum class OpKind : std::uint8_t {
#define OP(name, arity, category, traits, ...) name,
#include "loom/ir/ops.def"
#undef OP
};

enum class OpCategory : std::uint8_t { Param, Constant, Elementwise, Reduction, Normalize, Contraction, Window, Layout, Loss, Kernel, Meta, Mode };

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

enum class AttrKind : std::uint8_t { Int, Float, Ints, String };

/// One attribute an op takes, as its row in ops.def declares it: the only place that says which attributes an op
/// has, what they hold, what they default to and which values are allowed (the verifier checks every node
/// against it; `int_attr` and friends read the defaults from it).
struct AttrSpec {
  std::string_view name;
  AttrKind kind = AttrKind::Int;
  bool required = false;
  double low = 0, high = 0;  ///< the allowed range of an Int or Float, or of each element of Ints (closed)
  double fallback = 0;       ///< the default of an optional Int or Float (optional Ints default to [])
  std::string_view choices;  ///< a String's allowed values, separated by '|' (empty: any); the first is its default
};

/// Bounds for the ranges in ops.def: no limit, and the closest doubles to 0 and 1 that make a closed range open.
inline constexpr double kUnbounded = std::numeric_limits<double>::infinity();
inline constexpr double kAboveZero = std::numeric_limits<double>::denorm_min();
inline constexpr double kBelowOne = 1.0 - std::numeric_limits<double>::epsilon() / 2;

struct OpInfo {
  std::string_view name;
  int arity;  ///< -1 for variadic
  OpCategory category;
  std::uint32_t traits;
  std::span<const AttrSpec> attributes;

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

/// The attributes any node may carry besides its op's: fuse = "never" keeps it out of fusion (Expr::no_fuse), and
/// the fuse pass notes why it left a node out in `unfused`, so dumps say.
inline constexpr AttrSpec kCommonAttributes[] = {{"fuse", AttrKind::String, false, 0, 0, 0, "never"},
                                                 {"unfused", AttrKind::String, false, 0, 0, 0, ""}};

/// `name`'s declaration for `op` (or a common attribute's), or null when the op takes no such attribute.
const AttrSpec* find_attribute(OpKind op, std::string_view name);

}  // namespace loom::ir
