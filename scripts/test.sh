#!/usr/bin/env bash
# Set up, build and run every test: a debug build and an AddressSanitizer+UBSan build, each
# running the whole meson test suite, then the daemon and command suites against a
# ThreadSanitizer build of projmodel (the daemon's thread pool is where races would be;
# Criterion itself cannot run under TSan, so the tests stay in the plain build and spawn the
# TSan binary). Prints one closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

[ -d build ] || meson setup build
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fno-sanitize-recover=all -Dbench=false
[ -d build-tsan ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dtests=false \
        -Dbench=false
meson compile -C build
meson compile -C build-asan
meson compile -C build-tsan

status=0
meson test -C build --print-errorlogs --num-processes 2 || status=1
meson test -C build-asan --print-errorlogs --num-processes 2 || status=1

# The TSan job: reports go to files (the daemon's stderr is not a terminal), and any report
# fails the run even when the tests themselves passed. ignore_noninstrumented_modules: Debian's
# libuv is not instrumented and closes descriptors with syscall(SYS_close), which TSan cannot
# see, so a descriptor number it reused on another thread was reported as a race; with the
# option TSan ignores the descriptor calls libuv makes (and still sees its locks). A real race
# in our code (the fault-hook counter before it was atomic) is still reported with it.
tsan_logs=$(mktemp -d)
tsan_reported=0
PM_TEST_PROJMODEL=$PWD/build-tsan/cli/projmodel \
TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1 log_path=$tsan_logs/tsan" \
        meson test -C build --suite daemon --suite cli --suite mixed --print-errorlogs \
        --num-processes 2 --logbase tsan || status=1
if compgen -G "$tsan_logs/tsan*" >/dev/null; then
        echo "ThreadSanitizer reported:"
        cat "$tsan_logs"/tsan*
        tsan_reported=1
        status=1
fi
rm -rf "$tsan_logs"

TSAN_REPORTED=$tsan_reported python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
        build/meson-logs/tsan.json <<'PY'
import json, os, sys
passed = failed = 0
if os.environ.get("TSAN_REPORTED") == "1":
    failed += 1
    print("FAILED: ThreadSanitizer reports (printed above)")
for path in sys.argv[1:]:
    with open(path) as fh:
        for line in fh:
            r = json.loads(line)
            if r["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
                passed += 1
            else:
                failed += 1
                print(f"FAILED: {path}: {r['name']} ({r['result']})")
print(f"tests: {passed} passed, {failed} failed")
PY
exit $status
