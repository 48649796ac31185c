#!/usr/bin/env python3
# Style rule 39: every C file of the project is formatted by the project's .clang-format. Runs
# `clang-format --dry-run --Werror` (argv, no shell) once over every C file of the source folders
# (one process, not one per file: the check stays fast on a loaded machine) and lists offenders.
import os
import re
import subprocess
import sys

root = sys.argv[1]
clang_format = sys.argv[2] if len(sys.argv) > 2 else "clang-format"
skip = {"build", "examples", "editors", "docs", "scripts"}
files = []
for folder in sorted(os.listdir(root)):
    if folder.startswith(".") or folder.startswith("build") or folder in skip:
        continue
    if not os.path.isdir(os.path.join(root, folder)):
        continue
    for dirpath, dirs, names in os.walk(os.path.join(root, folder)):
        dirs.sort()
        files += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith((".c", ".h"))]
r = subprocess.run([clang_format, "--style=file", "--dry-run", "--Werror"] + files,
                   cwd=root, capture_output=True, text=True)
bad = sorted({os.path.relpath(m, root)
              for m in re.findall(r"^(/[^:\n]+\.[ch]):\d+:\d+: error:", r.stderr, re.M)})
if r.returncode != 0 and not bad:
    sys.stderr.write(r.stderr)
    print("clang-format failed without naming a file")
    sys.exit(1)
for b in bad:
    print(f"{b}: not clang-formatted (run: clang-format -i {b})")
print(f"{len(files) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
