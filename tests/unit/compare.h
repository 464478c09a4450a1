#pragma once
/// Element-by-element comparison of two arrays for the backend tests, reported through Catch2.

#include "loom/runtime/array.h"

namespace loom::testing {

/// Same type, and |want - got| <= atol + rtol·|want| for every element (NaN matches NaN).
void check_close(const Array& want, const Array& got, double rtol, double atol);

}  // namespace loom::testing
