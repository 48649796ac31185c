#!/usr/bin/env python3
# A stub language server for the Emacs tests: records the `initialize` request's params to
# $PM_STUB_OUT and answers just enough of LSP (initialize, shutdown, exit) for eglot.
import json
import os
import sys


def read():
    length = None
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        k, _, v = line.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
    return json.loads(sys.stdin.buffer.read(length))


def send(obj):
    body = json.dumps(obj).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()


while True:
    msg = read()
    if msg is None or msg.get("method") == "exit":
        break
    method = msg.get("method")
    if method == "initialize":
        with open(os.environ["PM_STUB_OUT"], "w") as f:
            json.dump(msg["params"], f)
        send({"jsonrpc": "2.0", "id": msg["id"], "result": {"capabilities": {}}})
    elif "id" in msg and method is not None:
        send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
