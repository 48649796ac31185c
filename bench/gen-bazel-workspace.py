#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate a Bazel workspace of N Rust targets for bench/bench-bazel.sh.

Rules are local Starlark stand-ins for rules_rust (rust_library/rust_binary/rust_test with
rules_rust's attribute names, no-op actions), so `bazel cquery` works offline. Crates form a
random DAG (seeded, so runs compare): each library depends on up to 4 earlier ones, every
tenth crate is a binary, every twentieth a rust_test folded into its package's library.

usage: gen-bazel-workspace.py DIR [N] [SEED]
"""
import os
import random
import sys

RULES = '''def _impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".stamp")
    ctx.actions.write(out, "", is_executable = True)
    return [DefaultInfo(files = depset([out]), executable = out)]

_ATTRS = {
    "srcs": attr.label_list(allow_files = [".rs"]),
    "crate_root": attr.label(allow_single_file = [".rs"]),
    "crate_name": attr.string(),
    "edition": attr.string(),
    "deps": attr.label_list(),
    "proc_macro_deps": attr.label_list(),
    "aliases": attr.label_keyed_string_dict(),
    "crate_features": attr.string_list(),
    "rustc_flags": attr.string_list(),
    "rustc_env": attr.string_dict(),
}

rust_library = rule(implementation = _impl, attrs = _ATTRS)
rust_binary = rule(implementation = _impl, attrs = _ATTRS, executable = True)
rust_test = rule(implementation = _impl, attrs = dict(_ATTRS, crate = attr.label()), test = True)
'''

PER_PACKAGE = 10


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    write(f"{root}/WORKSPACE", 'workspace(name = "bench")\n')
    write(f"{root}/.bazelrc", "build --coverage_report_generator=//:no_coverage\n")
    write(f"{root}/BUILD.bazel", 'filegroup(name = "no_coverage")\n')
    write(f"{root}/rules.bzl", RULES)
    libs = []  # labels of libraries so far
    packages = {}
    for i in range(n):
        pkg = f"pkg{i // PER_PACKAGE:04d}"
        name = f"crate{i:05d}"
        kind = "rust_library"
        if i % 10 == 9:
            kind = "rust_binary"
        elif i % 20 == 5 and packages.get(pkg):
            kind = "rust_test"
        deps = sorted(set(rng.sample(libs, min(len(libs), rng.randint(0, 4)))))
        attrs = [f'    name = "{name}",']
        src = "main.rs" if kind == "rust_binary" else "lib.rs"
        attrs.append(f'    srcs = ["{name}/{src}"],')
        if kind == "rust_test":
            attrs.append(f'    crate = ":{packages[pkg][0]}",')
        if i % 3 == 0:
            attrs.append('    edition = "2018",')
        if i % 7 == 0:
            attrs.append('    crate_features = ["std", "extra"],')
        if deps:
            attrs.append("    deps = [" + ", ".join(f'"{d}"' for d in deps) + "],")
        attrs.append('    visibility = ["//visibility:public"],')
        packages.setdefault(pkg, []).append(name)
        packages[pkg + "/rules"] = packages.get(pkg + "/rules", "") + \
            f"{kind}(\n" + "\n".join(attrs) + "\n)\n\n"
        write(f"{root}/{pkg}/{name}/{src}", f"// {name}\n")
        if kind == "rust_library":
            libs.append(f"//{pkg}:{name}")
    for key, text in packages.items():
        if key.endswith("/rules"):
            pkg = key[: -len("/rules")]
            write(f"{root}/{pkg}/BUILD.bazel",
                  'load("//:rules.bzl", "rust_binary", "rust_library", "rust_test")\n\n' + text)


if __name__ == "__main__":
    main()
