#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Benchmark of the daemon's proc-macro builds on a generated GN monorepo
# (bench/gen-gn-monorepo.py), two identical copies of it served at once:
#   warm       `projmodel discover {"path": ...}` latency, process start to exit, p50/p99, with
#              "build_proc_macros" on (every proc macro built by the first refresh) versus the
#              same tree with it off; the calls alternate between the two daemons, so the
#              machine's load falls on both alike. Asserted: no refresh and no gn or ninja run
#              during the calls (the daemons' `refreshes` and a log the tool wrappers append to).
#   rebuild    after a proc macro's source changed, the first `projmodel discover` of a crate
#              using it that carries the rebuilt dylib (write -> that answer; the daemon runs
#              ninja on the proc macro, no gn: docs/build-integration.md), versus
#              `ninja -C out <its output>` alone on
#              the other copy after the same edit; the edits alternate between the two.
#
# usage: bench/bench-procmacro.py [--crates N] [--proc-macro-every K] [--calls N] [--rounds R]
#                                 [--edits N] [--work DIR] PROJMODEL
# --rounds R measures the warm discovers R times in a row (each round its own on/off figures
# and the load average at its start and end), so one run gives several ratios at the loads
# they met; --edits 0 skips the rebuild measurement.
# The generator's default makes one crate in 23 a proc macro (435 at 10,000 crates), and the
# first refresh then builds all of them with ninja (ten minutes on a loaded 2-core machine):
# --proc-macro-every (default 500: 20 proc macros at 10,000 crates) keeps the tree's size and
# shape with fewer proc macros. gn and ninja run through wrappers in <work>/bin (first in PATH)
# that log each run. Prints a markdown table on stdout; progress on stderr.
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

daemon_bench = import_module("bench-daemon")
Client, pct = daemon_bench.Client, daemon_bench.pct


def log(*a):
    print("bench-procmacro:", *a, file=sys.stderr, flush=True)


def wrappers(bindir):
    """gn and ninja wrappers that append their argv to $PM_BENCH_TOOL_LOG, then exec the tool."""
    os.makedirs(bindir, exist_ok=True)
    for tool in ("gn", "ninja"):
        real = shutil.which(tool)
        if not real:
            raise SystemExit("bench-procmacro: %s is not in PATH" % tool)
        path = os.path.join(bindir, tool)
        with open(path, "w") as f:
            f.write('#!/bin/sh\necho "%s $*" >>"$PM_BENCH_TOOL_LOG"\nexec %s "$@"\n'
                    % (tool, real))
        os.chmod(path, 0o755)


def tool_runs(logfile):
    """(gn runs, ninja runs) logged so far."""
    if not os.path.exists(logfile):
        return 0, 0
    lines = open(logfile).read().splitlines()
    return (sum(1 for l in lines if l.startswith("gn ")),
            sum(1 for l in lines if l.startswith("ninja ")))


def discover(pm, env, path):
    """Run `projmodel discover` on @path: (seconds, the finished line's project)."""
    t = time.perf_counter()
    p = subprocess.run([pm, "discover", json.dumps({"path": path})], env=env,
                       capture_output=True, text=True)
    dt = time.perf_counter() - t
    lines = p.stdout.splitlines()
    last = json.loads(lines[-1]) if lines else {}
    if p.returncode != 0 or last.get("kind") != "finished":
        raise SystemExit("discover failed: %r %r" % (p.stdout[-500:], p.stderr[-500:]))
    return dt, last["project"]


