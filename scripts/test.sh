#!/usr/bin/env bash
# Installs what loom needs, builds it with warnings as errors, and runs every test (Catch2 and lit, through ctest).
# Exits non-zero when any step or test fails. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_WERROR=ON
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
