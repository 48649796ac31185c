#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Benchmark of the projmodel daemon on a generated GN monorepo (bench/gen-gn-monorepo.py):
#   discover   `projmodel discover {"path": ...}` latency, process start to exit, p50/p99 over
#              BENCH_CALLS calls against a warm daemon, versus `gn gen out --export-rust-project`
#   update     a BUILD.gn write -> projmodel/modelChanged, minus GN's own query time (the median
#              of `gn gen out --ide=json` timed alone); also the daemon's own reported share
#              (status lastRefresh.ownMs: reading the output, parsing, applying the diff; the
#              proc-macro build is apart, buildMs) and whether it was incremental
#              (lastRefresh.partial: only the changed targets parsed), and the daemon's own CPU
#              time from the write to the notification (/proc: its threads, not GN's), which a
#              loaded machine inflates far less than the wall times
#   rss        the daemon's resident set after the updates (status rssBytes)
#
#   mixed      with --cargo M: the same GN tree with a Cargo workspace of M path-only library
#              crates beside it (<ws>/cargo, a subproject of the GN root: the examples/mixed-monorepo
#              shape); discovers alternate between GN and Cargo crates (p50/p99 of each), and
#              after the BUILD.gn updates as many Cargo.toml writes (one member's dependency on
#              another added, then removed) -> modelChanged, minus `cargo metadata` timed alone
#
# usage: bench/bench-daemon.py [--crates N] [--calls N] [--updates N] [--work DIR]
#                              [--timeout S] [--no-proc-macros] [--cargo M] PROJMODEL
# --updates 0 skips the update part (the table then has no update rows).
# --cargo M (default 0) makes the mixed workspace <work>/gn-<N>-s1-cargo<M> (its own copy, so
# bench-export.sh's tree stays GN only); its crates have no build script or proc macro, and
# cargo runs --offline as the daemon runs it (adapters/cargo/cargo.c), so no network is needed.
# With --no-proc-macros the Cargo subproject's build step (`cargo check --all-targets` of every
# member, 1,000 rustc runs at M = 500) is off too; without it, it runs in the first refresh and
# again after each Cargo.toml write (`lastRefresh.buildMs`).
# --no-proc-macros writes {"gn": {"build_proc_macros": false}} to the workspace's .projmodel.json
# (removed at the end): the generator makes one crate in 23 a proc macro, and building 4,348 of
# them at 100,000 crates would take hours on 2 cores; a warm discover costs the same either way
# (README, "Proc macros in the daemon").
# --timeout (BENCH_TIMEOUT, default 3600 s) bounds each wait for the daemon: a cold tree's first
# refresh builds its proc macros with ninja (hundreds at 10,000 crates: over 600 s on 2 cores).
# The workspace is <work>/gn-<N>-s1 (shared with bench-export.sh), generated when missing.
# Prints a markdown table on stdout; progress on stderr. The daemon runs with private
# XDG_RUNTIME_DIR and XDG_CACHE_HOME under <work> and is stopped at the end.
import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time


def log(*a):
    print("bench-daemon:", *a, file=sys.stderr, flush=True)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.next_id = 1

    def send(self, method, params=None):
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.next_id += 1
        body = json.dumps(msg).encode()
        self.s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return msg["id"]

    def recv(self, timeout=None):
        self.s.settimeout(timeout)
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                n = int(self.buf[:i].split(b":")[1])
                if len(self.buf) >= i + 4 + n:
                    body = self.buf[i + 4:i + 4 + n]
                    self.buf = self.buf[i + 4 + n:]
                    return json.loads(body)
            data = self.s.recv(1 << 20)
            if not data:
                raise EOFError("daemon closed the connection")
            self.buf += data

    timeout = 3600

    def call(self, method, params=None, timeout=None):
        timeout = timeout or Client.timeout
        rid = self.send(method, params)
        while True:
            m = self.recv(timeout)
            if m.get("id") == rid:
                if "error" in m:
                    raise RuntimeError(m["error"])
                return m["result"]

    def wait(self, method, timeout=None):
        timeout = timeout or Client.timeout
        while True:
            m = self.recv(timeout)
            if m.get("method") == method:
                return m