def dylib_of(project, root_module):
    for c in project["crates"]:
        if c.get("root_module") == root_module:
            return c.get("proc_macro_dylib_path")
    raise SystemExit("no crate with root module %s in the answer" % root_module)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("projmodel")
    ap.add_argument("--crates", type=int, default=int(os.environ.get("BENCH_CRATES", 10000)))
    ap.add_argument("--proc-macro-every", type=int, default=500)
    ap.add_argument("--calls", type=int, default=int(os.environ.get("BENCH_CALLS", 200)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 1)))
    ap.add_argument("--edits", type=int, default=int(os.environ.get("BENCH_EDITS", 5)))
    ap.add_argument("--work", default=os.environ.get("BENCH_WORK", "/tmp/pm-bench"))
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    pm = os.path.abspath(a.projmodel)
    base = os.path.join(a.work, "gn-%d-s1-m%d" % (a.crates, a.proc_macro_every))
    trees = {"on": base + "-on", "off": base + "-off"}
    for kind, ws in trees.items():
        if not os.path.exists(os.path.join(ws, ".gn")):
            log("generating %d crates in %s" % (a.crates, ws))
            subprocess.run([sys.executable, os.path.join(here, "gen-gn-monorepo.py"),
                            str(a.crates), ws, "--seed", "1", "--proc-macro-every",
                            str(a.proc_macro_every)], check=True, stdout=sys.stderr)
        with open(os.path.join(ws, ".projmodel.json"), "w") as f:
            f.write('{"build_system": "gn", "gn": {"out_dir": "out", "build_proc_macros": %s}}\n'
                    % ("true" if kind == "on" else "false"))
    run = os.path.join(a.work, "daemon-run")
    cache = os.path.join(a.work, "daemon-cache")
    bindir = os.path.join(a.work, "bin")
    os.makedirs(run, mode=0o700, exist_ok=True)
    os.chmod(run, 0o700)
    os.makedirs(cache, exist_ok=True)
    wrappers(bindir)
    env, logs, clients = {}, {}, {}
    for kind, ws in trees.items():
        logs[kind] = os.path.join(a.work, "tools-%s.log" % kind)
        env[kind] = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_CACHE_HOME=cache,
                         PATH=bindir + os.pathsep + os.environ["PATH"],
                         PM_BENCH_TOOL_LOG=logs[kind])
        subprocess.run([pm, "stop", "--root", ws], env=env[kind], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        subprocess.run([pm, "serve", "--root", ws], env=env[kind], check=True)
        sock = json.loads(subprocess.run([pm, "status", "--root", ws, "--json"], env=env[kind],
                                         check=True, capture_output=True,
                                         text=True).stdout)["socket"]
        clients[kind] = Client(sock)
    try:
        report = measure(a, pm, trees, env, logs, clients, os.path.join(cache, "projmodel"))
    finally:
        for kind, ws in trees.items():
            clients[kind].s.close()
            subprocess.run([pm, "stop", "--root", ws], env=env[kind], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    print("\n".join(report))


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def ms(s):
    return "%.1f ms" % (1000 * s)


def warm_rows(a, rounds, files, before, after):
    """The table's rows for the first refreshes and each round of warm discovers."""
    out = ["| measurement | value |", "|---|---|"]
    for n, (lat, dylibs, load0, load1) in enumerate(rounds, 1):
        out.append("| round %d: warm discover p50, on / off (%d calls each, alternating) "
                   "| %s / %s (%.2f×) |"
                   % (n, a.calls, ms(pct(lat["on"], 50)), ms(pct(lat["off"], 50)),
                      pct(lat["on"], 50) / pct(lat["off"], 50)))
        out.append("| round %d: warm discover p90, on / off | %s / %s (%.2f×) |"
                   % (n, ms(pct(lat["on"], 90)), ms(pct(lat["off"], 90)),
                      pct(lat["on"], 90) / pct(lat["off"], 90)))
        out.append("| round %d: warm discover p99, on / off; load average at its start -> end "
                   "| %s / %s (**%.2f×**); %s -> %s |"
                   % (n, ms(pct(lat["on"], 99)), ms(pct(lat["off"], 99)),
                      pct(lat["on"], 99) / pct(lat["off"], 99), load0, load1))
        sock = lat["sock"]
        out.append("| round %d: the daemon alone (`projmodel/rustProject` on an open socket), "
                   "p50 / p99, on / off | %s / %s; %s / %s (p99 %.2f×) |"
                   % (n, ms(pct(sock["on"], 50)), ms(pct(sock["on"], 99)),
                      ms(pct(sock["off"], 50)), ms(pct(sock["off"], 99)),
                      pct(sock["on"], 99) / pct(sock["off"], 99)))
    out.append("| proc-macro dylibs projmodel built and serves (`<cache>/projmodel/dylibs/`) in "
               "the first %d answers of round 1, on / off | %d / %d |"
               % (min(a.calls, len(files)), rounds[0][1]["on"], rounds[0][1]["off"]))
    out.append("| refreshes and gn / ninja runs during the warm discovers, on / off "
               "| %d, %d / %d; %d, %d / %d |"
               % (after["on"][0] - before["on"][0], after["on"][1][0] - before["on"][1][0],
                  after["on"][1][1] - before["on"][1][1], after["off"][0] - before["off"][0],
                  after["off"][1][0] - before["off"][1][0],
                  after["off"][1][1] - before["off"][1][1]))
    return out


def measure(a, pm, trees, env, logs, clients, cache):
    on, off = clients["on"], clients["off"]
    first = {}
    for kind in ("off", "on"):  # a fresh, complete model (and, when on, every dylib) first
        t = time.perf_counter()
        clients[kind].call("projmodel/refresh", timeout=7200)
        first[kind] = time.perf_counter() - t
        last = clients[kind].call("projmodel/status")["lastRefresh"]
        log("%s: first refresh %.1f s (toolMs %.0f, parseMs %.0f), %d gn and %d ninja runs"
            % (kind, first[kind], last["toolMs"], last["parseMs"], *tool_runs(logs[kind])))
    n_crates = on.call("projmodel/status")["crates"]
    labels = on.call("projmodel/search", {"query": "//", "limit": 1000})["labels"]
    macros = [l for l in labels if on.call("projmodel/crate", {"label": l})["kind"] == "proc-macro"]
    if not macros:
        raise SystemExit("no proc macro among the first %d labels" % len(labels))
    rel = {}  # relative root modules of the timed crates: the same in both trees
    for lab in labels[::20][:50]:
        rel[lab] = os.path.relpath(on.call("projmodel/crate", {"label": lab})["rootModule"],
                                   trees["on"])

    # Warm discovers, alternating between the daemons; no tool may run meanwhile.
    before = {k: (clients[k].call("projmodel/status")["refreshes"], tool_runs(logs[k]))
              for k in trees}
    files = list(rel.values())
    rounds = []
    for rnd in range(a.rounds):
        lat = {"on": [], "off": []}
        dylibs = {"on": 0, "off": 0}
        load0 = loadavg()
        for i in range(a.calls):
            for kind in (("on", "off") if i % 2 == 0 else ("off", "on")):
                dt, project = discover(pm, env[kind],
                                       os.path.join(trees[kind], files[i % len(files)]))
                lat[kind].append(dt)
                if i < len(files):
                    dylibs[kind] += sum(1 for c in project["crates"] if (
                        c.get("proc_macro_dylib_path") or "").startswith(cache))
        # The daemon's share alone, without a process per call: projmodel/rustProject over the
        # bench's own connections, alternating as above.
        sock = {"on": [], "off": []}
        for i in range(a.calls):
            for kind in (("on", "off") if i % 2 == 0 else ("off", "on")):
                t = time.perf_counter()
                clients[kind].call("projmodel/rustProject",
                                   {"path": os.path.join(trees[kind], files[i % len(files)])})
                sock[kind].append(time.perf_counter() - t)
        lat["sock"] = sock
        rounds.append((lat, dylibs, load0, loadavg()))
        log("warm round %d: %d calls each, on p50 %.1f ms p99 %.1f ms, off p50 %.1f ms p99 "
            "%.1f ms (%.2fx); daemon alone p99 on %.1f ms off %.1f ms; load %s -> %s"
            % (rnd + 1, a.calls, 1000 * pct(lat["on"], 50), 1000 * pct(lat["on"], 99),
               1000 * pct(lat["off"], 50), 1000 * pct(lat["off"], 99),
               pct(lat["on"], 99) / pct(lat["off"], 99), 1000 * pct(sock["on"], 99),
               1000 * pct(sock["off"], 99), load0, rounds[-1][3]))
    after = {k: (clients[k].call("projmodel/status")["refreshes"], tool_runs(logs[k]))
             for k in trees}
    for k in trees:
        if after[k] != before[k]:
            raise SystemExit("%s: a tool ran during the warm discovers: refreshes, (gn, ninja) "
                             "%r -> %r" % (k, before[k], after[k]))
    warm = warm_rows(a, rounds, files, before, after)
    warm[0] = ("| %d crates, one in %d a proc macro (%s) | value |"
               % (n_crates, a.proc_macro_every, os.path.basename(trees["on"])[:-3]))
    warm[2:2] = ["| first refresh, `build_proc_macros` on (gn, parse, ninja of every proc macro) "
                 "| %.1f s |" % first["on"],
                 "| first refresh, `build_proc_macros` off | %.1f s |" % first["off"]]
    if a.edits == 0:
        return warm + ["| load average at the end (`/proc/loadavg`, %d cores) | %s |"
                       % (os.cpu_count(), loadavg())]

    # Rebuild after a proc macro's source changed: the macro with the most dependents.
    macro = max(macros, key=lambda l: len(on.call("projmodel/rdeps", {"label": l})["labels"]))
    user = on.call("projmodel/rdeps", {"label": macro})["labels"][0]
    mroot = on.call("projmodel/crate", {"label": macro})["rootModule"]
    mrel = os.path.relpath(mroot, trees["on"])
    urel = os.path.relpath(on.call("projmodel/crate", {"label": user})["rootModule"], trees["on"])
    # Its ninja output, as the off tree's build.ninja names it (the toolchain's lib<name>.so).
    name = macro.split("(")[0].split(":")[-1]
    outdir = os.path.join(trees["off"], "out")
    targets = subprocess.run(["ninja", "-C", outdir, "-t", "targets", "all"], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    output = next(t.split(":")[0] for t in targets
                  if t.split(":")[0].endswith("/lib%s.so" % name))
    subprocess.run(["ninja", "-C", outdir, output], check=True, stdout=subprocess.DEVNULL)
    off.call("shutdown")  # the off tree's edits are for ninja alone
    original = open(mroot).read()
    on.call("projmodel/subscribe")
    old = dylib_of(discover(pm, env["on"], os.path.join(trees["on"], urel))[1],
                   os.path.join(trees["on"], mrel))
    rebuilt, ninja_alone, stale, breakdown = [], [], 0, []
    runs_before = tool_runs(logs["on"])
    try:
        for i in range(a.edits):
            text = original.replace(' }".parse()', ' + %d }".parse()' % (i + 1), 1)
            if text == original:
                raise SystemExit("cannot edit %s" % mroot)
            # The daemon's way: write; the daemon rebuilds its dylib with ninja (no gn query);
            # modelChanged names it; then the discover. A discover by path
            # sent before the modelChanged answers at once from the last good model: the old
            # dylib (counted, not timed).
            t = time.perf_counter()
            with open(mroot, "w") as f:
                f.write(text)
            new = dylib_of(discover(pm, env["on"], os.path.join(trees["on"], urel))[1],
                           os.path.join(trees["on"], mrel))
            stale += 1 if new == old else 0
            while new == old:
                changed = on.wait("projmodel/modelChanged", timeout=1800)["params"]
                if macro not in changed["labels"]:
                    continue
                new = dylib_of(discover(pm, env["on"], os.path.join(trees["on"], urel))[1],
                               os.path.join(trees["on"], mrel))
                if new == old:
                    raise SystemExit("modelChanged named %s, the answer has the old dylib" % macro)
            rebuilt.append(time.perf_counter() - t)
            old = new
            last = on.call("projmodel/status")["lastRefresh"]
            breakdown.append(last)
            # ninja alone, on the other copy, after the same edit.
            with open(os.path.join(trees["off"], mrel), "w") as f:
                f.write(text)
            t = time.perf_counter()
            subprocess.run(["ninja", "-C", outdir, output], check=True, stdout=subprocess.DEVNULL)
            ninja_alone.append(time.perf_counter() - t)
            log("edit %d: discover with the new dylib %.0f ms, ninja alone %.0f ms"
                % (i + 1, 1000 * rebuilt[-1], 1000 * ninja_alone[-1]))
    finally:
        for ws in trees.values():
            with open(os.path.join(ws, mrel), "w") as f:
                f.write(original)
    runs_after = tool_runs(logs["on"])

    med = lambda key: statistics.median(x[key] for x in breakdown)
    out = warm
    out.append("| proc macro edited: `%s` (%d crates depend on it); discover of `%s` | |"
               % (macro, len(on.call("projmodel/rdeps", {"label": macro})["labels"]), user))
    out.append("| edit -> first discover with the rebuilt dylib, median / worst of %d | %s / %s |"
               % (a.edits, ms(statistics.median(rebuilt)), ms(max(rebuilt))))
    out.append("| `ninja -C out %s` alone after the same edit, median / worst | %s / %s |"
               % (output, ms(statistics.median(ninja_alone)), ms(max(ninja_alone))))
    out.append("| ratio of the medians | %.2f× |"
               % (statistics.median(rebuilt) / statistics.median(ninja_alone)))
    out.append("| the daemon's refresh, median: toolMs (gn) / buildMs (ninja, dylib copy) / applyMs; "
               "projects queried (`queried`) | %.0f / %.0f / %.0f ms; %g |"
               % (med("toolMs"), med("buildMs"), med("applyMs"), med("queried")))
    out.append("| gn / ninja runs for the %d edits; discovers sent right after the write that "
               "answered with the old dylib | %d / %d; %d |" % (a.edits, runs_after[0] - runs_before[0],
                                   runs_after[1] - runs_before[1], stale))
    out.append("| load average at the end (`/proc/loadavg`, %d cores) | %s |"
               % (os.cpu_count(), loadavg()))
    return out


if __name__ == "__main__":
    main()
