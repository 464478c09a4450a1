#include "loom/ir/printer.h"

#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace loom::ir {

namespace {
template <class T>
std::string format_float_as(T value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".enia") == std::string::npos) text += ".0";
  return text;
}
}  // namespace

std::string format_float(double value) { return format_float_as(value); }

namespace {

constexpr std::size_t kLocColumn = 64;

bool is_identifier(const std::string& name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) return false;
  return true;
}

/// f32 constants print their float value ("0.001", not "0.0010000000474974513"); parsing it back rounds to the
/// same float.
std::string format_attr(const AttrValue& value, bool single_precision) {
  struct Visitor {
    bool single_precision;
    std::string operator()(std::int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      return single_precision ? format_float_as(static_cast<float>(v)) : format_float(v);
    }
    std::string operator()(const std::vector<std::int64_t>& v) const { return fmt::format("[{}]", fmt::join(v, ", ")); }
    std::string operator()(const std::string& v) const { return fmt::format("\"{}\"", v); }
  };
  return std::visit(Visitor{single_precision}, value);
}

/// Gives every value a unique SSA name: a node's own name when it has a usable one, else a number.
class Namer {
 public:
  std::string define(const Node& n, NodeId id) {
    std::string base = is_identifier(n.name) ? n.name : std::to_string(counter_++);
    std::string name = base;
    for (int k = 1; !used_.insert(name).second; ++k) name = fmt::format("{}.{}", base, k);
    names_[id] = name;
    return name;
  }
  std::string use(const Graph& g, Value v) const {
    auto it = names_.find(v.node);
    std::string base = it == names_.end() ? fmt::format("<undefined {}>", v.node) : "%" + it->second;
    return g.node(v.node).results.size() > 1 ? fmt::format("{}#{}", base, v.index) : base;
  }

 private:
  int counter_ = 0;
  std::unordered_set<std::string> used_;
  std::unordered_map<NodeId, std::string> names_;
};

/// A result's type followed by its planned buffer, if any.
std::string typed_buffer(const Graph& g, const Node& n, std::size_t k, const Namer& namer) {
  std::string text = n.results[k].str();
  if (k >= n.buffers.size()) return text;
  const Buffer& b = n.buffers[k];
  switch (b.kind) {
    case Buffer::Kind::input: return text + " @input";
    case Buffer::Kind::constant: return text + " @constant";
    case Buffer::Kind::arena: return fmt::format("{} @arena[{}:{}]", text, b.offset, b.end);
    case Buffer::Kind::output: return fmt::format("{} @output({})", text, b.index);
    case Buffer::Kind::state:
      if (n.info().category == OpCategory::Param) return text + " @state";
      return fmt::format("{} @state({})", text, namer.use(g, Value{g.state.at(b.index), 0}));
  }
  return text;
}

std::string result_types(const Graph& g, const Node& n, const Namer& namer) {
  if (n.results.size() == 1) return typed_buffer(g, n, 0, namer);
  std::vector<std::string> types;
  for (std::size_t k = 0; k < n.results.size(); ++k) types.push_back(typed_buffer(g, n, k, namer));
  return fmt::format("({})", fmt::join(types, ", "));
}

}  // namespace

std::string format_attrs(const Attrs& attrs, bool single_precision) {
  if (attrs.items().empty()) return "";
  std::vector<std::string> items;
  for (const auto& [key, value] : attrs.items()) items.push_back(fmt::format("{} = {}", key, format_attr(value, single_precision)));
  return fmt::format("{{{}}}", fmt::join(items, ", "));
}

namespace {

/// Prints one function with every line indented by `indent`; fused nodes print their body nested below them.
void print_function(const Graph& g, const std::string& indent, std::string& out) {
  Namer namer;
  auto params = [&](const std::vector<NodeId>& ids) {
    std::vector<std::string> items;
    for (NodeId id : ids) {
      std::string name = namer.define(g.node(id), id);
      items.push_back(fmt::format("%{}: {}", name, typed_buffer(g, g.node(id), 0, namer)));
    }
    return fmt::format("{}", fmt::join(items, ", "));
  };
  out += fmt::format("{}func @{}({})", indent, g.name(), params(g.inputs));
  if (!g.state.empty()) out += fmt::format(" state({})", params(g.state));
  std::vector<std::string> output_types;
  for (Value v : g.outputs) output_types.push_back(g.type(v).str());
  out += fmt::format(" -> ({}) {{\n", fmt::join(output_types, ", "));

  for (NodeId id : topological_order(g)) {
    const Node& n = g.node(id);
    if (n.info().category == OpCategory::Param) continue;
    std::string name = namer.define(n, id);
    std::string line = n.results.size() == 1 ? fmt::format("{}  %{} = ", indent, name)
                                             : fmt::format("{}  %{}:{} = ", indent, name, n.results.size());
    std::vector<std::string> operands;
    for (Value v : n.operands) operands.push_back(namer.use(g, v));
    line += fmt::format("{}({})", op_name(n.op), fmt::join(operands, ", "));
    if (!n.attrs.items().empty())
      line += " " + format_attrs(n.attrs, n.op == OpKind::constant && n.results[0].dtype == DType::f32);
    line += " : " + result_types(g, n, namer);
    if (n.loc.known()) {
      line.resize(std::max(line.size() + 2, kLocColumn + indent.size()), ' ');
      line += fmt::format("loc(\"{}\":{})", n.loc.short_file(), n.loc.line);
    }
    if (n.body) {
      out += line + " {\n";
      print_function(*n.body, indent + "    ", out);
      out += indent + "  }\n";
    } else {
      out += line + "\n";
    }
  }

  std::vector<std::string> returns;
  for (Value v : g.outputs) returns.push_back(namer.use(g, v));
  out += fmt::format("{}  return {}\n", indent, fmt::join(returns, ", "));
  if (!g.updates.empty()) {
    std::vector<std::string> updates;
    for (const auto& [target, value] : g.updates)
      updates.push_back(fmt::format("{} = {}", namer.use(g, Value{target, 0}), namer.use(g, value)));
    out += fmt::format("{}  update {}\n", indent, fmt::join(updates, ", "));
  }
  out += indent + "}\n";
}

}  // namespace

std::string print(const Graph& g) {
  std::string out;
  print_function(g, "", out);
  return out;
}

}  // namespace loom::ir
