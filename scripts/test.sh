#!/usr/bin/env bash
# Installs what loom needs, builds it with warnings as errors, and runs every test (Catch2 and lit, through ctest),
# then the JIT's tests a second time with its kernels compiled for x86-64-v3 (AVX2) and oneDNN limited to AVX2, so
# the narrower code paths are tested on whatever CPU this is. Exits non-zero when any step or test fails. Used by
# .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_WERROR=ON
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
echo "test.sh: the JIT's tests again, compiled for x86-64-v3 with oneDNN limited to AVX2"
LOOM_TARGET_CPU=x86-64-v3 ONEDNN_MAX_CPU_ISA=AVX2 ctest --test-dir build --output-on-failure -j2 -L jit
