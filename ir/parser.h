#pragma once
/// Reads the text format that printer.h writes, so every stage of a compiled graph can be saved, edited and fed
/// back (loom-opt, lit tests). print(parse(text)) == text for every printed graph.

#include <string_view>

#include "loom/ir/graph.h"

namespace loom::ir {

/// Parses one function. Every node's declared type is checked against its operands. Throws Error as
/// "<source>:line:column: expected ..., found ..." on malformed input.
Graph parse(std::string_view text, std::string_view source_name = "<input>");

/// Whether `name` can name a function or a value in IR text: letters, digits, '_' and '.', at least one.
bool is_identifier(std::string_view name);

}  // namespace loom::ir
