#!/usr/bin/env python3
"""Runs examples/fashion_mnist --model cnn as docs/EXPERIMENTS.md records it and checks what issue #13 promises: the
CNN (conv32-bn-relu-pool, conv64-bn-relu-pool, fc128, dropout, fc10; Adam, batch 64) reaches at least 91.6% test
accuracy (the "2 Conv + pooling" row of the Fashion-MNIST benchmark table) in 10 epochs."""
import re
import subprocess
import sys
import tempfile

binary = sys.argv[1]
with tempfile.TemporaryDirectory() as out:
    run = subprocess.run([binary, "--model", "cnn", "--batch", "64", "--epochs", "10", "--progress", "lines", "--out", out],
                         capture_output=True, text=True)
print(run.stdout[-2500:])
accuracy = re.search(r"test accuracy ([0-9.]+)%", run.stdout)
if run.returncode != 0 or not accuracy or float(accuracy.group(1)) < 91.6:
    print(f"the CNN ends at {accuracy.group(1) if accuracy else 'no'}% test accuracy (exit {run.returncode}); it must reach 91.6%")
    print(run.stderr[-2000:])
    sys.exit(1)
