#!/usr/bin/env bash
# Installs what loom needs, builds it, and runs the main job: the MLP 784-256-256-10 (ReLU, dropout 0.2, Adam with a
# cosine learning-rate schedule) trained on Fashion-MNIST for 20 epochs. It prints the compile report, a line per
# epoch, the test accuracy, and where the learning curves (CSV, SVG), the checkpoint and the IR dumps went (out/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2 --target fashion_mnist
./build/examples/fashion_mnist --out out/fashion_mnist
