#!/usr/bin/env python3
# Long files say why (docs/architecture.md, "Long files"): every C file of the source folders
# (the folders check-format.py formats) over MAX_LINES lines must say "over 800 lines" in its
# header comment, the comment blocks before its first line of code, followed by the reason, e.g.
# "Over 800 lines because its passes all work on one context". A file that holds several
# concerns is split instead. `--self-test` runs the check on planted files and fails unless it
# reports exactly the long file without the sentence.
import os
import re
import sys
import tempfile

MAX_LINES = 800
MARKER = re.compile(r"\bover 800 lines\b", re.I)
SKIP = {"build", "examples", "editors", "docs", "scripts"}


def c_files(root):
    for folder in sorted(os.listdir(root)):
        if folder.startswith(".") or folder.startswith("build") or folder in SKIP:
            continue
        if not os.path.isdir(os.path.join(root, folder)):
            continue
        for dirpath, dirs, names in os.walk(os.path.join(root, folder)):
            dirs.sort()
            for n in sorted(names):
                if n.endswith((".c", ".h")):
                    yield os.path.join(dirpath, n)


def header_comment(lines):
    """The text of the comment blocks before the first line of code, comment marks removed."""
    words, in_comment = [], False
    for line in lines:
        s = line.strip()
        if not in_comment:
            if not s:
                continue
            if not s.startswith("/*"):
                break
            in_comment = "*/" not in s[2:]
        elif "*/" in s:
            in_comment = False
        words.append(re.sub(r"^/?\*+|\*+/$", "", s))
    return " ".join(" ".join(words).split())


def check(root):
    bad = []
    for path in c_files(root):
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
        if len(lines) > MAX_LINES and not MARKER.search(header_comment(lines)):
            bad.append((os.path.relpath(path, root), len(lines)))
    return bad


def self_test():
    long_body = "int x;\n" * (MAX_LINES + 1)
    planted = {
        "src/long.c": "/* SPDX-License-Identifier: MIT */\n/* A long file. */\n" + long_body,
        "src/said.c": "/* SPDX-License-Identifier: MIT */\n/* A long file. Over 800\n"
                      " * lines because it must be. */\n" + long_body,
        "src/late.h": "/* SPDX-License-Identifier: MIT */\n/* A long header. */\n#include <x.h>\n"
                      "/* over 800 lines, said too late */\n" + long_body,
        "src/short.c": "/* SPDX-License-Identifier: MIT */\n/* Short. */\nint x;\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in planted.items():
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        got = sorted(p for p, _ in check(tmp))
    want = ["src/late.h", "src/long.c"]
    if got != want:
        print(f"self-test: reported {got}, expected {want}")
        return 1
    print("self-test: the long files without the sentence are reported, the others pass")
    return 0


def main():
    if "--self-test" in sys.argv[2:]:
        return self_test()
    bad = check(sys.argv[1])
    for path, n in bad:
        print(f"{path}: {n} lines, over {MAX_LINES}, and its header comment does not say why "
              f"('Over 800 lines because ...'); split it by concern or add that sentence")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
