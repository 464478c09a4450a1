#include "loom/ir/op_table.h"

namespace loom::ir {

namespace {
using namespace trait;
constexpr OpInfo kOps[] = {
#define OP(name, arity, category, traits) {#name, arity, OpCategory::category, traits},
#include "loom/ir/ops.def"
#undef OP
};
}  // namespace

const OpInfo& op_info(OpKind op) { return kOps[static_cast<int>(op)]; }
std::string_view op_name(OpKind op) { return op_info(op).name; }
int num_ops() { return static_cast<int>(std::size(kOps)); }

std::optional<OpKind> parse_op(std::string_view name) {
  for (int i = 0; i < num_ops(); ++i)
    if (kOps[i].name == name) return static_cast<OpKind>(i);
  return std::nullopt;
}

}  // namespace loom::ir
