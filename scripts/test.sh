#!/usr/bin/env bash
# Set up, build and run every test: a debug build and an AddressSanitizer+UBSan build, each
# running the whole meson test suite. Prints one closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

[ -d build ] || meson setup build
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fno-sanitize-recover=all -Dbench=false
meson compile -C build
meson compile -C build-asan

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
meson test -C build-asan --print-errorlogs --num-processes 2 || status=1

python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            if r["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
                passed += 1
            else:
                failed += 1
                print(f"FAILED: {path.split('/')[0]}: {r['name']} ({r['result']})")
print(f"tests: {passed} passed, {failed} failed")
PY
exit $status
