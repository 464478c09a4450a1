#pragma once
/// Node attributes: a small sorted map from names to int, float, int-list or string values.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace loom::ir {

using AttrValue = std::variant<std::int64_t, double, std::vector<std::int64_t>, std::string>;

class Attrs {
 public:
  Attrs() = default;
  Attrs(std::initializer_list<std::pair<std::string, AttrValue>> items);

  void set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const;
  std::int64_t get_int(const std::string& name, std::int64_t fallback = 0) const;
  double get_float(const std::string& name, double fallback = 0.0) const;
  const std::vector<std::int64_t>& get_ints(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;

  /// Sorted by name, so printing and hashing are deterministic.
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  bool operator==(const Attrs&) const = default;

 private:
  const AttrValue* find(const std::string& name) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

}  // namespace loom::ir
