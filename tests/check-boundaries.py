#!/usr/bin/env python3
# Module boundaries, derived from the build rather than a hand list (docs/architecture.md).
#
# Every top-level folder with a meson.build target is a module. From the build and the sources:
# - a module's folder dependencies are the `<folder>_dep` names in its target's `dependencies:`
#   (transitively), its external ones the other `*_dep` names listed there directly;
# - include/projmodel/X.h is owned by the module whose .c files define its functions (a header
#   that declares no defined function, such as banned.h, belongs to everyone);
# - an external dependency is part of a module's interface when that module's public header
#   uses its types (struct cJSON in config.h), and then reaches every module depending on it.
# A file may include projmodel/X.h only if X.h's owner is its own module or a dependency; an
# external header only if its dependency is the module's own or part of a dependency's
# interface; a `*-internal.h` only from within the folder that holds it.
# And server/ names no build system: no string literal of server/*.c or *.h holds a build system's
# name (each adapters/<name>/ folder's, and the tools they drive, BUILD_TOOLS) as a word, so
# that what differs per build system is an adapter op (include/projmodel/adapter.h); the files
# of SERVER_NAMES_BUILD_SYSTEMS are the ones left, each with why (an entry whose file no longer
# names one is reported, so the list only shrinks).
# `--self-test` plants one bad include of each kind and a build tool's name in server/ in a copy
# of the tree and fails unless every one of them is reported.
import os
import re
import shutil
import subprocess
import sys
import tempfile

INCLUDE = re.compile(r'\s*#\s*include\s*[<"]([^>"]+)[>"]')
DEFINITION = re.compile(r"^(pm_\w+)\(", re.M)
DECLARATION = re.compile(r"\b(pm_\w+)\s*\(")
# The headers each Debian package's pkg-config dependency provides, and the types that make it
# part of a public header's interface.
INTERFACE_TYPES = {
    "sqlite_dep": re.compile(r"\bsqlite3(_stmt)?\s*\*"),
    "uv_dep": re.compile(r"\buv_\w+_t\b"),
    "inotify_dep": re.compile(r"\bstruct inotify_event\b"),
    "cjson_dep": re.compile(r"\bstruct cJSON\b|\bcJSON\s*\*"),
}
EXTERNAL_HEADERS = {
    "sqlite_dep": ["sqlite3.h"],
    "uv_dep": ["uv.h"],
    "inotify_dep": ["inotifytools/inotifytools.h", "sys/inotify.h"],
    "cjson_dep": ["cjson/cJSON.h"],
}
# Tools an adapter drives that are not an adapter's name.
BUILD_TOOLS = ["ninja"]
# The server/ files allowed to name a build system, each with why. None: what differs per build
# system is an adapter op, even a plan grown step by step from the previous step's output
# (`projmodel check|test|run`, pm_adapter_ops.check_step).
SERVER_NAMES_BUILD_SYSTEMS = {}
C_TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)


def read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def sources(root, folder):
    for dirpath, dirs, names in os.walk(os.path.join(root, folder)):
        dirs.sort()
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(dirpath, n)


def includes(path):
    for n, line in enumerate(read(path).splitlines(), 1):
        m = INCLUDE.match(line)
        if m:
            yield n, m.group(1)


def modules(root):
    """folder -> (folder deps, external deps) from each top-level meson.build's target."""
    deps = {}
    for folder in sorted(os.listdir(root)):
        build = os.path.join(root, folder, "meson.build")
        if folder in ("tests", "bench") or not os.path.isfile(build):
            continue
        text = read(build)
        lists = re.findall(r"(?:static_library|executable)\s*\(.*?dependencies\s*:\s*\[([^\]]*)\]",
                           text, re.S)
        if not lists:
            continue
        names = set(re.findall(r"(\w+_dep)\b", " ".join(lists)))
        deps[folder] = ({n[:-4] for n in names if n[:-4] != folder and n not in EXTERNAL_HEADERS
                         and n[:-4] != "thread"},
                        {n for n in names if n in EXTERNAL_HEADERS})
    closure = {}
    for folder in deps:
        seen, todo = set(), list(deps[folder][0])
        while todo:
            d = todo.pop()
            if d in seen or d not in deps:
                continue
            seen.add(d)
            todo += deps[d][0]
        closure[folder] = seen
    return deps, closure


def owners(root, folders):
    defined = {}
    for folder in folders:
        for path in sources(root, folder):
            if path.endswith(".c"):
                for name in DEFINITION.findall(read(path)):
                    defined.setdefault(name, set()).add(folder)
    owner = {}
    inc = os.path.join(root, "include", "projmodel")
    for h in sorted(os.listdir(inc)):
        votes = {}
        for name in set(DECLARATION.findall(read(os.path.join(inc, h)))):
            for folder in defined.get(name, ()):
                votes[folder] = votes.get(folder, 0) + 1
        if votes:
            owner["projmodel/" + h] = max(sorted(votes), key=votes.get)
    return owner