def pct(values, p):
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("projmodel")
    ap.add_argument("--crates", type=int, default=int(os.environ.get("BENCH_CRATES", 10000)))
    ap.add_argument("--calls", type=int, default=int(os.environ.get("BENCH_CALLS", 200)))
    ap.add_argument("--updates", type=int, default=int(os.environ.get("BENCH_UPDATES", 10)))
    ap.add_argument("--work", default=os.environ.get("BENCH_WORK", "/tmp/pm-bench"))
    ap.add_argument("--timeout", type=float,
                    default=float(os.environ.get("BENCH_TIMEOUT", 3600)))
    ap.add_argument("--no-proc-macros", action="store_true")
    ap.add_argument("--cargo", type=int, default=int(os.environ.get("BENCH_CARGO", 0)))
    a = ap.parse_args()
    Client.timeout = a.timeout
    here = os.path.dirname(os.path.abspath(__file__))
    pm = os.path.abspath(a.projmodel)
    ws = os.path.join(a.work, "gn-%d-s1" % a.crates)
    if a.cargo:
        ws += "-cargo%d" % a.cargo
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(os.path.join(ws, ".gn")):
        log("generating %d crates in %s" % (a.crates, ws))
        subprocess.run([sys.executable, os.path.join(here, "gen-gn-monorepo.py"), str(a.crates), ws,
                        "--seed", "1"], check=True, stdout=sys.stderr)
    if a.cargo and not os.path.exists(os.path.join(ws, "cargo", "Cargo.toml")):
        log("generating a Cargo workspace of %d crates in %s/cargo" % (a.cargo, ws))
        gen_cargo(os.path.join(ws, "cargo"), a.cargo)
    run = os.path.join(a.work, "daemon-run")
    cache = os.path.join(a.work, "daemon-cache")
    os.makedirs(run, mode=0o700, exist_ok=True)
    os.chmod(run, 0o700)
    os.makedirs(cache, exist_ok=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=run, XDG_CACHE_HOME=cache)

    # GN's own numbers on the same tree.
    subprocess.run(["gn", "gen", "out"], cwd=ws, check=True, stdout=subprocess.DEVNULL)
    gn_export, gn_query = [], []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(["gn", "gen", "out", "--export-rust-project"], cwd=ws, check=True,
                       stdout=subprocess.DEVNULL)
        gn_export.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["gn", "gen", "out", "--ide=json"], cwd=ws, check=True,
                       stdout=subprocess.DEVNULL)
        gn_query.append(time.perf_counter() - t)
    log("gn export %.0f ms, gn --ide=json %.0f ms" % (1000 * statistics.median(gn_export),
                                                      1000 * statistics.median(gn_query)))
    a.cargo_query = []
    for _ in range(3 if a.cargo else 0):  # the daemon's command (adapters/cargo/cargo.c)
        t = time.perf_counter()
        subprocess.run(["cargo", "metadata", "--format-version", "1", "--offline",
                        "--manifest-path", os.path.join(ws, "cargo", "Cargo.toml")], cwd=ws,
                       check=True, stdout=subprocess.DEVNULL)
        a.cargo_query.append(time.perf_counter() - t)
    if a.cargo:
        log("cargo metadata %.0f ms" % (1000 * statistics.median(a.cargo_query)))

    subprocess.run([pm, "stop", "--root", ws], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    cfg = os.path.join(ws, ".projmodel.json")
    settings = {}
    if a.no_proc_macros:
        settings["gn"] = {"build_proc_macros": False}
    if a.cargo:
        sub = {"root": "cargo", "build_system": "cargo"}
        if a.no_proc_macros:  # no `cargo check` either (adapters/cargo/cargo.c)
            sub["cargo"] = {"build_proc_macros": False}
        settings["subprojects"] = [sub]
    if settings:
        with open(cfg, "w") as f:
            json.dump(settings, f)
    try:
        measure(a, pm, ws, env, gn_export, gn_query)
    finally:
        if settings and os.path.exists(cfg):
            os.unlink(cfg)


def cargo_manifest(k, deps):
    return ('[package]\nname = "k%d"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n'
            % k + "".join('k%d = { path = "../k%d" }\n' % (d, d) for d in deps))


def gen_cargo(root, m):
    """A Cargo workspace of m library crates k0..k<m-1> under root/crates, each using up to two
    earlier ones (seeded, so runs compare)."""
    import random
    rnd = random.Random(1)
    for k in range(m):
        deps = sorted(rnd.sample(range(k), min(k, 2)))
        d = os.path.join(root, "crates", "k%d" % k)
        os.makedirs(os.path.join(d, "src"), exist_ok=True)
        with open(os.path.join(d, "Cargo.toml"), "w") as f:
            f.write(cargo_manifest(k, deps))
        with open(os.path.join(d, "src", "lib.rs"), "w") as f:
            f.write("pub fn f%d() -> u32 {\n    %d%s\n}\n"
                    % (k, k, "".join(" + k%d::f%d()" % (x, x) for x in deps)))
    with open(os.path.join(root, "Cargo.toml"), "w") as f:
        f.write('[workspace]\nresolver = "2"\nmembers = [%s]\n'
                % ", ".join('"crates/k%d"' % k for k in range(m)))


def measure(a, pm, ws, env, gn_export, gn_query):
    t0 = time.perf_counter()
    subprocess.run([pm, "serve", "--root", ws], env=env, check=True)
    sock = json.loads(subprocess.run([pm, "status", "--root", ws, "--json"], env=env, check=True,
                                     capture_output=True, text=True).stdout)["socket"]
    c = Client(sock)
    c.call("projmodel/refresh")  # a fresh, complete model before timing
    log("daemon ready, first refresh done, %.1f s after serve" % (time.perf_counter() - t0))
    labels = c.call("projmodel/search", {"query": "//", "limit": 1000})["labels"]
    files = []
    for lab in labels[:50]:
        crate = c.call("projmodel/crate", {"label": lab})
        files.append(crate["rootModule"])
    # Mixed: the calls alternate between a GN crate and a Cargo crate (kinds[i]: 1 for Cargo).
    asked, kinds = files, [0] * len(files)
    if a.cargo:
        step = max(1, a.cargo // 50)
        cargo_files = [os.path.join(ws, "cargo", "crates", "k%d" % k, "src", "lib.rs")
                       for k in range(a.cargo - 1, -1, -step)][:50]
        asked, kinds = [], []
        for g, k in zip(files, cargo_files):
            asked += [g, k]
            kinds += [0, 1]
    log("%d crates in the model; timing %d discovers" % (c.call("projmodel/status")["crates"],
                                                         a.calls))

    # CPU time beside the wall time: on a loaded machine the wall time is mostly waiting for a
    # core, while the CPU a discover costs (the client's and the daemon's) does not depend on it.
    pid = c.call("projmodel/status")["pid"]
    load = [open("/proc/loadavg").read().split()[0]]
    lat, cpu = [], []
    daemon_cpu = proc_cpu(pid)
    for i in range(a.calls):
        arg = json.dumps({"path": asked[i % len(asked)]})
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run([pm, "discover", arg], env=env, capture_output=True, text=True)
        lat.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        lines = p.stdout.splitlines()
        if p.returncode != 0 or p.stderr or not lines or \
                json.loads(lines[-1]).get("kind") != "finished":
            raise SystemExit("discover failed: %r %r" % (p.stdout[-500:], p.stderr))
    load.append(open("/proc/loadavg").read().split()[0])
    lat = (lat, cpu, (proc_cpu(pid) - daemon_cpu) / a.calls,
           [kinds[i % len(kinds)] for i in range(a.calls)])
    log("load average (1 min) before / after the discovers: %s / %s" % tuple(load))

    if a.updates == 0:
        st = c.call("projmodel/status")
        c.s.close()
        stop(pm, ws, env, pid)
        print_discover(a, gn_export, lat, st, env)
        return

    # Updates: touch a BUILD.gn (a comment) and wait for the model change it causes; a new
    # comment changes no crate, so add and remove a dependency-free target each time.
    c.call("projmodel/subscribe")
    bf = os.path.join(os.path.dirname(files[0]), "BUILD.gn")
    while not os.path.exists(bf) and os.path.dirname(bf) != ws:
        bf = os.path.join(os.path.dirname(os.path.dirname(bf)), "BUILD.gn")
    original = open(bf).read()
    root_mod = os.path.basename(files[0])
    upd, upd_cpu, own, partial, parts = [], [], [], 0, []
    try:
        for i in range(a.updates):
            extra = ('\nrust_library("bench_extra_%d") {\n  crate_root = "%s"\n'
                     '  sources = [ "%s" ]\n}\n' % (i, root_mod, root_mod))
            t = time.perf_counter()
            c0 = proc_cpu(pid)
            with open(bf, "w") as f:
                f.write(original + extra)
            c.wait("projmodel/modelChanged")
            upd.append(time.perf_counter() - t)
            upd_cpu.append(proc_cpu(pid) - c0)
            last = c.call("projmodel/status")["lastRefresh"]
            own.append(last["ownMs"])
            parts.append(last)
            partial += 1 if last.get("partial") else 0
    finally:
        with open(bf, "w") as f:
            f.write(original)
    cargo_upd, cargo_parts = [], []
    if a.cargo:
        # Restoring the BUILD.gn above makes one more GN refresh: let it finish first.
        c.wait("projmodel/modelChanged")
        wait_idle(c)
        cargo_upd, cargo_parts = update_cargo(a, c, ws)
    st = c.call("projmodel/status")
    c.s.close()
    stop(pm, ws, env, pid)

    ms = lambda s: "%.1f ms" % (1000 * s)
    gq = statistics.median(gn_query)
    print_discover(a, gn_export, lat, None, env)
    print("| BUILD.gn write -> modelChanged, median of %d | %s |" % (a.updates,
                                                                    ms(statistics.median(upd))))
    print("| GN's own query (`gn gen --ide=json`, median of 3) | %s |" % ms(gq))
    print("| projmodel's share (write -> notification minus GN's query) | %s |"
          % ms(statistics.median(upd) - gq))
    print("| projmodel's share as the daemon measures it (read+parse+apply, median) | %.1f ms |"
          % statistics.median(own))
    print("| ... the same, worst of %d | %.1f ms |" % (a.updates, max(own)))
    print("| the daemon's CPU from the write to the notification (its own threads, GN apart), "
          "median / worst | %s / %s |" % (ms(statistics.median(upd_cpu)), ms(max(upd_cpu))))
    print("| updates applied incrementally (partial graph) | %d of %d |" % (partial, a.updates))
    for key in ("toolMs", "readMs", "parseMs", "buildMs", "applyMs", "notifyMs"):
        print("| ... `lastRefresh.%s`, median of the updates | %.1f ms |"
              % (key, statistics.median(p.get(key, 0) for p in parts)))
    if a.cargo:
        cq = statistics.median(a.cargo_query)
        print("| Cargo.toml write -> modelChanged (a member's path dependency added or removed), "
              "median of %d | %s |" % (len(cargo_upd), ms(statistics.median(cargo_upd))))
        print("| `cargo metadata --format-version 1 --offline` alone (median of 3) | %s |" % ms(cq))
        print("| projmodel's share of a Cargo.toml write (minus cargo metadata) | %s |"
              % ms(statistics.median(cargo_upd) - cq))
        for key in ("ownMs", "toolMs", "readMs", "parseMs", "buildMs", "applyMs", "notifyMs"):
            print("| ... `lastRefresh.%s` of the Cargo.toml writes, median | %.1f ms |"
                  % (key, statistics.median(p.get(key, 0) for p in cargo_parts)))
    print("| daemon RSS after the updates | %.1f MiB |" % (st.get("rssBytes", 0) / 1048576.0))


def wait_idle(c):
    """Polls projmodel/status until no refresh runs or waits (a bench, not a test: the daemon
    has no notification for a refresh that changed nothing)."""
    while c.call("projmodel/status")["state"] != "idle":
        time.sleep(0.05)


def update_cargo(a, c, ws):
    """a.updates writes of the last Cargo member's manifest, a path dependency on k0 added then
    removed (each changes the model), each timed to projmodel/modelChanged. cargo metadata may
    rewrite Cargo.lock, a build file too; its refresh is let finish before the next write."""
    k = a.cargo - 1
    mf = os.path.join(ws, "cargo", "crates", "k%d" % k, "Cargo.toml")
    original = open(mf).read()
    extra = 'k0 = { path = "../k0" }\n'
    if extra in original:  # k0 already a dependency: add one on k1 instead
        extra = 'k1 = { path = "../k1" }\n'
    upd, parts = [], []
    try:
        for i in range(a.updates):
            t = time.perf_counter()
            with open(mf, "w") as f:
                f.write(original + extra if i % 2 == 0 else original)
            c.wait("projmodel/modelChanged")
            upd.append(time.perf_counter() - t)
            parts.append(c.call("projmodel/status")["lastRefresh"])
            wait_idle(c)
    finally:
        with open(mf, "w") as f:
            f.write(original)
    return upd, parts


def proc_cpu(pid):
    """User + system CPU seconds the process has used (/proc/PID/stat, fields 14 and 15)."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def stop(pm, ws, env, pid):
    """Stops the daemon and waits for it to exit (it folds its write-ahead log in on exit)."""
    subprocess.run([pm, "stop", "--root", ws], env=env, stdout=subprocess.DEVNULL)
    for _ in range(600):
        if not os.path.exists("/proc/%d" % pid):
            return
        time.sleep(0.1)
    log("the daemon (pid %d) is still running 60 s after stop" % pid)


def print_discover(a, gn_export, lat, st, env):
    """The table's head and discover rows and the model database's size; with st (no updates
    run), the daemon's RSS."""
    ms = lambda s: "%.1f ms" % (1000 * s)
    ge = statistics.median(gn_export)
    lat, cpu, daemon_cpu, kinds = lat
    print("| %d crates | value |" % a.crates)
    print("|---|---|")
    print("| `gn gen out --export-rust-project` (median of 3) | %s |" % ms(ge))
    print("| `projmodel discover` p50 (%d calls, warm daemon) | %s |" % (a.calls, ms(pct(lat, 50))))
    print("| `projmodel discover` p99 | %s |" % ms(pct(lat, 99)))
    print("| speed-up of discover p99 over GN's export | %.0fx |" % (ge / pct(lat, 99)))
    if a.cargo:
        for kind, name in ((0, "GN"), (1, "Cargo")):
            v = [x for x, k in zip(lat, kinds) if k == kind]
            print("| ... of which the %s crates' (%d calls) p50 / p99 | %s / %s |"
                  % (name, len(v), ms(pct(v, 50)), ms(pct(v, 99))))
    print("| CPU of one discover: the client's p50 / p99, the daemon's mean | %s / %s, %s |"
          % (ms(pct(cpu, 50)), ms(pct(cpu, 99)), ms(daemon_cpu)))
    dbs = [os.path.join(d, f) for d, _, fs in os.walk(env["XDG_CACHE_HOME"]) for f in fs
           if f.endswith(".db")]
    for db in dbs:  # with its write-ahead log, which the daemon may not have folded in yet
        size = sum(os.path.getsize(f) for f in (db, db + "-wal") if os.path.exists(f))
        print("| model database `%s` (with its -wal) | %.1f MB |" % (os.path.basename(db),
                                                                    size / 1e6))
    if st is not None:
        print("| daemon RSS after the discovers (no updates run) | %.1f MiB |"
              % (st.get("rssBytes", 0) / 1048576.0))


if __name__ == "__main__":
    main()
