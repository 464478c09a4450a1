#include "loom/ir/error.h"

namespace loom {

SourceLoc SourceLoc::from(const std::source_location& loc) { return {loc.file_name(), loc.line()}; }

std::string SourceLoc::short_file() const {
  std::string_view path = file;
  auto last = path.rfind('/');
  if (last != std::string_view::npos && last > 0) {
    auto before = path.rfind('/', last - 1);
    if (before != std::string_view::npos) path = path.substr(before + 1);
  }
  return std::string(path);
}

std::string SourceLoc::str() const { return fmt::format("{}:{}", short_file(), line); }

void raise_at(const SourceLoc& loc, const std::string& message) {
  if (!loc.known()) throw Error(message);
  throw Error(message + "\n  at " + loc.str());
}

}  // namespace loom
