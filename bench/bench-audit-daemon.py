#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Benchmark: other requests while the daemon runs a cold projmodel/audit (docs/protocol.md). A
# copy of examples/gn-monorepo gets N generated modules of ~40 KB under //lib/util:util (one
# unsafe block each); a daemon on a fresh model is asked projmodel/audit of every crate on one
# connection while a second connection sends projmodel/status, one after the other, until the
# audit's reply arrives. Reports the audit's duration and the status latencies during it (with
# the scan on the daemon's loop, a status waited for the whole audit).
#
# usage: bench/bench-audit-daemon.py [--files N] [--work DIR] PROJMODEL
# Prints one markdown table on stdout; progress on stderr. The daemon is stopped at the end.
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

BODY = "".join("pub fn f%d(x: &[u8]) -> usize {\n    // not unsafe: a comment\n"
               "    x.iter().filter(|b| **b == %d).count()\n}\n" % (k, k % 256)
               for k in range(400))


def log(*a):
    print("bench-audit-daemon:", *a, file=sys.stderr, flush=True)


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""

    def send(self, rid, method, params=None):
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        body = json.dumps(msg).encode()
        self.s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def reply(self, block=True):
        """The next reply (notifications dropped), or None when none is complete and not
        @block."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                n = int(self.buf[:i].split(b":")[1])
                if len(self.buf) >= i + 4 + n:
                    msg = json.loads(self.buf[i + 4:i + 4 + n])
                    self.buf = self.buf[i + 4 + n:]
                    if "id" in msg:
                        return msg
                    continue
            self.s.setblocking(block)
            try:
                data = self.s.recv(1 << 20)
            except BlockingIOError:
                return None
            if not data:
                raise EOFError("daemon closed the connection")
            self.buf += data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--work", default="/tmp/pm-bench-audit-daemon")
    ap.add_argument("projmodel")
    a = ap.parse_args()
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "gn-monorepo")
    shutil.rmtree(a.work, ignore_errors=True)
    root = os.path.join(a.work, "tree")
    shutil.copytree(src, root, ignore=shutil.ignore_patterns("out", "rust-project.json"))
    gen = os.path.join(root, "lib/util/src/generated")
    os.makedirs(gen)
    for i in range(a.files):
        with open(os.path.join(gen, "m%d.rs" % i), "w") as f:
            f.write("pub fn a() -> u8 {\n    unsafe { core::mem::zeroed() }\n}\n" + BODY)
    with open(os.path.join(gen, "mod.rs"), "w") as f:
        f.write("".join("pub mod m%d;\n" % i for i in range(a.files)))
    lib = os.path.join(root, "lib/util/src/lib.rs")
    with open(lib) as f:
        text = f.read().replace("pub mod text;", "pub mod text;\npub mod generated;", 1)
    with open(lib, "w") as f:
        f.write(text)
    size = sum(os.path.getsize(os.path.join(gen, n)) for n in os.listdir(gen))
    sock = os.path.join(a.work, "s.sock")
    log("%d files, %d bytes; starting the daemon" % (a.files, size))
    daemon = subprocess.Popen([a.projmodel, "serve", "--root", root, "--socket", sock, "--db",
                               os.path.join(a.work, "model.db"), "--foreground", "--log",
                               os.path.join(a.work, "daemon.log")])
    try:
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        audit, status = Client(sock), Client(sock)
        # The model is there: the audit does not wait for a first refresh.
        status.send(0, "projmodel/crate", {"label": "//lib/util:util"})
        status.reply()
        t0 = time.monotonic()
        audit.send(1, "projmodel/audit")
        lat = []
        while True:
            t = time.monotonic()
            status.send(2, "projmodel/status")
            status.reply()
            lat.append((time.monotonic() - t) * 1000)
            if audit.reply(block=False):
                break
            time.sleep(0.005)
        total = (time.monotonic() - t0) * 1000
    finally:
        daemon.terminate()
        daemon.wait()
    lat.sort()
    print("| files | bytes | cold audit | status calls during it | status p50 | status max |")
    print("|---|---|---|---|---|---|")
    print("| %d | %d | %.0f ms | %d | %.2f ms | %.2f ms |" %
          (a.files, size, total, len(lat), lat[len(lat) // 2], lat[-1]))


main()
