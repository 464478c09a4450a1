#pragma once
/// The message of the loom::Error a piece of code throws, for tests of error messages.

#include <string>

#include <catch2/catch.hpp>

#include "loom/ir/error.h"

namespace loom::testing {

/// Runs `fn` and returns what its loom::Error says; fails the test when it throws nothing (anything other than a
/// loom::Error escapes, and Catch2 reports it as a failure too).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no loom::Error was thrown");
  return "";
}

}  // namespace loom::testing