def check(root):
    deps, closure = modules(root)
    owner = owners(root, deps)
    interface = {f: set() for f in deps}
    for header, folder in owner.items():
        code = re.sub(r"/\*.*?\*/", "", read(os.path.join(root, "include", header)), flags=re.S)
        for ext, pattern in INTERFACE_TYPES.items():
            if pattern.search(code):
                interface[folder].add(ext)
    bad = []
    for folder in sorted(deps):
        allowed_ext = set(deps[folder][1])
        for d in closure[folder]:
            allowed_ext |= interface[d]
        for path in sources(root, folder):
            rel = os.path.relpath(path, root)
            for n, inc in includes(path):
                where = f"{rel}:{n}: {folder}/ may not include '{inc}'"
                o = owner.get(inc)
                if o is not None and o != folder and o not in closure[folder]:
                    bad.append(f"{where} (owned by {o}/, not a dependency in {folder}/meson.build)")
                for ext, headers in EXTERNAL_HEADERS.items():
                    if inc in headers and ext not in allowed_ext:
                        bad.append(f"{where} ({ext} is not in {folder}/meson.build's dependencies)")
                if inc.endswith("-internal.h"):
                    # Quoted: next to the file, or from the source root ("adapters/gn/...").
                    home = inc.split("/")[0] if "/" in inc else folder
                    if home != folder:
                        bad.append(f"{where} (another folder's internal header)")
    bad += build_system_names(root)
    return owner, bad


def build_system_names(root):
    """server/'s string literals that name a build system, outside SERVER_NAMES_BUILD_SYSTEMS."""
    adapters = os.path.join(root, "adapters")
    names = sorted(n for n in os.listdir(adapters) if os.path.isdir(os.path.join(adapters, n)))
    word = re.compile(r"\b(" + "|".join(map(re.escape, names + BUILD_TOOLS)) + r")\b", re.I)
    bad = []
    for path in sources(root, "server"):
        rel = os.path.relpath(path, root)
        text = read(path)
        hits = []
        for m in C_TOKEN.finditer(text):
            literal = m.group(0)
            if literal.startswith('"') and word.search(literal):
                hits.append((text.count("\n", 0, m.start()) + 1, literal))
        if rel in SERVER_NAMES_BUILD_SYSTEMS:
            if not hits:
                bad.append(f"{rel}: names no build system any more: drop it from "
                           "SERVER_NAMES_BUILD_SYSTEMS")
            continue
        for n, literal in hits:
            bad.append(f"{rel}:{n}: server/ names a build system in {literal} "
                       "(an adapter op's decision, include/projmodel/adapter.h)")
    return bad


def self_test(root):
    plants = [
        ("adapters", "projmodel/index.h"),
        ("indexer", "projmodel/server.h"),
        ("adapters", "projmodel/client.h"),
        ("indexer", "projmodel/refresh.h"),
        ("server", "sqlite3.h"),
        ("indexer", "uv.h"),
        ("cli", "../server/server-internal.h"),
        ("cli", "server/server-internal.h"),
    ]
    tmp = tempfile.mkdtemp()
    try:
        copy = os.path.join(tmp, "tree")
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns("build*", ".git", "examples",
                                                                  "editors", "tests", "bench"))
        _, bad = check(copy)
        if bad:
            print("self-test: the tree is not clean to begin with:", *bad, sep="\n")
            return 1
        for folder, inc in plants:
            target = next(p for p in sources(copy, folder) if p.endswith(".c"))
            original = read(target)
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(f'#include "{inc}"\n' + original)
            _, bad = check(copy)
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(original)
            if not any(f"may not include '{inc}'" in b for b in bad):
                print(f"self-test: a planted '#include \"{inc}\"' in {folder}/ was not reported")
                return 1
            print(f"self-test: caught {inc} in {folder}/: {bad[0]}")
        # check.c, the generic driver of every adapter's check_step, most of all.
        target = os.path.join(copy, "server", "check.c")
        original = read(target)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(original + '\nstatic const char *const planted = "Ninja";\n')
        _, bad = check(copy)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(original)
        if not any("names a build system in \"Ninja\"" in b for b in bad):
            print(f"self-test: a planted \"Ninja\" in {target} was not reported")
            return 1
        print(f"self-test: caught a build tool's name in server/: {bad[0]}")
    finally:
        shutil.rmtree(tmp)
    print("self-test: every planted include and name was reported")
    return 0


def main():
    root = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--self-test":
        sys.exit(self_test(root))
    owner, bad = check(root)
    for b in bad:
        print(b)
    print(f"{len(owner)} owned headers; {len(bad)} boundary violations")
    sys.exit(1 if bad else 0)


main()
