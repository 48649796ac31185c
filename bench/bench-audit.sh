#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: `projmodel audit` cold and warm on generated GN monorepos, against reading the same
# Rust bytes with `cat` in the same run (docs/cli.md, `audit`).
#
# usage: bench/bench-audit.sh [PROJMODEL]
#   PROJMODEL   the projmodel binary (default $PROJMODEL, else build/cli/projmodel)
# environment:
#   BENCH_SIZES  crate counts to generate (default "1000 10000")
#   BENCH_RUNS   timed runs per measurement (default 5; best and median are reported)
#   BENCH_WORK   scratch directory (default /tmp/pm-bench); workspaces are reused when present
#   BENCH_SEED   generator seed (default 1)
#
# For each size: generate the workspace and export it once into a model (gn runs once), then
#   cat    every .rs file of the workspace read with `cat` to /dev/null (the page cache is warm,
#          as it is for the audits)
#   cold   `projmodel audit --no-refresh --format json` on a copy of that model without any
#          stored scan (every file read and scanned)
#   warm   the same with the scans kept in the model from the previous run (nothing changed:
#          files are only stat'ed against their records)
# Prints a markdown table on stdout; progress goes to stderr. Nothing is interactive.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
projmodel=${1:-${PROJMODEL:-$src/build/cli/projmodel}}
sizes=${BENCH_SIZES:-"1000 10000"}
runs=${BENCH_RUNS:-5}
work=${BENCH_WORK:-/tmp/pm-bench}
seed=${BENCH_SEED:-1}

die() {
        echo "bench-audit: $*" >&2
        exit 1
}

command -v gn >/dev/null || die "gn is not installed"
command -v python3 >/dev/null || die "python3 is not installed"
[[ -x $projmodel ]] || die "no projmodel at '$projmodel'"
mkdir -p "$work"

# measure NAME RESET_CMD -- CMD...: run CMD $runs times (RESET_CMD before each, untimed), and
# set m_best, m_median (seconds). Fails if CMD fails.
measure() {
        local name=$1 reset=$2
        shift 3
        local times=() i t0 t1
        for ((i = 0; i < runs; i++)); do
                eval "$reset"
                t0=$(date +%s%N)
                if ! "$@" >/dev/null 2>"$work/cmd.err"; then
                        echo "bench-audit: $name failed: $*" >&2
                        tail -20 "$work/cmd.err" >&2
                        return 1
                fi
                t1=$(date +%s%N)
                times+=($(((t1 - t0) / 1000)))
        done
        mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
        m_best=$(awk -v us="${sorted[0]}" 'BEGIN { printf "%.3f", us / 1e6 }')
        m_median=$(awk -v us="${sorted[$((runs / 2))]}" 'BEGIN { printf "%.3f", us / 1e6 }')
}

ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}

rows=()
for n in $sizes; do
        ws="$work/gn-$n-s$seed"
        if [[ ! -f $ws/BUILD.gn ]]; then
                rm -rf "$ws"
                echo "bench-audit: generating $n crates in $ws" >&2
                python3 "$here/gen-gn-monorepo.py" "$n" "$ws" --seed "$seed" >&2
        fi
        base="$work/audit-base-$n.db"
        db="$work/audit-$n.db"
        echo "bench-audit: N=$n: projmodel export (once, to fill the model)" >&2
        rm -f "$base" "$base-wal" "$base-shm"
        "$projmodel" export --root "$ws" --db "$base" --output "$work/audit-project-$n.json" >/dev/null
        list="$work/audit-files-$n"
        find "$ws" -name '*.rs' -not -path '*/out/*' -print0 >"$list"
        files=$(tr -cd '\0' <"$list" | wc -c)
        bytes=$(xargs -0 -a "$list" cat | wc -c)

        echo "bench-audit: N=$n: cat x$runs" >&2
        measure cat ":" -- sh -c 'xargs -0 -a "$1" cat >/dev/null' sh "$list"
        cat_med=$m_median
        rows+=("| $n | cat of the .rs files | $m_best | $m_median | 1.00x |")

        echo "bench-audit: N=$n: projmodel audit cold x$runs" >&2
        measure cold "rm -f '$db-wal' '$db-shm'; cp '$base' '$db'" -- \
                "$projmodel" audit --root "$ws" --db "$db" --no-refresh --format json
        rows+=("| $n | projmodel audit cold (no stored scans) | $m_best | $m_median | $(ratio "$m_median" "$cat_med") |")

        echo "bench-audit: N=$n: projmodel audit warm x$runs" >&2
        measure warm ":" -- \
                "$projmodel" audit --root "$ws" --db "$db" --no-refresh --format json
        rows+=("| $n | projmodel audit warm (nothing changed) | $m_best | $m_median | $(ratio "$m_median" "$cat_med") |")
        rows+=("| $n | ($files files, $bytes bytes of Rust) | | | |")
done

echo "| N | what | best (s) | median (s) | median vs cat |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$runs runs each; $(nproc) cores; seed $seed."
