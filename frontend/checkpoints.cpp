#include "loom/frontend/checkpoints.h"

#include <map>
#include <set>

#include <fmt/format.h>

namespace loom {

checkpoint::Entries values_by_name(const std::vector<Tensor>& shared, SrcLoc where) {
  checkpoint::Entries entries;
  std::set<std::string> names;
  for (const Tensor& t : shared) {
    if (t.name().empty() || !names.insert(t.name()).second)
      raise(SourceLoc::from(where), "checkpoint: shared variables need distinct names ('{}')", t.name());
    entries.emplace_back(t.name(), t.get_value(where));
  }
  return entries;
}

checkpoint::Entries assign_by_name(const std::vector<Tensor>& shared, checkpoint::Entries entries,
                                   const std::string& source, SrcLoc where) {
  std::map<std::string, const Array*> by_name;
  for (const auto& [name, array] : entries) by_name[name] = &array;
  for (const Tensor& t : shared) {  // check everything before changing anything
    auto found = by_name.find(t.name());
    if (found == by_name.end()) raise(SourceLoc::from(where), "checkpoint: {} has no entry for '{}'", source, t.name());
    if (found->second->type() != t.type())
      raise(SourceLoc::from(where), "checkpoint: {} holds '{}' as {}, the variable is {}", source, t.name(),
            found->second->type().str(), t.type().str());
  }
  std::set<std::string> taken;
  for (Tensor t : shared) {
    t.set_value(*by_name.at(t.name()), where);
    taken.insert(t.name());
  }
  checkpoint::Entries rest;
  for (auto& entry : entries)
    if (!taken.count(entry.first)) rest.push_back(std::move(entry));
  return rest;
}

void save_checkpoint(const std::string& path, const std::vector<Tensor>& shared, const checkpoint::Entries& extra, SrcLoc where) {
  checkpoint::Entries entries = values_by_name(shared, where);
  for (const auto& entry : extra) {
    for (const auto& taken : entries)
      if (taken.first == entry.first)
        raise(SourceLoc::from(where), "save_checkpoint: '{}' is both a shared variable and an extra entry", entry.first);
    entries.push_back(entry);
  }
  checkpoint::save(path, entries);
}

checkpoint::Entries load_checkpoint(const std::string& path, const std::vector<Tensor>& shared, SrcLoc where) {
  return assign_by_name(shared, checkpoint::load(path), path, where);
}

}  // namespace loom
