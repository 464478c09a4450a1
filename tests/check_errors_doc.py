#!/usr/bin/env python3
"""docs/ERRORS.md lists user-facing errors as table rows: | `message` | when | `test file` |. Every message must
appear in the test file the row names (regex escapes and lit's `{{...}}` aside), so that every documented error
is triggered and checked by a test, and a changed message that its test follows shows up here too."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
doc = (root / "docs" / "ERRORS.md").read_text()
row = re.compile(r"^\| `(?P<message>(?:[^`])+)` \| [^|]*(?:\\\|[^|]*)* \| `(?P<test>[^`]+)` \|$")
problems, checked = [], 0
for number, line in enumerate(doc.splitlines(), start=1):
    if not line.startswith("| `"):
        continue
    match = row.match(line)
    if not match:
        problems.append(f"ERRORS.md:{number}: not a row of | `message` | when | `test` |: {line}")
        continue
    message = match["message"].replace("\\|", "|")
    test = root / "tests" / match["test"]
    if not test.is_file():
        problems.append(f"ERRORS.md:{number}: no test file tests/{match['test']}")
        continue
    # Tests write messages as C++ or Python strings, as regexes (escaped) or as FileCheck patterns.
    source = test.read_text().replace("\\", "")
    if message not in source:
        problems.append(f"ERRORS.md:{number}: tests/{match['test']} does not check `{message}`")
    checked += 1
print(f"check_errors_doc: {checked} messages, each checked by the test named")
if problems or checked == 0:
    print("\n".join(problems) or "no rows found")
    sys.exit(1)
