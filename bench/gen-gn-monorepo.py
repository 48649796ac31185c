#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate a synthetic GN monorepo of N Rust crates for projmodel's benchmarks.

usage: gen-gn-monorepo.py N OUTDIR [--seed S]

The workspace reuses the toolchain of examples/gn-monorepo (its .gn and build/) and has:
  - crate i depending on a few lower-numbered crates (a random DAG, mostly within its group of
    100, some long-range edges, transitive closures capped at CLOSURE_CAP as in real repos);
  - a feature per crate passed as --cfg, in both GN spellings ("--cfg=feature=..." and the two
    tokens "--cfg", "feature=...") and used by code that only compiles with it;
  - aliased_deps renames, used under the new name;
  - proc macros (built in the host toolchain) whose derive generates a function the user calls;
  - editions 2015/2018/2021/2024 in both flag spellings; 2015 crates use `extern crate`;
  - some executables at the top of the graph, and a //:default group over everything.
Every fact above is load-bearing: a project model that drops a cfg, a rename or a proc-macro
edge gives rust-analyzer a graph that does not compile. Output is deterministic for a seed.
"""
import argparse
import os
import random
import shutil
import sys

EDITIONS = ["2015", "2018", "2021", "2024"]
HOST = "//build/toolchain:host"


def crate_dir(i):
    return f"crates/g{i // 100:03d}/c{i}"


def label(i):
    return f"//{crate_dir(i)}:c{i}"


# Upper bound on a crate's transitive dependency count. Real monorepos are wide and shallow;
# an unbounded random DAG over lower-numbered crates makes closures O(N) each, which no real
# repo has (and which makes GN's own export quadratic: 70 s and 2 GB at 10,000 crates).
CLOSURE_CAP = 150


def plan(n, rng):
    """Decide kind, edition, flag spellings and deps for each crate, lower ids first.

    Crates come in groups of 100 (one directory each, like projects in a monorepo). A crate
    picks most deps among earlier crates of its own group and some anywhere earlier; a pick is
    dropped if it would push the crate's transitive closure over CLOSURE_CAP.
    """
    crates = []
    closure = []       # per crate: bitset (int) of its transitive deps
    dependable = set() # ids of rust_library crates
    macros = []        # ids of proc-macro crates
    for i in range(n):
        c = {"id": i, "edition": rng.choice(EDITIONS), "edition_two_tokens": rng.random() < 0.5,
             "cfg_two_tokens": rng.random() < 0.5, "deps": [], "macro": None}
        if i > 0 and i % 23 == 5:
            c["kind"] = "proc_macro"
        elif i >= 10 and i % 17 == 16:
            c["kind"] = "bin"
        else:
            c["kind"] = "lib"
        mine = 0
        if c["kind"] != "proc_macro" and dependable:
            k = 0 if c["kind"] == "lib" and rng.random() < 0.1 else rng.randint(1, 4)
            group_start = i - i % 100
            chosen = set()
            for _ in range(k * 4):
                if len(chosen) >= k:
                    break
                if i > group_start and rng.random() < 0.75:
                    j = rng.randrange(group_start, i)
                else:
                    j = rng.randrange(0, i)
                if j not in dependable or j in chosen:
                    continue
                grown = mine | closure[j] | (1 << j)
                if bin(grown).count("1") > CLOSURE_CAP:
                    continue
                chosen.add(j)
                mine = grown
            for j in sorted(chosen):
                alias = f"c{j}_as_{i}" if rng.random() < 0.3 else None
                c["deps"].append((j, alias))
            if macros and rng.random() < 0.25:
                m = rng.choice(macros[-5:])
                c["macro"] = (m, f"pm{m}_for_{i}" if rng.random() < 0.3 else None)
                mine |= 1 << m
        closure.append(mine)
        crates.append(c)
        if c["kind"] == "lib":
            dependable.add(i)
        elif c["kind"] == "proc_macro":
            macros.append(i)
    sizes = sorted(bin(x).count("1") for x in closure)
    return crates, sizes


def gn_string_list(items, indent="    "):
    return "".join(f'{indent}{s},\n' for s in items)


def q(s):
    """A GN string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def emit_crate(root, c):
    i = c["id"]
    feature = f'feature="f{i}"'
    flags = []
    if c["edition_two_tokens"]:
        flags += ["--edition", c["edition"]]
    else:
        flags.append(f"--edition={c['edition']}")
    if c["kind"] != "proc_macro":
        if c["cfg_two_tokens"]:
            flags += ["--cfg", feature]
        else:
            flags.append(f"--cfg={feature}")

    gn_deps = [label(j) for j, _ in c["deps"]]
    aliases = {alias: label(j) for j, alias in c["deps"] if alias}
    if c["macro"]:
        m, malias = c["macro"]
        gn_deps.append(f"{label(m)}({HOST})")
        if malias:
            aliases[malias] = f"{label(m)}({HOST})"

    rule = {"lib": "rust_library", "bin": "executable", "proc_macro": "rust_proc_macro"}[c["kind"]]
    root_file = "src/main.rs" if c["kind"] == "bin" else "src/lib.rs"
    build = [f'{rule}("c{i}") {{\n', f'  crate_name = "c{i}"\n', f'  crate_root = "{root_file}"\n',
             f'  sources = [ "{root_file}" ]\n', "  rustflags = [\n",
             gn_string_list([q(f) for f in flags]), "  ]\n"]
    if gn_deps:
        build += ["  deps = [\n", gn_string_list([q(d) for d in gn_deps]), "  ]\n"]
    if aliases:
        build.append("  aliased_deps = {\n")
        build += [f"    {a} = {q(t)}\n" for a, t in sorted(aliases.items())]
        build.append("  }\n")
    build.append("}\n")
    write(os.path.join(root, crate_dir(i), "BUILD.gn"), "".join(build))

    if c["kind"] == "proc_macro":
        src = (f"//! Proc macro c{i} (edition {c['edition']}).\n"
               "extern crate proc_macro;\n"
               "use proc_macro::TokenStream;\n\n"
               f"#[proc_macro_derive(Pm{i})]\n"
               "pub fn derive(_input: TokenStream) -> TokenStream {\n"
               f'    "pub fn pm{i}_generated() -> u64 {{ {i} }}".parse().unwrap()\n'
               "}\n")
        write(os.path.join(root, crate_dir(i), root_file), src)
        return

    lines = [f"//! Crate c{i} (edition {c['edition']}); needs cfg feature \"f{i}\".\n"]
    names = [alias or f"c{j}" for j, alias in c["deps"]]
    mname = None
    if c["macro"]:
        m, malias = c["macro"]
        mname = malias or f"c{m}"
    if c["edition"] == "2015":
        # 2015: --extern crates are not in scope without `extern crate`.
        lines += [f"extern crate {n};\n" for n in names + ([mname] if mname else [])]
    if mname:
        m = c["macro"][0]
        lines.append(f"\n#[derive({mname}::Pm{m})]\n#[allow(dead_code)]\nstruct Marker{i};\n")
    lines.append(f'\n#[cfg(feature = "f{i}")]\npub fn feat_{i}() -> u64 {{\n    {i}\n}}\n')
    body = [f"feat_{i}()"] + [f"{n}::value()" for n in names]
    if mname:
        body.append(f"pm{c['macro'][0]}_generated()")
    expr = body[0] + "".join(f".wrapping_add({b})" for b in body[1:])
    if c["kind"] == "bin":
        lines.append(f'\nfn main() {{\n    println!("{{}}", {expr});\n}}\n')
    else:
        lines.append(f"\npub fn value() -> u64 {{\n    {expr}\n}}\n")
    write(os.path.join(root, crate_dir(i), root_file), "".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of crates")
    ap.add_argument("outdir", help="workspace to create (must not exist or be empty)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = ap.parse_args()
    if args.n < 1 or args.n > 200000:
        sys.exit("gen-gn-monorepo: N must be between 1 and 200000")
    if os.path.exists(args.outdir) and os.listdir(args.outdir):
        sys.exit(f"gen-gn-monorepo: '{args.outdir}' exists and is not empty")

    example = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples",
                           "gn-monorepo")
    os.makedirs(args.outdir, exist_ok=True)
    shutil.copy(os.path.join(example, ".gn"), os.path.join(args.outdir, ".gn"))
    shutil.copytree(os.path.join(example, "build"), os.path.join(args.outdir, "build"))
    write(os.path.join(args.outdir, ".projmodel.json"),
          '{"build_system": "gn", "gn": {"out_dir": "out"}}\n')

    rng = random.Random(args.seed)
    crates, closure_sizes = plan(args.n, rng)
    for c in crates:
        emit_crate(args.outdir, c)
    tops = [label(c["id"]) for c in crates if c["kind"] != "proc_macro"]
    write(os.path.join(args.outdir, "BUILD.gn"),
          "# Generated by bench/gen-gn-monorepo.py: every crate.\n"
          'group("default") {\n  deps = [\n' + gn_string_list([q(t) for t in tops]) + "  ]\n}\n")
    kinds = {k: sum(1 for c in crates if c["kind"] == k) for k in ("lib", "bin", "proc_macro")}
    edges = sum(len(c["deps"]) + (1 if c["macro"] else 0) for c in crates)
    renames = sum(sum(1 for _, a in c["deps"] if a) + (1 if c["macro"] and c["macro"][1] else 0)
                  for c in crates)
    print(f"generated {args.n} crates in {args.outdir}: {kinds['lib']} libs, {kinds['bin']} bins, "
          f"{kinds['proc_macro']} proc macros, {edges} edges, {renames} renames, transitive deps "
          f"median {closure_sizes[len(closure_sizes) // 2]} max {closure_sizes[-1]}")


if __name__ == "__main__":
    main()
