#pragma once
/// Attributes checked against, and read with the defaults of, the declarations in ops.def.

#include <cstdint>
#include <string_view>

#include "loom/ir/attributes.h"
#include "loom/ir/error.h"
#include "loom/ir/op_table.h"

namespace loom::ir {

/// Every attribute of a node of kind `op` is one the op declares, of its kind and in its range, and every required
/// one is there; otherwise an Error at `loc` naming the op and the attribute.
void check_attributes(OpKind op, const Attrs& attrs, const SourceLoc& loc);

/// An attribute's value, or its declared default when absent. Asking for an attribute the op does not declare is
/// a bug in the caller (an Error).
std::int64_t int_attr(OpKind op, const Attrs& attrs, std::string_view name);
double float_attr(OpKind op, const Attrs& attrs, std::string_view name);

}  // namespace loom::ir
