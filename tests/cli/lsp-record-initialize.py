# An LSP server stand-in for tests/cli/test-setup.c: records the initialize request's params
# as JSON in argv[1] (written whole, then renamed), answers it, exits on "exit" or EOF.
import json
import os
import sys

rec = sys.argv[1]
inp = sys.stdin.buffer
def read():
    n = 0
    while True:
        line = inp.readline()
        if not line:
            sys.exit(0)
        line = line.strip()
        if not line:
            break
        k, v = line.split(b":", 1)
        if k.lower() == b"content-length":
            n = int(v)
    return json.loads(inp.read(n))
while True:
    m = read()
    if m.get("method") == "initialize":
        with open(rec + ".tmp", "w") as f:
            json.dump(m["params"], f)
        os.rename(rec + ".tmp", rec)
        body = json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": {"capabilities": {}}}).encode()
        sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sys.stdout.buffer.flush()
    elif m.get("method") == "exit":
        sys.exit(0)
