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

bench_name=bench-audit
bench_rss=0
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -x $projmodel ]] || die "no projmodel at '$projmodel'"
mkdir -p "$work"

rows=()
for n in $sizes; do
        gn_workspace "$n"
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
