#include "loom/ir/attributes.h"

#include <algorithm>

#include "loom/ir/error.h"

namespace loom::ir {

Attrs::Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items) {
  for (const auto& [name, value] : items) set(name, value);
}

void Attrs::set(const std::string& name, AttrValue value) {
  auto it = std::lower_bound(items_.begin(), items_.end(), name, [](const auto& item, const std::string& key) {
    return item.first < key;
  });
  if (it != items_.end() && it->first == name)
    it->second = std::move(value);
  else
    items_.insert(it, {name, std::move(value)});
}

const AttrValue* Attrs::find(const std::string& name) const {
  for (const auto& item : items_)
    if (item.first == name) return &item.second;
  return nullptr;
}

bool Attrs::has(const std::string& name) const { return find(name) != nullptr; }

std::int64_t Attrs::get_int(const std::string& name, std::int64_t fallback) const {
  const AttrValue* v = find(name);
  if (!v) return fallback;
  if (auto* i = std::get_if<std::int64_t>(v)) return *i;
  throw Error("attribute '" + name + "' is not an integer");
}

double Attrs::get_float(const std::string& name, double fallback) const {
  const AttrValue* v = find(name);
  if (!v) return fallback;
  if (auto* d = std::get_if<double>(v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(v)) return static_cast<double>(*i);
  throw Error("attribute '" + name + "' is not a number");
}

const std::vector<std::int64_t>& Attrs::get_ints(const std::string& name) const {
  static const std::vector<std::int64_t> kEmpty;
  const AttrValue* v = find(name);
  if (!v) return kEmpty;
  if (auto* l = std::get_if<std::vector<std::int64_t>>(v)) return *l;
  throw Error("attribute '" + name + "' is not an integer list");
}

const std::string& Attrs::get_string(const std::string& name) const {
  static const std::string kEmpty;
  const AttrValue* v = find(name);
  if (!v) return kEmpty;
  if (auto* s = std::get_if<std::string>(v)) return *s;
  throw Error("attribute '" + name + "' is not a string");
}

}  // namespace loom::ir
