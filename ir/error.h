#pragma once
/// loom::Error and source locations: every user-facing failure names the user's file:line.

#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace loom {

/// The one exception type loom throws for bad input. Its message names the op, the operands' types and the
/// user's source line, so a person can act on it without a debugger.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where in the user's code something was created. Kept on every IR node and carried through every pass.
struct SourceLoc {
  std::string file;
  std::uint32_t line = 0;

  static SourceLoc from(const std::source_location& loc);
  bool known() const { return !file.empty(); }
  /// "examples/logistic_regression.cpp:31": the last two path components, enough to find the line.
  std::string str() const;
  /// The file part of str().
  std::string short_file() const;
  bool operator==(const SourceLoc&) const = default;
};

/// Throws Error with the message followed by "\n  at file:line".
[[noreturn]] void raise_at(const SourceLoc& loc, const std::string& message);

template <class... Args>
[[noreturn]] void raise(const SourceLoc& loc, fmt::format_string<Args...> format, Args&&... args) {
  raise_at(loc, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace loom
