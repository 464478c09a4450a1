#pragma once
/// Checkpoints of shared variables (runtime/checkpoint.h's format), found again by name.

#include <string>
#include <vector>

#include "loom/frontend/graph.h"
#include "loom/runtime/checkpoint.h"

namespace loom {

/// The values of `shared` (shared variables with distinct names), by name.
checkpoint::Entries values_by_name(const std::vector<Tensor>& shared, SrcLoc loc = SrcLoc::current());

/// Sets every tensor of `shared` from the entry of its name in `entries` (read from `source`, named in errors);
/// returns the entries no tensor took. Nothing changes unless every tensor has its entry, of its type: a missing
/// or different one is an Error naming it.
checkpoint::Entries assign_by_name(const std::vector<Tensor>& shared, checkpoint::Entries entries,
                                   const std::string& source, SrcLoc loc = SrcLoc::current());

/// Saves the values of `shared` and the `extra` named arrays to `path`, atomically (checkpoint::save).
void save_checkpoint(const std::string& path, const std::vector<Tensor>& shared, const checkpoint::Entries& extra = {},
                     SrcLoc loc = SrcLoc::current());

/// Loads `path` into `shared` (assign_by_name); returns the entries no tensor took.
checkpoint::Entries load_checkpoint(const std::string& path, const std::vector<Tensor>& shared, SrcLoc loc = SrcLoc::current());

}  // namespace loom
