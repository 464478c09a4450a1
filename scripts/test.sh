#!/usr/bin/env bash
# Installs what loom needs, builds it with warnings as errors, and runs every test (Catch2 and lit, through ctest),
# then the JIT's tests a second time with its kernels compiled for x86-64-v3 (AVX2) and oneDNN limited to AVX2, so
# the narrower code paths are tested on whatever CPU this is; then builds everything again in build-asan with
# AddressSanitizer and UndefinedBehaviorSanitizer and runs the whole suite there. Exits non-zero when any step or
# test fails. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_WERROR=ON
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2
echo "test.sh: the JIT's tests again, compiled for x86-64-v3 with oneDNN limited to AVX2"
LOOM_TARGET_CPU=x86-64-v3 ONEDNN_MAX_CPU_ISA=AVX2 ctest --test-dir build --output-on-failure -j2 -L jit
echo "test.sh: everything again under AddressSanitizer and UndefinedBehaviorSanitizer (build-asan)"
# Left out: the test of a failed allocation, because ASan's operator new cannot throw std::bad_alloc (it reports
# and stops the process, whatever ASAN_OPTIONS say). No leak suppressions: LLVM's and oneDNN's globals leak nothing
# LeakSanitizer reports. GCC's UBSan prints no stack unless asked. The differential test runs a quarter of its
# graphs: under the sanitizers it is the longest test, and CI must stay under 45 minutes.
export UBSAN_OPTIONS=print_stacktrace=1
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DLOOM_WERROR=ON -DLOOM_SANITIZE=ON
cmake --build build-asan -j2
LOOM_GRAPHS=50 ctest --test-dir build-asan --output-on-failure -j2 -E "^an allocation that fails is a loom::Error"
