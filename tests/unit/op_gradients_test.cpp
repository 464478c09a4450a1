// Every op's gradient against central differences in f64 (DESIGN §8), on every shape of its cases.

#include <map>

#include <catch2/catch.hpp>

#include "op_cases.h"

using namespace loom;
using namespace loom::testing;

TEST_CASE("every op's symbolic gradient matches central differences in f64") {
  std::map<std::string, int> shapes_per_op;
  for (const OpCase& c : all_op_cases()) {
    SECTION(c.name + " " + std::to_string(shapes_per_op[c.name]++)) { check_gradient(c); }
  }
  for (const auto& [name, count] : shapes_per_op) {
    INFO(name);
    CHECK(count >= 3);
  }
}

TEST_CASE("every op computes the same values in f32 and f64 on the interpreter") {
  std::map<std::string, int> seen;
  for (const OpCase& c : all_op_cases()) {
    SECTION(c.name + " " + std::to_string(seen[c.name]++)) {
      std::vector<double> single = run_forward(c, DType::f32), dbl = run_forward(c, DType::f64);
      REQUIRE(single.size() == dbl.size());
      for (std::size_t i = 0; i < dbl.size(); ++i) {
        INFO(c.name << " element " << i);
        CHECK(single[i] == Approx(dbl[i]).epsilon(1e-4).margin(1e-5));
      }
    }
  }
}
