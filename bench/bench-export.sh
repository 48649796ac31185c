#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: `gn gen --export-rust-project` versus `projmodel export` on generated GN monorepos.
#
# usage: bench/bench-export.sh [PROJMODEL]
#   PROJMODEL   the projmodel binary (default $PROJMODEL, else build/cli/projmodel)
# environment:
#   BENCH_SIZES  crate counts to generate (default "1000 10000")
#   BENCH_RUNS   timed runs per measurement (default 5; best and median are reported)
#   BENCH_WORK   scratch directory (default /tmp/pm-bench); workspaces are reused when present
#   BENCH_SEED   generator seed (default 1)
#   BENCH_NO_PROC_MACROS  1: write {"gn": {"build_proc_macros": false}} to the workspace's
#                .projmodel.json for the run (removed at the end). `projmodel export` builds the
#                proc-macro dylibs a tree lacks with ninja (docs/build-integration.md): the
#                generator makes one crate in 23 a proc macro, and at 100,000 crates that build
#                takes hours on 2 cores, while `gn gen --export-rust-project` builds nothing.
#
# For each size: generate the workspace, run `gn gen out` once, then time
#   gn       `gn gen out --export-rust-project`
#   cold     `projmodel export --root R --db <fresh db> --output X` (a new model every run)
#   warm     the same with one db kept across runs (nothing changed in between)
#   own      projmodel's own share: parse + model update + write, from GN output captured once
#            (`--build-system gn --query-output out/project.json`, so GN is not run): cold (a
#            fresh db every run) and unchanged (one db kept across runs, same input: the input
#            stamp skips the parse and the output file's record skips render and write)
# Wall time is measured around each run; peak RSS comes from GNU time (%M, the largest of the
# process and the children it waited for, so `cold`/`warm` include GN's own footprint).
# Prints a markdown table on stdout; progress goes to stderr. Nothing is interactive.
set -euo pipefail

bench_name=bench-export
bench_rss=1
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) is needed: apt-get install -y time"
have_pm=1
if [[ ! -x $projmodel ]]; then
        echo "bench-export: no projmodel at '$projmodel'; timing gn only" >&2
        have_pm=0
fi
mkdir -p "$work"

mb() {
        awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}

crates_in() {
        python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["crates"]))' "$1"
}

rows=()
for n in $sizes; do
        gn_workspace "$n"
        if [[ ${BENCH_NO_PROC_MACROS:-0} == 1 ]]; then
                echo '{"gn": {"build_proc_macros": false}}' >"$ws/.projmodel.json"
                trap 'rm -f "$ws/.projmodel.json"' EXIT
        fi
        echo "bench-export: N=$n: gn gen out" >&2
        (cd "$ws" && gn gen out >/dev/null)

        echo "bench-export: N=$n: gn --export-rust-project x$runs" >&2
        measure gn ":" -- gn gen "$ws/out" --root="$ws" --export-rust-project
        gn_med=$m_median
        gn_crates=$(crates_in "$ws/out/rust-project.json")
        rows+=("| $n | gn --export-rust-project | - | $m_best | $m_median | $(mb "$m_rss") | 1.00x | $gn_crates |")

        if ((have_pm)); then
                db="$work/model-$n.db"
                out="$work/project-$n.json"
                echo "bench-export: N=$n: projmodel export cold x$runs" >&2
                measure cold "rm -f '$db' '$db-wal' '$db-shm'" -- \
                        "$projmodel" export --root "$ws" --db "$db" --output "$out"
                pm_crates=$(crates_in "$out")
                rows+=("| $n | projmodel export | cold (fresh db) | $m_best | $m_median | $(mb "$m_rss") | $(ratio "$m_median" "$gn_med") | $pm_crates |")

                echo "bench-export: N=$n: projmodel export warm x$runs" >&2
                "$projmodel" export --root "$ws" --db "$db" --output "$out" >/dev/null
                measure warm ":" -- "$projmodel" export --root "$ws" --db "$db" --output "$out"
                rows+=("| $n | projmodel export | warm (same db) | $m_best | $m_median | $(mb "$m_rss") | $(ratio "$m_median" "$gn_med") | $(crates_in "$out") |")

                echo "bench-export: N=$n: projmodel own share x$runs" >&2
                (cd "$ws" && gn gen out --ide=json >/dev/null)
                cp "$ws/out/project.json" "$work/captured-$n.json"
                measure own "rm -f '$db' '$db-wal' '$db-shm'" -- \
                        "$projmodel" export --root "$ws" --db "$db" --output "$out" \
                        --build-system gn --query-output "$work/captured-$n.json"
                rows+=("| $n | projmodel own share | parse + model + write (fresh db, gn not run) | $m_best | $m_median | $(mb "$m_rss") | $(ratio "$m_median" "$gn_med") | $(crates_in "$out") |")

                echo "bench-export: N=$n: projmodel own share, unchanged input x$runs" >&2
                measure own-unchanged ":" -- \
                        "$projmodel" export --root "$ws" --db "$db" --output "$out" \
                        --build-system gn --query-output "$work/captured-$n.json"
                rows+=("| $n | projmodel own share | unchanged input (same db, gn not run) | $m_best | $m_median | $(mb "$m_rss") | $(ratio "$m_median" "$gn_med") | $(crates_in "$out") |")
        fi
        if [[ ${BENCH_NO_PROC_MACROS:-0} == 1 ]]; then
                rm -f "$ws/.projmodel.json"
        fi
done

echo "| N | tool | mode | best (s) | median (s) | peak RSS (MB) | median vs gn | crates |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "$runs runs each; $(nproc) cores; $(gn --version 2>/dev/null | head -1 | sed 's/^/gn /'); seed $seed."
