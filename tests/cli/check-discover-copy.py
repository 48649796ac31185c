#!/usr/bin/env python3
# `projmodel discover` through a daemon is one request, projmodel/rustProject with "discover":
# true and no "initialize" before it, and its finished line is the daemon's bytes, copied, not
# parsed and printed again (cli/client.c; docs/protocol.md). A scripted daemon on the socket the
# front computes (its path from `projmodel status`) answers with bytes cJSON would not print
# (spaces, 1.50), then with what the front must parse: $/progress and warnings, a daemon older
# than "discover" (buildfile and project), an error.
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading


def frame(obj_or_text):
    body = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
    body = body.encode()
    return b'Content-Length: %d\r\n\r\n' % len(body) + body


def read_frame(conn, buf):
    """One framed body from @conn (bytes already read in buf[0]), or None at EOF."""
    while b'\r\n\r\n' not in buf[0]:
        data = conn.recv(65536)
        if not data:
            return None
        buf[0] += data
    head, rest = buf[0].split(b'\r\n\r\n', 1)
    n = int(re.search(rb'Content-Length: (\d+)', head).group(1))
    while len(rest) < n:
        data = conn.recv(65536)
        if not data:
            return None
        rest += data
    buf[0] = rest[n:]
    return json.loads(rest[:n])


class Daemon:
    """Listens on @path; to the first request of one client, sends @frames (bytes each); closes
    the connection on any further request, so a client that needs two round trips fails."""

    def __init__(self, path, frames):
        self.requests = []
        self.frames = frames
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        conn, _ = self.sock.accept()
        buf = [b'']
        with conn:
            msg = read_frame(conn, buf)
            if msg is None:
                return
            self.requests.append(msg)
            for f in self.frames:
                conn.sendall(f)
            msg = read_frame(conn, buf)
            if msg is not None:
                self.requests.append(msg)

    def close(self, path):
        self.sock.close()
        self.thread.join(timeout=30)
        os.unlink(path)


def main():
    exe = os.environ['PM_PROJMODEL']
    tmp = tempfile.mkdtemp(prefix='pm-discover-copy-')
    root = os.path.join(tmp, 'repo')
    runtime = os.path.join(tmp, 'run')
    os.makedirs(root)
    os.makedirs(runtime, mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
    env.pop('PROJMODEL_NO_DAEMON', None)
    failures = []
    try:
        st = subprocess.run([exe, '--root', root, 'status'], env=env, capture_output=True,
                            text=True, timeout=60)
        m = re.search(r"\(socket '([^']+)'\)", st.stderr)
        if not m:
            print('no socket path in: %r' % st.stderr)
            return 1
        path = m.group(1)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        bf = os.path.join(root, 'BUILD.gn')
        line = ('{"kind":"finished","buildfile":%s,"project":{"crates": [], "x": 1.50}}'
                % json.dumps(bf))
        compact = ('{"kind":"finished","buildfile":%s,"project":{"crates":[],"x":1.5}}'
                   % json.dumps(bf))
        asking = '{"kind":"progress","message":"asking the projmodel daemon"}'
        progress = {'jsonrpc': '2.0', 'method': '$/progress',
                    'params': {'token': 'projmodel', 'value': {'kind': 'report',
                                                               'message': 'building'}}}
        cases = [
            ('copied', [frame('{"jsonrpc":"2.0","id":1,"result":{"warnings":[],"finished":%s}}'
                              % line)], 0, [asking, line]),
            ('progress and warnings', [frame(progress), frame(
                '{"jsonrpc":"2.0","id":1,"result":{"warnings":["w1"],"finished":%s}}' % line)],
             0, [asking, '{"kind":"progress","message":"building"}',
                 '{"kind":"progress","message":"warning: w1"}', compact]),
            ('older daemon', [frame('{"jsonrpc":"2.0","id":1,"result":{"buildfile":%s,'
                                    '"project":{"crates": [], "x": 1.50},"warnings":[]}}'
                                    % json.dumps(bf))], 0, [asking, compact]),
            ('error', [frame({'jsonrpc': '2.0', 'id': 1, 'error': {
                'code': -32004, 'message': "no crate '//x:y' in the model",
                'data': {'name': 'PM_ENOTFOUND'}}})], 1,
             [asking, '{"kind":"error","error":"no crate \'//x:y\' in the model",'
                      '"source":null}']),
        ]
        for name, frames, status, want in cases:
            d = Daemon(path, frames)
            try:
                r = subprocess.run([exe, '--root', root, 'discover', '{"label": "//x:y"}'],
                                   env=env, capture_output=True, text=True, timeout=60)
            finally:
                d.close(path)
            got = r.stdout.splitlines()
            if r.returncode != status or got != want or r.stderr:
                failures.append('%s: exit %d (want %d), stdout\n  %s\nwant\n  %s\nstderr %r'
                                % (name, r.returncode, status, '\n  '.join(got),
                                   '\n  '.join(want), r.stderr))
            want_req = [{'jsonrpc': '2.0', 'id': 1, 'method': 'projmodel/rustProject',
                         'params': {'label': '//x:y', 'discover': True}}]
            if d.requests != want_req:
                failures.append('%s: requests %s, want %s' % (name, d.requests, want_req))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print('FAIL:', f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
