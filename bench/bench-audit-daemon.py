#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Benchmark: projmodel/audit through the daemon (docs/protocol.md). A daemon on a model without
# stored scans is asked projmodel/audit of every crate: the cold audit, while a second connection
# sends projmodel/status back to back (their latencies: the scan must not stall the loop); then
# the same audit again, nothing changed: the first warm one (every file stat'ed once more, under
# the directories' watches the cold one asked for), then RUNS more (neither stat nor read: the
# watches vouch for the files, and the answer is the one kept); then one file is edited and the
# audit asked again, RUNS times (a comment appended each time: only that file's crate is counted
# and printed again, the status' "rendered"). Times run from the request's first byte to the
# reply's last one (the reply is parsed after the clock stops; its json.loads() is timed alone).
#
# The peer, measured in the same run, interleaved with the warm audits: the same number of bytes
# (the daemon's own answer, framed the same way) written by a forked process with one sendall()
# into an AF_UNIX socketpair as soon as the request arrives, read by the same client code
# (recv_into one preallocated buffer). The warm audit is reported as a ratio to it: what the
# daemon adds to the bare cost of moving its answer through a socket into this client.
#
# Without --tree: a copy of examples/gn-monorepo gets N generated modules of ~40 KB under
# //lib/util:util (one unsafe block each). With --tree WS --model DB: the workspace bench-audit.sh
# made and its model (copied; the copy's stored scans are dropped first).
#
# usage: bench/bench-audit-daemon.py [--files N] [--tree WS --model DB] [--runs R] [--work DIR]
#                                    [--keep-scans] PROJMODEL
# --keep-scans: the model's stored scans are kept (the first audit is then not cold; for the warm
# figures without a cold audit of the whole tree first).
# Prints one markdown table on stdout; progress on stderr. The daemon is stopped at the end.
import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

BODY = "".join("pub fn f%d(x: &[u8]) -> usize {\n    // not unsafe: a comment\n"
               "    x.iter().filter(|b| **b == %d).count()\n}\n" % (k, k % 256)
               for k in range(400))


def log(*a):
    print("bench-audit-daemon:", *a, file=sys.stderr, flush=True)


class Client:
    def __init__(self, path=None, sock=None):
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
        self.s = sock
        self.buf = b""

    def send(self, rid, method, params=None):
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        body = json.dumps(msg).encode()
        self.s.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def raw_reply(self, block=True):
        """The body of the next message with an id, unparsed (notifications dropped), or None
        when none is complete and not @block. A body is received into one buffer of its size
        (recv_into): a reply of megabytes costs the client one copy out of the socket, as a
        client in C pays, not a quadratic concatenation."""
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                n = int(self.buf[:i].split(b":")[1])
                have = len(self.buf) - (i + 4)
                if have < n and block:
                    body = bytearray(n)
                    view = memoryview(body)
                    view[:have] = self.buf[i + 4:]
                    self.buf = b""
                    self.s.setblocking(True)
                    while have < n:
                        k = self.s.recv_into(view[have:])
                        if not k:
                            raise EOFError("daemon closed the connection")
                        have += k
                elif have >= n:
                    body = self.buf[i + 4:i + 4 + n]
                    self.buf = self.buf[i + 4 + n:]
                else:
                    body = None
                if body is not None:
                    # Replies start {"jsonrpc":"2.0","id":..; notifications have a method
                    # there. A cheap look: the body is parsed by the caller.
                    if b'"id":' in body[:40]:
                        return body
                    continue
            self.s.setblocking(block)
            try:
                data = self.s.recv(1 << 16)
            except BlockingIOError:
                return None
            if not data:
                raise EOFError("daemon closed the connection")
            self.buf += data

    def reply(self, block=True):
        body = self.raw_reply(block)
        return None if body is None else json.loads(body)

    def call(self, rid, method, params=None):
        self.send(rid, method, params)
        msg = self.reply()
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return msg["result"]


def make_tree(a):
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "gn-monorepo")
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
    return root, None


