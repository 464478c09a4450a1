#!/usr/bin/env python3
"""Every flag of examples/fashion_mnist in use: each combination trains one epoch on 1,000 examples and must end
with a finite loss and a test accuracy above chance (the learned model is better than guessing)."""
import re
import subprocess
import sys
import tempfile

binary = sys.argv[1]
combinations = [
    "--model logreg --optimizer sgd --lr 0.1 --init glorot_normal",
    "--optimizer momentum --lr 0.01 --activation tanh --init glorot_uniform --l1 1e-5 --clip-value 1 --threads 1",
    "--optimizer nesterov --lr 0.1 --batch 32 --activation sigmoid --init lecun_uniform --label-smoothing 0.1",
    "--optimizer adagrad --lr 0.01 --activation elu --init he_uniform --augment noise=0.05,flip,shift=1",
    "--optimizer adadelta --lr 1 --activation leaky_relu --batchnorm --lr-schedule step",
    "--optimizer rmsprop --lr 0.001 --activation prelu --hidden 128 --lr-schedule plateau --early-stopping 3",
    "--optimizer adam --activation rrelu --mixup 0.2 --ema 0.9 --grad-noise 0.001 --clip-norm 5",
    "--optimizer adamw --weight-decay 1e-4 --init normal --init-std 0.05 --dropout 0.5 --batch 64",
    "--model cnn --batch 50 --activation elu --dropout 0.3",
]
problems = []
with tempfile.TemporaryDirectory() as out:
    for k, flags in enumerate(combinations):
        run = subprocess.run([binary, *flags.split(), "--train-size", "1000", "--validation", "1000", "--epochs", "2",
                              "--progress", "off", "--out", f"{out}/{k}", "--dump-ir", f"{out}/{k}/dumps"],
                             capture_output=True, text=True)
        accuracy = re.search(r"test accuracy ([0-9.]+)%, test loss ([0-9.]+)", run.stdout)
        print(f"{flags}: exit {run.returncode}, {accuracy.group(0) if accuracy else 'no result'}")
        if run.returncode != 0 or not accuracy or float(accuracy.group(1)) < 30:
            problems.append(f"{flags}: exit {run.returncode}\n{run.stdout[-800:]}\n{run.stderr}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
