#include "loom/ir/attribute_schema.h"

#include <cmath>
#include <string>

#include <fmt/format.h>

namespace loom::ir {

namespace {

std::string_view kind_name(AttrKind kind) {
  switch (kind) {
    case AttrKind::Int: return "an integer";
    case AttrKind::Float: return "a number";
    case AttrKind::Ints: return "a list of integers";
    case AttrKind::String: return "a string";
  }
  return "?";
}

std::string declared(OpKind op) {
  std::string names;
  for (const AttrSpec& spec : op_info(op).attributes) names += (names.empty() ? "" : ", ") + std::string(spec.name);
  return names.empty() ? "none" : names;
}

bool among(std::string_view value, std::string_view choices) {
  if (choices.empty()) return true;
  for (std::size_t at = 0;;) {
    std::size_t bar = choices.find('|', at);
    if (choices.substr(at, bar - at) == value) return true;
    if (bar == std::string_view::npos) return false;
    at = bar + 1;
  }
}

/// "[0, inf]", or with kAboveZero / kBelowOne as open ends: "(0, inf]", "[0, 1)".
std::string range(const AttrSpec& spec) {
  auto bound = [](double b) { return std::isinf(b) ? std::string(b < 0 ? "-inf" : "inf") : fmt::format("{}", b); };
  return fmt::format("{}{}, {}{}", spec.low == kAboveZero ? "(" : "[", bound(spec.low == kAboveZero ? 0.0 : spec.low),
                     bound(spec.high == kBelowOne ? 1.0 : spec.high), spec.high == kBelowOne ? ")" : "]");
}

const AttrSpec& declaration(OpKind op, std::string_view name) {
  const AttrSpec* spec = find_attribute(op, name);
  if (!spec) throw Error(fmt::format("internal: {} declares no attribute '{}' (ops.def)", op_name(op), name));
  return *spec;
}

}  // namespace

void check_attributes(OpKind op, const Attrs& attrs, const SourceLoc& loc) {
  std::string_view name_of_op = op_name(op);
  for (const auto& [name, value] : attrs.items()) {
    const AttrSpec* spec = find_attribute(op, name);
    if (!spec) raise(loc, "{}: unknown attribute '{}' (it takes: {})", name_of_op, name, declared(op));
    auto out_of_range = [&](double v) { return !(v >= spec->low && v <= spec->high); };
    bool fits = false;
    switch (spec->kind) {
      case AttrKind::Int:
        fits = std::holds_alternative<std::int64_t>(value);
        if (fits && out_of_range(static_cast<double>(std::get<std::int64_t>(value))))
          raise(loc, "{}: attribute '{}' = {} is outside {}", name_of_op, name, std::get<std::int64_t>(value), range(*spec));
        break;
      case AttrKind::Float: {
        fits = std::holds_alternative<double>(value) || std::holds_alternative<std::int64_t>(value);
        double v = fits ? attrs.get_float(name) : 0.0;
        bool any = std::isinf(spec->low) && std::isinf(spec->high);  // e.g. a constant's value: NaN and inf too
        if (fits && !any && out_of_range(v)) raise(loc, "{}: attribute '{}' = {} is outside {}", name_of_op, name, v, range(*spec));
        break;
      }
      case AttrKind::Ints:
        fits = std::holds_alternative<std::vector<std::int64_t>>(value);
        if (fits)
          for (std::int64_t v : std::get<std::vector<std::int64_t>>(value))
            if (out_of_range(static_cast<double>(v)))
              raise(loc, "{}: attribute '{}' has the element {}, outside {}", name_of_op, name, v, range(*spec));
        break;
      case AttrKind::String:
        fits = std::holds_alternative<std::string>(value);
        if (fits && !among(std::get<std::string>(value), spec->choices))
          raise(loc, "{}: attribute '{}' = \"{}\" is not one of {}", name_of_op, name, std::get<std::string>(value), spec->choices);
        break;
    }
    if (!fits) raise(loc, "{}: attribute '{}' must be {}", name_of_op, name, kind_name(spec->kind));
  }
  for (const AttrSpec& spec : op_info(op).attributes)
    if (spec.required && !attrs.has(std::string(spec.name)))
      raise(loc, "{}: missing attribute '{}' ({})", name_of_op, spec.name, kind_name(spec.kind));
}

std::int64_t int_attr(OpKind op, const Attrs& attrs, std::string_view name) {
  const AttrSpec& spec = declaration(op, name);
  return attrs.get_int(std::string(name), static_cast<std::int64_t>(spec.fallback));
}

double float_attr(OpKind op, const Attrs& attrs, std::string_view name) {
  const AttrSpec& spec = declaration(op, name);
  return attrs.get_float(std::string(name), spec.fallback);
}

}  // namespace loom::ir