def cpu_ms(pid):
    """CPU time (user + system) the process @pid used so far, in ms."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


parse_ms = []  # json.loads() of each timed answer, outside its time
last_body = [None]  # the last timed answer, unparsed


def timed_audit(c, rid):
    t = time.monotonic()
    c.send(rid, "projmodel/audit")
    body = c.raw_reply()
    ms = (time.monotonic() - t) * 1000
    last_body[0] = body
    t = time.monotonic()
    msg = json.loads(body)
    parse_ms.append((time.monotonic() - t) * 1000)
    if "error" in msg:
        raise RuntimeError("projmodel/audit: %s" % msg["error"])
    return ms, len(body), msg["result"]


# The peer's writer: a fresh interpreter (not a fork of this one, whose heap the parse of each
# answer would then copy page by page) that sends FRAME on its socket for every request.
PEER = """
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
frame = open(sys.argv[2], "rb").read()
buf = b""
while True:
    data = s.recv(1 << 16)
    if not data:
        break
    buf += data
    while True:
        i = buf.find(b"\\r\\n\\r\\n")
        if i < 0:
            break
        n = int(buf[:i].split(b":")[1])
        if len(buf) < i + 4 + n:
            break
        buf = buf[i + 4 + n:]
        s.sendall(frame)
"""


def start_peer(body, work):
    """A process that answers every request on its end of a socketpair with @body, framed as
    the daemon frames it, in one sendall(). Returns (a Client on the other end, the process)."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    # As the daemon asks for a send buffer of the reply's size (the system caps it).
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, len(body) + 64)
    path = os.path.join(work, "peer-frame")
    with open(path, "wb") as f:
        f.write(b"Content-Length: %d\r\n\r\n" % len(body))
        f.write(body)
    proc = subprocess.Popen([sys.executable, "-c", PEER, str(theirs.fileno()), path],
                            pass_fds=[theirs.fileno()])
    theirs.close()
    return Client(sock=mine), proc


