#!/usr/bin/env bash
# Installs every Debian package loom needs to build, test, benchmark and run its examples.
# With --libtorch also LibTorch (libtorch-dev, with OpenBLAS's OpenMP build), which only the peer comparison in
# benchmarks/ uses: about 200 packages, so tests and CI go without it.
# With --fuzz also clang-19 and its runtimes (libclang-rt-19-dev holds libFuzzer and clang's sanitizers,
# libomp-19-dev the omp.h and OpenMP runtime clang compiles codegen/ against), about 150 MB that only the libFuzzer
# build needs (-DLOOM_FUZZ=ON, tests/fuzz/); CI replays the corpora with gcc.
# Idempotent: when everything is present it installs nothing and returns at once.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache python3
  llvm-19-dev llvm-19-tools libdnnl-dev libfmt-dev catch2 libbenchmark-dev
  zlib1g-dev libcli11-dev dataset-fashion-mnist libsleef-dev librsvg2-bin
)
for flag in "$@"; do
  case "$flag" in
    --libtorch) packages+=(libtorch-dev libopenblas0-openmp) ;;
    --fuzz) packages+=(clang-19 libclang-rt-19-dev libomp-19-dev) ;;
    *) echo "install-deps: unknown flag $flag (--libtorch, --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
