#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate a synthetic GN monorepo of N Rust crates for projmodel's benchmarks.

usage: gen-gn-monorepo.py N OUTDIR [--seed S]

The workspace reuses the toolchain of examples/gn-monorepo (its .gn and build/) and has:
  - a monorepo-shaped dependency graph: 5% third-party crates under third_party/rust/, two hubs
    most crates depend on (a std-like facade and a base/util crate), chains within groups of
    100 crates up to depth DEPTH_CAP, a long tail of crates nobody depends on, closures capped
    at CLOSURE_CAP; the closure-size distribution is printed;
  - a feature per crate passed as --cfg, in both GN spellings ("--cfg=feature=..." and the two
    tokens "--cfg", "feature=...") and used by code that only compiles with it;
  - aliased_deps renames, used under the new name;
  - proc macros (built in the host toolchain) whose derive generates a function the user calls:
    one crate in MACRO_EVERY (23; --proc-macro-every: fewer proc macros, fewer ninja builds);
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


# Crates 0..THIRD_PARTY-1 are vendored third-party crates, all under third_party/rust/ as in
# real monorepos; then the two hubs (the std-like facade and a base/util crate that most crates
# depend on); then first-party crates in groups of 100 (one project directory each).
THIRD_PARTY = 0
# One crate in MACRO_EVERY is a proc macro (crate i when i % MACRO_EVERY == 5).
MACRO_EVERY = 23


def crate_dir(i):
    if i < THIRD_PARTY:
        return f"third_party/rust/c{i}"
    if i == THIRD_PARTY:
        return f"facade/c{i}"
    if i == THIRD_PARTY + 1:
        return f"base/c{i}"
    return f"crates/g{i // 100:03d}/c{i}"


def label(i):
    return f"//{crate_dir(i)}:c{i}"


# Upper bound on a crate's transitive dependency count and on its depth (longest dependency
# chain). Real monorepos are wide and fairly shallow; an unbounded random DAG over
# lower-numbered crates makes closures O(N) each, which no real repo has (and which makes GN's
# own export quadratic: 70 s and 2 GB at 10,000 crates).
CLOSURE_CAP = 300
DEPTH_CAP = 20


def plan(n, rng):
    """Decide kind, edition, flag spellings and deps for each crate, lower ids first.

    Third-party crates depend only on earlier third-party crates. The facade depends on a few
    third-party crates and base on the facade; each first-party crate depends on the facade
    and/or base with high probability, then picks a few deps: mostly recent crates of its own
    group (which builds chains, hence depth), some anywhere earlier, some third-party. A pick is
    dropped if it would push the crate's closure over CLOSURE_CAP or its depth over DEPTH_CAP.
    Many crates are never picked: the long tail of leaves. Closures are kept as sorted arrays
    (a 100,000-bit integer per crate would need gigabytes).
    """
    from array import array
    crates = []
    closure = []       # per crate: sorted array of its transitive deps
    depth = []         # per crate: longest chain of deps below it (0 for no deps)
    dependable = set() # ids of rust_library crates
    macros = []        # ids of proc-macro crates
    facade, base = THIRD_PARTY, THIRD_PARTY + 1
    for i in range(n):
        c = {"id": i, "edition": rng.choice(EDITIONS), "edition_two_tokens": rng.random() < 0.5,
             "cfg_two_tokens": rng.random() < 0.5, "deps": [], "macro": None}
        hub = i in (facade, base)
        if not hub and i > 0 and i % MACRO_EVERY == 5 % MACRO_EVERY:
            c["kind"] = "proc_macro"
        elif not hub and i >= 10 and i % 17 == 16 and i > base:
            c["kind"] = "bin"
        else:
            c["kind"] = "lib"
        mine = set()
        d = 0
        chosen = []

        def take(j):
            nonlocal d
            if j in chosen or j not in dependable or depth[j] + 1 > DEPTH_CAP:
                return False
            grown = mine.union(closure[j])
            grown.add(j)
            if len(grown) > CLOSURE_CAP:
                return False
            mine.update(grown)
            chosen.append(j)
            d = max(d, depth[j] + 1)
            return True

        if c["kind"] != "proc_macro" and dependable:
            if i < THIRD_PARTY:
                for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                    take(rng.randrange(0, i))
            elif i == facade:
                for _ in range(3):
                    take(rng.randrange(0, i))
            elif i == base:
                take(facade)
                for _ in range(2):
                    take(rng.randrange(0, THIRD_PARTY))
            else:
                if rng.random() < 0.85:
                    take(base)
                if rng.random() < 0.6:
                    take(facade)
                k = 0 if c["kind"] == "lib" and rng.random() < 0.1 else rng.randint(1, 4)
                group_start = max(i - i % 100, base + 1)
                tries = 0
                extra = 0
                while extra < k and tries < k * 4:
                    tries += 1
                    r = rng.random()
                    if i > group_start and r < 0.65:
                        j = rng.randrange(max(group_start, i - 8), i)
                    elif r < 0.85 and i > base + 1:
                        j = rng.randrange(base + 1, i)
                    elif THIRD_PARTY:
                        j = rng.randrange(0, THIRD_PARTY)
                    else:
                        continue
                    extra += take(j)
            for j in sorted(chosen):
                alias = f"c{j}_as_{i}" if rng.random() < 0.3 else None
                c["deps"].append((j, alias))
            if macros and rng.random() < 0.25:
                m = rng.choice(macros[-5:])
                c["macro"] = (m, f"pm{m}_for_{i}" if rng.random() < 0.3 else None)
                mine.add(m)
                d = max(d, 1)
        closure.append(array("i", sorted(mine)))
        depth.append(d)
        crates.append(c)
        if c["kind"] == "lib":
            dependable.add(i)
        elif c["kind"] == "proc_macro":
            macros.append(i)
    sizes = sorted(len(x) for x in closure)
    dependents = [0] * n
    for x in closure:
        for j in x:
            dependents[j] += 1
    return crates, sizes, max(depth) if depth else 0, dependents


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
    ap.add_argument("--proc-macro-every", type=int, default=23, metavar="K",
                    help="one crate in K is a proc macro (default 23)")
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

    global THIRD_PARTY, MACRO_EVERY
    if args.proc_macro_every < 1:
        sys.exit("gen-gn-monorepo: --proc-macro-every must be at least 1")
    MACRO_EVERY = args.proc_macro_every
    THIRD_PARTY = args.n // 20 if args.n >= 40 else 0
    rng = random.Random(args.seed)
    crates, closure_sizes, max_depth, dependents = plan(args.n, rng)
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
    def pct(p):
        return closure_sizes[min(len(closure_sizes) - 1, len(closure_sizes) * p // 100)]

    leaves = sum(1 for x in dependents if x == 0)
    direct = [0] * args.n
    for c in crates:
        for j, _ in c["deps"]:
            direct[j] += 1
    hubs = sorted(range(args.n), key=lambda j: -direct[j])[:3]
    print(f"generated {args.n} crates in {args.outdir}: {kinds['lib']} libs, {kinds['bin']} bins, "
          f"{kinds['proc_macro']} proc macros, {THIRD_PARTY} under third_party/rust, {edges} "
          f"edges, {renames} renames")
    print(f"closure size (transitive deps) p50 {pct(50)} p90 {pct(90)} p99 {pct(99)} max "
          f"{closure_sizes[-1]}; depth max {max_depth}; {leaves} crates no crate depends on; "
          "most direct dependents: " + ", ".join(f"{label(j)} ({direct[j]})" for j in hubs))

if __name__ == "__main__":
    main()
