#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Benchmark of the projmodel daemon on a generated GN monorepo (bench/gen-gn-monorepo.py):
#   discover   `projmodel discover {"path": ...}` latency, process start to exit, p50/p99 over
#              BENCH_CALLS calls against a warm daemon, versus `gn gen out --export-rust-project`
#   update     a BUILD.gn write -> projmodel/modelChanged, minus GN's own query time (the median
#              of `gn gen out --ide=json` timed alone); also the daemon's own reported share
#              (status lastRefresh.ownMs: reading the output, parsing, applying the diff) and
#              whether it was incremental (lastRefresh.partial: only the changed targets parsed)
#   rss        the daemon's resident set after the updates (status rssBytes)
#
# usage: bench/bench-daemon.py [--crates N] [--calls N] [--updates N] [--work DIR]
#                              [--timeout S] PROJMODEL
# --timeout (BENCH_TIMEOUT, default 3600 s) bounds each wait for the daemon: a cold tree's first
# refresh builds its proc macros with ninja (hundreds at 10,000 crates: over 600 s on 2 cores).
# The workspace is <work>/gn-<N>-s1 (shared with bench-export.sh), generated when missing.
# Prints a markdown table on stdout; progress on stderr. The daemon runs with private
# XDG_RUNTIME_DIR and XDG_CACHE_HOME under <work> and is stopped at the end.
import argparse
import json
import os
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
    a = ap.parse_args()
    Client.timeout = a.timeout
    here = os.path.dirname(os.path.abspath(__file__))
    pm = os.path.abspath(a.projmodel)
    ws = os.path.join(a.work, "gn-%d-s1" % a.crates)
    os.makedirs(a.work, exist_ok=True)
    if not os.path.exists(os.path.join(ws, ".gn")):
        log("generating %d crates in %s" % (a.crates, ws))
        subprocess.run([sys.executable, os.path.join(here, "gen-gn-monorepo.py"), str(a.crates), ws,
                        "--seed", "1"], check=True, stdout=sys.stderr)
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

    subprocess.run([pm, "stop", "--root", ws], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    subprocess.run([pm, "serve", "--root", ws], env=env, check=True)
    sock = json.loads(subprocess.run([pm, "status", "--root", ws, "--json"], env=env, check=True,
                                     capture_output=True, text=True).stdout)["socket"]
    c = Client(sock)
    c.call("projmodel/refresh")  # a fresh, complete model before timing
    labels = c.call("projmodel/search", {"query": "//", "limit": 1000})["labels"]
    files = []
    for lab in labels[:50]:
        crate = c.call("projmodel/crate", {"label": lab})
        files.append(crate["rootModule"])
    log("%d crates in the model; timing %d discovers" % (c.call("projmodel/status")["crates"],
                                                         a.calls))

    lat = []
    for i in range(a.calls):
        arg = json.dumps({"path": files[i % len(files)]})
        t = time.perf_counter()
        p = subprocess.run([pm, "discover", arg], env=env, capture_output=True, text=True)
        lat.append(time.perf_counter() - t)
        lines = p.stdout.splitlines()
        if p.returncode != 0 or p.stderr or not lines or \
                json.loads(lines[-1]).get("kind") != "finished":
            raise SystemExit("discover failed: %r %r" % (p.stdout[-500:], p.stderr))

    # Updates: touch a BUILD.gn (a comment) and wait for the model change it causes; a new
    # comment changes no crate, so add and remove a dependency-free target each time.
    c.call("projmodel/subscribe")
    bf = os.path.join(os.path.dirname(files[0]), "BUILD.gn")
    while not os.path.exists(bf) and os.path.dirname(bf) != ws:
        bf = os.path.join(os.path.dirname(os.path.dirname(bf)), "BUILD.gn")
    original = open(bf).read()
    root_mod = os.path.basename(files[0])
    upd, own, partial, parts = [], [], 0, []
    try:
        for i in range(a.updates):
            extra = ('\nrust_library("bench_extra_%d") {\n  crate_root = "%s"\n'
                     '  sources = [ "%s" ]\n}\n' % (i, root_mod, root_mod))
            t = time.perf_counter()
            with open(bf, "w") as f:
                f.write(original + extra)
            c.wait("projmodel/modelChanged")
            upd.append(time.perf_counter() - t)
            last = c.call("projmodel/status")["lastRefresh"]
            own.append(last["ownMs"])
            parts.append(last)
            partial += 1 if last.get("partial") else 0
    finally:
        with open(bf, "w") as f:
            f.write(original)
    st = c.call("projmodel/status")
    c.s.close()
    subprocess.run([pm, "stop", "--root", ws], env=env, stdout=subprocess.DEVNULL)

    ms = lambda s: "%.1f ms" % (1000 * s)
    gq = statistics.median(gn_query)
    ge = statistics.median(gn_export)
    print("| %d crates | value |" % a.crates)
    print("|---|---|")
    print("| `gn gen out --export-rust-project` (median of 3) | %s |" % ms(ge))
    print("| `projmodel discover` p50 (%d calls, warm daemon) | %s |" % (a.calls, ms(pct(lat, 50))))
    print("| `projmodel discover` p99 | %s |" % ms(pct(lat, 99)))
    print("| speed-up of discover p99 over GN's export | %.0fx |" % (ge / pct(lat, 99)))
    print("| BUILD.gn write -> modelChanged, median of %d | %s |" % (a.updates,
                                                                    ms(statistics.median(upd))))
    print("| GN's own query (`gn gen --ide=json`, median of 3) | %s |" % ms(gq))
    print("| projmodel's share (write -> notification minus GN's query) | %s |"
          % ms(statistics.median(upd) - gq))
    print("| projmodel's share as the daemon measures it (read+parse+apply, median) | %.1f ms |"
          % statistics.median(own))
    print("| ... the same, worst of %d | %.1f ms |" % (a.updates, max(own)))
    print("| updates applied incrementally (partial graph) | %d of %d |" % (partial, a.updates))
    for key in ("toolMs", "readMs", "parseMs", "applyMs", "notifyMs"):
        print("| ... `lastRefresh.%s`, median of the updates | %.1f ms |"
              % (key, statistics.median(p.get(key, 0) for p in parts)))
    print("| daemon RSS after the updates | %.1f MiB |" % (st.get("rssBytes", 0) / 1048576.0))


if __name__ == "__main__":
    main()
