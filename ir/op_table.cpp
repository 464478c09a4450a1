#include "loom/ir/op_table.h"

namespace loom::ir {

namespace {
using namespace trait;

// Each op's attribute declarations, from the attribute macros of its row (ops.def). The arrays end with an empty
// spec so that a row without attributes still declares an array; OpInfo's span leaves it out.
#define INT_ATTR(name, fallback, low, high) AttrSpec{#name, AttrKind::Int, false, low, high, fallback, ""},
#define REQUIRED_INT(name, low, high) AttrSpec{#name, AttrKind::Int, true, low, high, 0, ""},
#define FLOAT_ATTR(name, fallback, low, high) AttrSpec{#name, AttrKind::Float, false, low, high, fallback, ""},
#define REQUIRED_FLOAT(name, low, high) AttrSpec{#name, AttrKind::Float, true, low, high, 0, ""},
#define INTS_ATTR(name, low, high) AttrSpec{#name, AttrKind::Ints, false, low, high, 0, ""},
#define REQUIRED_INTS(name, low, high) AttrSpec{#name, AttrKind::Ints, true, low, high, 0, ""},
#define STRING_ATTR(name, choices) AttrSpec{#name, AttrKind::String, false, 0, 0, 0, choices},
#define REQUIRED_STRING(name, choices) AttrSpec{#name, AttrKind::String, true, 0, 0, 0, choices},
#define OP(name, arity, category, traits, ...) constexpr AttrSpec kAttributes_##name[] = {__VA_ARGS__ AttrSpec{}};
#include "loom/ir/ops.def"
#undef OP

constexpr OpInfo kOps[] = {
#define OP(name, arity, category, traits, ...) \
  {#name, arity, OpCategory::category, traits, std::span<const AttrSpec>(kAttributes_##name, std::size(kAttributes_##name) - 1)},
#include "loom/ir/ops.def"
#undef OP
};
}  // namespace

const OpInfo& op_info(OpKind op) { return kOps[static_cast<int>(op)]; }
std::string_view op_name(OpKind op) { return op_info(op).name; }
int num_ops() { return static_cast<int>(std::size(kOps)); }

const AttrSpec* find_attribute(OpKind op, std::string_view name) {
  for (const AttrSpec& spec : kCommonAttributes)
    if (spec.name == name) return &spec;
  for (const AttrSpec& spec : op_info(op).attributes)
    if (spec.name == name) return &spec;
  return nullptr;
}

std::optional<OpKind> parse_op(std::string_view name) {
  for (int i = 0; i < num_ops(); ++i)
    if (kOps[i].name == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

}  // namespace loom::ir