def timed_peer(peer, rid):
    t = time.monotonic()
    peer.send(rid, "projmodel/audit")
    body = peer.raw_reply()
    return (time.monotonic() - t) * 1000, len(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--tree")
    ap.add_argument("--model")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--work", default="/tmp/pm-bench-audit-daemon")
    ap.add_argument("--keep-scans", action="store_true",
                    help="keep the --model's stored scans: the first audit only checks them")
    ap.add_argument("projmodel")
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    db = os.path.join(a.work, "model.db")
    if a.tree:
        root = os.path.abspath(a.tree)
        shutil.copy(a.model, db)
        if not a.keep_scans:
            with sqlite3.connect(db) as con:
                con.execute("DELETE FROM audit_files")
    else:
        root, _ = make_tree(a)
    sock = os.path.join(a.work, "s.sock")
    log("starting the daemon on %s" % root)
    daemon = subprocess.Popen([a.projmodel, "serve", "--root", root, "--socket", sock, "--db", db,
                               "--foreground", "--log", os.path.join(a.work, "daemon.log")])
    try:
        for _ in range(600):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        audit, status = Client(sock), Client(sock)
        # A stored model is served at once; wait for the start-up refresh to end so that its
        # build tool does not compete with the audit.
        for _ in range(36000):
            st = status.call(0, "projmodel/status")
            if st["refreshes"] >= 1 and st["state"] == "idle":
                break
            time.sleep(0.1)
        log("model ready (%d crates); cold audit" % st["crates"])
        t0 = time.monotonic()
        c0 = cpu_ms(daemon.pid)
        audit.send(1, "projmodel/audit")
        lat = []
        while True:
            t = time.monotonic()
            status.send(2, "projmodel/status")
            status.reply()
            lat.append((time.monotonic() - t) * 1000)
            body = audit.raw_reply(block=False)
            if body is not None:
                break
            time.sleep(0.005)
        cold = (time.monotonic() - t0) * 1000
        cold_cpu = cpu_ms(daemon.pid) - c0
        result = json.loads(body)["result"]
        crates = len(result)
        sites = sum(c["unsafe_sites"] + c["test_sites"] for c in result)
        size = len(body)
        figures = []
        warm = []
        warm_cpu = 0.0
        peer_ms = []
        # CLOCK_MONOTONIC, as `perf record -k CLOCK_MONOTONIC -p PID` stamps its samples, so that
        # a profile of the daemon can be cut to these audits (`perf report --time A,B`).
        log("warm audits from monotonic %.3f" % time.monotonic())
        for i in range(a.runs + 1):
            c0 = cpu_ms(daemon.pid)
            ms, n, _ = timed_audit(audit, 10 + i)
            if i == 0:
                # The warm answers' size (their ids are as long as this one's).
                peer, peer_proc = start_peer(last_body[0], a.work)
            if i >= 1:
                warm_cpu += cpu_ms(daemon.pid) - c0
                pms, pn = timed_peer(peer, 10 + i)
                if pn != n:
                    raise RuntimeError("the peer sent %d bytes, the daemon %d" % (pn, n))
                peer_ms.append(pms)
            st = status.call(3, "projmodel/status")["audit"]
            figures.append((ms, st["checked"], st["read"], st["lastMs"]))
            if i >= 1:
                warm.append(ms)
            if i == 0 and _ != result:
                raise RuntimeError("the warm answer differs from the cold one")
        log("warm audits until monotonic %.3f" % time.monotonic())
        peer.s.close()
        peer_proc.wait()
        warm_parse = statistics.median(parse_ms[1:])
        files = st["files"]
        rss = status.call(4, "projmodel/status").get("rssBytes", 0)
        load = open("/proc/loadavg").read().split()[:3]
        # One file edited (a comment appended): the watch reports it, the audit reads it again
        # and prints that file's crates again.
        edited = None
        for c in result:
            for f in c.get("files", []):
                if not f.get("missing") and f["path"].endswith(".rs"):
                    edited = f["path"] if os.path.isabs(f["path"]) else os.path.join(root,
                                                                                     f["path"])
                    break
            if edited:
                break
        edits = []
        ecpu = 0.0
        for i in range(a.runs):
            with open(edited, "a") as f:
                f.write("\n// edited by bench-audit-daemon.py\n")
            c0 = cpu_ms(daemon.pid)
            ems, _, _ = timed_audit(audit, 100 + i)
            ecpu += cpu_ms(daemon.pid) - c0
            est = status.call(5, "projmodel/status")["audit"]
            edits.append(ems)
        edit_row = (len(edits), statistics.median(edits), min(edits), est["checked"], est["read"],
                    est.get("rendered", -1), est["lastMs"], ecpu / len(edits))
    finally:
        daemon.terminate()
        daemon.wait()
    lat.sort()
    print("| measurement | time | notes |")
    print("|---|---|---|")
    print("| cold projmodel/audit (nothing stored, every file read and scanned) | %.0f ms | "
          "daemon CPU %.0f ms; %d crates, %d files, %d sites, %.1f MB reply; %d status calls "
          "meanwhile, p50 %.2f ms, max %.2f ms |" % (cold, cold_cpu, crates, files, sites,
                                                      size / 1e6, len(lat), lat[len(lat) // 2],
                                                      lat[-1]))
    print("| first warm (every file stat'ed once more, under the watches the cold one asked "
          "for) | %.0f ms | %d checked, %d read, worker %.0f ms |" % figures[0])
    print("| warm, watched (median of %d) | %.1f ms | best %.1f ms; %d checked, %d read, worker "
          "%.1f ms (last); daemon CPU %.1f ms per audit (mean); daemon RSS %.0f MiB |" %
          (len(warm), statistics.median(warm), min(warm), figures[-1][1], figures[-1][2],
           figures[-1][3], warm_cpu / len(warm), rss / 1048576))
    print("| peer: the same %.1f MB framed, one sendall() into an AF_UNIX socketpair, read by "
          "the same client (median of %d, interleaved with the warm runs) | %.1f ms | best %.1f "
          "ms; warm watched audit / peer: **%.2fx** (medians); json.loads() of the answer "
          "(not in either time) %.0f ms median |" %
          (size / 1e6, len(peer_ms), statistics.median(peer_ms), min(peer_ms),
           statistics.median(warm) / statistics.median(peer_ms), warm_parse))
    print("| warm after one file edited (median of %d; read again, its crates printed again) | "
          "%.1f ms | best %.1f ms; %d checked, %d read, %d crates rendered (-1: not reported), "
          "worker %.1f ms (last); daemon CPU %.1f ms per audit (mean) |" % edit_row)
    print()
    print("load average after the warm runs: %s" % " ".join(load))

main()
