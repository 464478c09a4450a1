#!/usr/bin/env bash
# Installs what loom needs, builds it, and runs the main job: the logistic-regression demo, which prints its
# learning curve, its accuracy and the IR of its training function, and writes IR dumps under out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2 --target logistic_regression
./build/examples/logistic_regression out/logistic_regression
