#!/usr/bin/env bash
# Set up, build and run every test: a debug build running the whole meson test suite, an
# AddressSanitizer+UBSan build running every test that runs our C, then the thread-exercising
# tests against a ThreadSanitizer build of projmodel (Criterion itself cannot run under TSan,
# so those tests stay in the plain build and spawn the TSan binary). docs/testing.md explains
# the layout and its timings. Prints one closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# The VS Code tools (npm: code-server, Node 24, vsce, playwright-core; minutes on a first install)
# install in the background while the C builds compile; only the plain test run needs them.
PM_SETUP_TOOLS_BACKGROUND=1 source scripts/setup.sh

[ -d build ] || meson setup build
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fno-sanitize-recover=all -Dbench=false
[ -d build-tsan ] || meson setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dtests=false \
        -Dbench=false
meson compile -C build
meson compile -C build-asan
meson compile -C build-tsan
pm_setup_wait_tools

status=0
# Two tests at a time: four finished sooner, but at load 30 (two runs side by side) the VS Code
# host test's own 180 s limit was reached (docs/testing.md, "Test order").
meson test -C build --print-errorlogs --num-processes 2 || status=1
# Every test that runs our C (the style checks, and the VS Code and Emacs tests that drive no
# daemon, run node, emacs or python only: the plain run has them).
meson test -C build-asan --print-errorlogs --num-processes 2 --no-suite style \
        --no-suite nosan || status=1

# The TSan job: the tests whose projmodel runs more than one thread. The daemon (suite daemon:
# libuv's thread pool runs refreshes, audits and watch walks beside the loop; systemd: the
# same daemon on an inherited socket) and the one-shot commands' threads, which are two: the
# sysroot job (server/sysroot.c) beside the parse, and the GN adapter's prefetch thread
# (adapters/gn/gn-prefetch.c). Every export starts both, so the rest of the cli suite would
# only repeat the same two thread interactions on a fresh copy of the example each time (it
# took 225 s of the 14-minute CI): it runs the suites that exercise them (mixed: GN and Cargo
# exports; tty-progress: exports on a terminal) and, of cli, the tests that start a daemon or
# are about those threads (a new cli test that does either belongs in the filter below).
# `install` runs --help and completions only.
#
# Reports go to files (the daemon's stderr is not a terminal), and any report fails the run
# even when the tests themselves passed. ignore_noninstrumented_modules: Debian's libuv is not
# instrumented and closes descriptors with syscall(SYS_close), which TSan cannot see, so a
# descriptor number it reused on another thread was reported as a race; with the option TSan
# ignores the descriptor calls libuv makes (and still sees its locks). A real race in our code
# (the fault-hook counter before it was atomic) is still reported with it.
tsan_cli='@(cli_discover_daemon|cli_runnables|cli_kill_policy|cli_sysroot_job|cli_export|cli_child_env)/*'
tsan_cli_daemon='cli_buck2_build/the_daemon_builds_and_serves_the_dylib_too'
tsan_logs=$(mktemp -d)
tsan_reported=0
export PM_TEST_PROJMODEL=$PWD/build-tsan/cli/projmodel
export TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1 log_path=$tsan_logs/tsan"
# The two runs go side by side (--no-rebuild: both read the same finished build): `daemon`
# alone takes longer than the rest together, and a run after it left a core idle. The
# background run's output is printed once it ended, so the two do not interleave.
tsan_out=$(mktemp)
meson test -C build --no-rebuild daemon mixed systemd tty-progress --print-errorlogs \
        --num-processes 2 --logbase tsan >"$tsan_out" 2>&1 &
tsan_pid=$!
meson test -C build --no-rebuild cli --test-args="--filter=@($tsan_cli|$tsan_cli_daemon)" \
        --print-errorlogs --num-processes 2 --logbase tsan-cli || status=1
wait "$tsan_pid" || status=1
cat "$tsan_out"
rm -f "$tsan_out"
unset PM_TEST_PROJMODEL TSAN_OPTIONS
if compgen -G "$tsan_logs/tsan*" >/dev/null; then
        echo "ThreadSanitizer reported:"
        cat "$tsan_logs"/tsan*
        tsan_reported=1
        status=1
fi
rm -rf "$tsan_logs"

TSAN_REPORTED=$tsan_reported python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
        build/meson-logs/tsan.json build/meson-logs/tsan-cli.json <<'PY'
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
