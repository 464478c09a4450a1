#include "compare.h"

#include <cmath>

#include <catch2/catch.hpp>

namespace loom::testing {

void check_close(const Array& want, const Array& got, double rtol, double atol) {
  REQUIRE(want.type() == got.type());
  for (std::int64_t k = 0; k < want.size(); ++k) {
    double w = want.get(k), g = got.get(k);
    INFO("element " << k << " of " << want.type().str() << ": expected " << w << ", got " << g);
    if (std::isnan(w)) CHECK(std::isnan(g));
    else CHECK(std::abs(w - g) <= atol + rtol * std::abs(w));
  }
}

}  // namespace loom::testing
