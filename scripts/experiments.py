#!/usr/bin/env python3
"""The two experiments of docs/EXPERIMENTS.md, run with examples/fashion_mnist and printed as Markdown tables:

  (a) over-fitting: the MLP 784-256-256-10 trained on the first 500 training examples for 150 epochs, with no
      regularization, L2 weight decay, dropout, batch norm, or early stopping;
  (b) a 20-layer ReLU MLP (50 units a layer) from a simple initialization N(0, 0.1²) with gradient clipping at
      norm 10, with and without annealed gradient noise, beside the same net from He initialization.

Usage: python3 scripts/experiments.py [a|b ...] [--binary build/examples/fashion_mnist] [--out out/experiments]
Every run's curves (CSV, SVG) stay in its own directory under --out.
"""
import argparse
import csv
import os
import re
import subprocess
import time

OVERFITTING = ("--train-size 500 --batch 50 --epochs 150 --lr-schedule constant", [
    ("none", "--dropout 0"),
    ("L2 weight decay 0.01", "--dropout 0 --weight-decay 0.01"),
    ("dropout 0.5", "--dropout 0.5"),
    ("batch norm", "--dropout 0 --batchnorm"),
    ("early stopping (patience 10)", "--dropout 0 --early-stopping 10"),
])
DEEP = ("--hidden " + ",".join(["50"] * 20) + " --dropout 0 --clip-norm 10 --epochs 10 --lr-schedule constant", [
    ("N(0, 0.1²), SGD 0.01", "--init normal --optimizer sgd --lr 0.01"),
    ("N(0, 0.1²), SGD 0.01, noise η = 0.01", "--init normal --optimizer sgd --lr 0.01 --grad-noise 0.01"),
    ("N(0, 0.1²), SGD 0.01, noise η = 1", "--init normal --optimizer sgd --lr 0.01 --grad-noise 1"),
    ("N(0, 0.1²), Adam 0.001", "--init normal --optimizer adam --lr 0.001"),
    ("N(0, 0.1²), Adam 0.001, noise η = 0.01", "--init normal --optimizer adam --lr 0.001 --grad-noise 0.01"),
    ("He normal, SGD 0.01", "--init he_normal --optimizer sgd --lr 0.01"),
    ("He normal, SGD 0.01, noise η = 0.01", "--init he_normal --optimizer sgd --lr 0.01 --grad-noise 0.01"),
    ("He normal, Adam 0.001", "--init he_normal --optimizer adam --lr 0.001"),
])


def run(binary, out, name, flags):
    directory = os.path.join(out, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))
    start = time.monotonic()
    text = subprocess.run([binary, *flags.split(), "--progress", "off", "--out", directory],
                          check=True, capture_output=True, text=True).stdout
    seconds = time.monotonic() - start
    rows = list(csv.DictReader(open(os.path.join(directory, "curves.csv"))))
    test = re.search(r"test accuracy ([0-9.]+)%, test loss ([0-9.a-z]+)", text)
    best = min(rows, key=lambda r: float(r["validation_loss"]))
    return {
        "name": name, "epochs": len(rows), "seconds": seconds,
        "train_accuracy": 100 * float(rows[-1]["train_accuracy"]), "train_loss": float(rows[-1]["train_loss"]),
        "best_validation_loss": float(best["validation_loss"]), "best_epoch": int(best["epoch"]),
        "final_validation_loss": float(rows[-1]["validation_loss"]),
        "validation_accuracy": 100 * float(rows[-1]["validation_accuracy"]),
        "test_accuracy": float(test.group(1)), "test_loss": test.group(2),
    }


def table(results):
    print("| configuration | epochs | train loss / acc (last epoch) | validation loss: lowest (epoch) → last "
          "| validation acc (last) | test acc | test loss | time |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['epochs']} | {r['train_loss']:.4f} / {r['train_accuracy']:.1f}% "
              f"| {r['best_validation_loss']:.3f} ({r['best_epoch']}) → {r['final_validation_loss']:.3f} "
              f"| {r['validation_accuracy']:.2f}% | {r['test_accuracy']:.2f}% | {r['test_loss']} | {r['seconds']:.0f} s |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="*", default=["a", "b"], choices=["a", "b"])
    parser.add_argument("--binary", default="build/examples/fashion_mnist")
    parser.add_argument("--out", default="out/experiments")
    args = parser.parse_args()
    for key in args.experiments:
        common, configurations = OVERFITTING if key == "a" else DEEP
        print(f"\n### Experiment ({key}): `{os.path.basename(args.binary)} {common} <flags>`\n")
        results = []
        for name, flags in configurations:
            results.append(run(args.binary, os.path.join(args.out, key), name, f"{common} {flags}"))
            print(f"<!-- {name}: {flags} -->", flush=True)
        table(results)


if __name__ == "__main__":
    main()
