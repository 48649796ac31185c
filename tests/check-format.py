#!/usr/bin/env python3
# Style rule 39: every C file of the project is formatted by the project's .clang-format. Runs
# `clang-format --dry-run --Werror` (argv, no shell) over the source folders and lists offenders.
import os
import subprocess
import sys

root = sys.argv[1]
clang_format = sys.argv[2] if len(sys.argv) > 2 else "clang-format"
files = []
for folder in ["include", "common", "adapters", "indexer", "server", "cli", "tests", "bench"]:
    for dirpath, _, names in os.walk(os.path.join(root, folder)):
        files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".c", ".h"))]
bad = []
for f in files:
    r = subprocess.run([clang_format, "--style=file", "--dry-run", "--Werror", f],
                       cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        bad.append(os.path.relpath(f, root))
for b in bad:
    print(f"{b}: not clang-formatted (run: clang-format -i {b})")
print(f"{len(files) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
