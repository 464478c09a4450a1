#!/usr/bin/env python3
"""Runs examples/fashion_mnist as the README's main job runs it and checks what issue #11 promises: the MLP
(784-256-256-10, ReLU, dropout 0.2, Adam) reaches at least 88.3% test accuracy within 3 minutes; without a terminal
the progress is plain lines (no bar); the learning curves are a CSV with a row per epoch and an SVG that renders to
a picture with both curves in it; the IR dumps exist; bad flags get a message, not an exception trace."""
import csv
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

binary = sys.argv[1]
problems = []


def decode_png(path):
    """(width, height, rows of RGBA tuples) of an 8-bit RGB or RGBA PNG, as rsvg-convert writes them."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat = 8, b""
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"PNG depth {depth} colour type {colour}"
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    channels = 4 if colour == 6 else 3
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1: line[i] = (line[i] + left) & 255
            elif kind == 2: line[i] = (line[i] + up) & 255
            elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


with tempfile.TemporaryDirectory() as out:
    start = time.monotonic()
    run = subprocess.run([binary, "--out", out], capture_output=True, text=True)
    seconds = time.monotonic() - start
    text = run.stdout
    print(text[-1500:])
    if run.returncode != 0:
        problems.append(f"exit status {run.returncode}: {run.stderr}")
    epochs = re.findall(r"^epoch +(\d+)/(\d+)  train loss", text, re.M)
    accuracy = re.search(r"test accuracy ([0-9.]+)%", text)
    if not epochs:
        problems.append("no per-epoch progress lines")
    if "\r" in text or "\033[K" in text:
        problems.append("a progress bar was drawn although stdout is not a terminal")
    if not accuracy or float(accuracy.group(1)) < 88.3:
        problems.append(f"test accuracy {accuracy and accuracy.group(1)}% is below 88.3%")
    if seconds > 180:
        problems.append(f"the main job took {seconds:.0f} s, more than 3 minutes")
    for promised in ("compile report", "learning curves:", "checkpoint:", "IR dumps:"):
        if promised not in text:
            problems.append(f"the output does not say '{promised}'")
    rows = list(csv.DictReader(open(os.path.join(out, "curves.csv"))))
    if len(rows) != len(epochs) or not rows or float(rows[-1]["validation_accuracy"]) <= float(rows[0]["validation_accuracy"]) - 0.01:
        problems.append(f"curves.csv has {len(rows)} rows for {len(epochs)} epochs, or validation accuracy fell")
    for d in ("train_step", "evaluate"):
        if not any(f.endswith(".loom") for f in os.listdir(os.path.join(out, "ir", d))):
            problems.append(f"no IR dumps in {out}/ir/{d}")
    png = os.path.join(out, "curves.png")
    subprocess.run(["rsvg-convert", os.path.join(out, "curves.svg"), "-o", png], check=True)
    width, height, pixels = decode_png(png)
    colours = [p for row in pixels for p in row]
    train_blue = sum(1 for r, g, b in colours if abs(r - 0x1f) < 40 and abs(g - 0x77) < 40 and abs(b - 0xb4) < 40)
    validation_orange = sum(1 for r, g, b in colours if abs(r - 0xff) < 40 and abs(g - 0x7f) < 40 and b < 60)
    dark = sum(1 for r, g, b in colours if r + g + b < 200)
    print(f"curves.svg rendered {width}x{height}: {train_blue} train, {validation_orange} validation, {dark} dark pixels")
    if width < 400 or train_blue < 500 or validation_orange < 500 or dark < 1000:
        problems.append("the rendered learning curves lack a curve, the axes or the text")
    print(f"main job: {len(epochs)} epochs, test accuracy {accuracy and accuracy.group(1)}%, {seconds:.1f} s")

    for flags, message in ((["--lr", "-1"], "--lr: '-1' must be above 0"),
                           (["--optimizer", "adamax"], "--optimizer: adamax not in"),
                           (["--augment", "blur"], "'blur' is not noise[=sigma], flip or shift[=pixels]"),
                           (["--augment", "noise=nan"], "'noise=nan' is out of range"),
                           (["--mixup", "0.2", "--label-smoothing", "0.1"], "mixup and label smoothing do not combine")):
        bad = subprocess.run([binary, *flags], capture_output=True, text=True)
        said = bad.stdout + bad.stderr
        if bad.returncode == 0 or message not in said or "terminate" in said:
            problems.append(f"{' '.join(flags)}: exit {bad.returncode}, said {said!r}")
    missing = subprocess.run([binary, "--out", out], capture_output=True, text=True, env={**os.environ, "LOOM_DATA": "/nonexistent"})
    if missing.returncode != 1 or "apt-get install dataset-fashion-mnist" not in missing.stderr:
        problems.append(f"missing data: exit {missing.returncode}, said {missing.stderr!r}")

if problems:
    print("\n".join(problems))
    sys.exit(1)
