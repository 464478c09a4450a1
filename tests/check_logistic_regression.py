#!/usr/bin/env python3
"""Runs examples/logistic_regression and checks what its issue promises: the cost falls monotonically over the
50 steps, the final training accuracy is above 0.95, and the IR before and after autodiff is printed."""
import re
import subprocess
import sys

binary, dump_dir = sys.argv[1], sys.argv[2]
out = subprocess.run([binary, dump_dir], check=True, capture_output=True, text=True).stdout
costs = [float(m.group(1)) for m in re.finditer(r"^\s*\d+\s+([0-9.eE+-]+)$", out, re.M)]
accuracy = float(re.search(r"training accuracy: ([0-9.]+)", out).group(1))
problems = []
if len(costs) != 50:
    problems.append(f"expected 50 cost lines, got {len(costs)}")
if any(b >= a for a, b in zip(costs, costs[1:])):
    problems.append(f"cost does not fall monotonically: {costs}")
if accuracy <= 0.95:
    problems.append(f"training accuracy {accuracy} is not above 0.95")
if "grad(%cost" not in out or "before autodiff" not in out or "after the O2 pipeline" not in out:
    problems.append("the IR before and after autodiff is not printed")
final_ir = out.split("after the O2 pipeline")[-1].split("--- passes ---")[0]
if re.search(r"= log\(", final_ir) or "softplus(" not in final_ir:
    problems.append("the O2 training IR still takes log() of a sigmoid instead of using softplus")
print(f"costs {costs[0]:.4f} -> {costs[-1]:.4f} over {len(costs)} steps, accuracy {accuracy}")
if problems:
    print("\n".join(problems))
    sys.exit(1)
