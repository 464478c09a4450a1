#!/usr/bin/env python3
"""Round-trips IR through loom-opt. For each .loom file under the given directories: loom-opt's output, parsed and
printed again, must be identical (a fixed point). Files written by loom's own printer (IR dumps, named with a
leading 4-digit number) must come back byte for byte: print(parse(text)) == text."""
import pathlib
import subprocess
import sys

loom_opt, *dirs = sys.argv[1:]
failures, checked = [], 0
for d in dirs:
    for path in sorted(pathlib.Path(d).rglob("*.loom")):
        text = path.read_text()
        if "RUN: not" in text:  # files that exist to fail parsing
            continue
        once = subprocess.run([loom_opt, str(path)], capture_output=True, text=True)
        if once.returncode != 0:
            failures.append(f"{path}: {once.stderr.strip()}")
            continue
        twice = subprocess.run([loom_opt, "-"], input=once.stdout, capture_output=True, text=True).stdout
        checked += 1
        if twice != once.stdout:
            failures.append(f"{path}: printing is not a fixed point")
        if path.name[:4].isdigit() and once.stdout != text:
            failures.append(f"{path}: print(parse(text)) differs from the printed text")
print(f"round-tripped {checked} IR files")
if failures or checked == 0:
    print("\n".join(failures) or "no IR files found")
    sys.exit(1)
