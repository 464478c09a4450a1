#pragma once
/// Every op of the frontend, each on several shapes (broadcasting, size-1 and odd sizes), as test cases shared by
/// the gradient checks and the f32/f64 forward checks.

#include <vector>

#include "grad_check.h"

namespace loom::testing {

std::vector<OpCase> all_op_cases();

}  // namespace loom::testing
