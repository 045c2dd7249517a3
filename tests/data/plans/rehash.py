#!/usr/bin/env python3
"""Rewrites the sha256 fields of a hand-written plan.toml after its sources changed.

usage: rehash.py PLAN_DIR

Each `sha256 = "..."` line is updated from the nearest preceding `source = ` or `path = `
line of the same table. Independent of lfc's own SHA-256 (hashlib), so the loader's hash
check is tested against a second implementation.
"""
import hashlib
import pathlib
import re
import sys

plan = pathlib.Path(sys.argv[1])
lines = (plan / "plan.toml").read_text().splitlines(keepends=True)
current = None
for i, line in enumerate(lines):
    m = re.match(r'\s*(source|path)\s*=\s*"([^"]+)"', line)
    if m:
        current = m.group(2)
    if re.match(r'\s*sha256\s*=', line):
        if current is None:
            sys.exit(f"plan.toml:{i + 1}: sha256 before any source/path")
        digest = hashlib.sha256((plan / current).read_bytes()).hexdigest()
        lines[i] = re.sub(r'"[^"]*"', f'"{digest}"', line, count=1)
        current = None
(plan / "plan.toml").write_text("".join(lines))
