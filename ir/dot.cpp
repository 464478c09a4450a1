#include "loom/ir/dot.h"

#include "loom/ir/printer.h"

namespace loom::ir {

namespace {
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string to_dot(const Graph& g) {
  std::string out = fmt::format("digraph \"{}\" {{\n  node [shape=box, fontname=\"monospace\"];\n", escape(g.name()));
  for (NodeId id : topological_order(g)) {
    const Node& n = g.node(id);
    std::string label = n.name.empty() ? std::string(op_name(n.op)) : fmt::format("{}: {}", n.name, op_name(n.op));
    if (!n.attrs.items().empty()) label += "\\n" + escape(format_attrs(n.attrs));
    for (const auto& t : n.results) label += "\\n" + t.str();
    if (n.loc.known()) label += "\\n" + escape(n.loc.str());
    std::string style = n.info().category == OpCategory::Param ? ", style=filled, fillcolor=lightgrey" : "";
    out += fmt::format("  n{} [label=\"{}\"{}];\n", id, label, style);
    for (Value v : n.operands) out += fmt::format("  n{} -> n{};\n", v.node, id);
  }
  for (std::size_t i = 0; i < g.outputs.size(); ++i)
    out += fmt::format("  out{} [label=\"return {}\", shape=oval];\n  n{} -> out{};\n", i, i, g.outputs[i].node, i);
  for (const auto& [target, value] : g.updates)
    out += fmt::format("  n{} -> n{} [style=dashed, label=\"update\"];\n", value.node, target);
  return out + "}\n";
}

}  // namespace loom::ir
