#!/usr/bin/env python3
# Style rule 1: each folder owns its dependencies. Fails listing every include that crosses a
# boundary: sqlite3.h outside indexer/, uv.h or inotify outside server/ and cli/, and adapters/
# or indexer/ including server headers. audit/ (the unsafe scanner) is held to the adapters' rules.
import os
import re
import sys

root = sys.argv[1]
rules = {
    "sqlite3.h": {"indexer"},
    "uv.h": {"server", "cli", "tests"},
    "inotifytools/inotifytools.h": {"server", "tests"},
    "sys/inotify.h": {"server", "tests"},
    "projmodel/tool.h": {"server", "cli", "tests", "bench"},
    "projmodel/server.h": {"server", "cli", "tests", "bench"},
}
bad = []
for folder in ["common", "adapters", "audit", "indexer", "server", "cli", "include"]:
    for dirpath, _, files in os.walk(os.path.join(root, folder)):
        for f in files:
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, f)
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    m = re.match(r'\s*#\s*include\s*[<"]([^>"]+)[>"]', line)
                    if not m:
                        continue
                    allowed = rules.get(m.group(1))
                    if allowed is not None and folder not in allowed:
                        bad.append(f"{os.path.relpath(path, root)}:{n}: {folder}/ may not include '{m.group(1)}'")
for b in bad:
    print(b)
print(f"{'1 failed' if bad else '0 failed'}: {len(bad)} boundary violations")
sys.exit(1 if bad else 0)
