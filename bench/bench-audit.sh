#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: `projmodel audit` cold and warm, one-shot and through the daemon, on generated GN
# monorepos with realistic source sizes, against reading the same Rust bytes with `cat` in the
# same run (docs/cli.md, `audit`; docs/protocol.md, projmodel/audit).
#
# usage: bench/bench-audit.sh [PROJMODEL]
#   PROJMODEL   the projmodel binary (default $PROJMODEL, else build/cli/projmodel)
# environment:
#   BENCH_SIZES  crate counts to generate (default "10000")
#   BENCH_KB     mean KB of Rust per crate (default 100: ~1 GB at 10,000 crates), log-normal with
#                a long tail (bench/gen-audit-sources.py)
#   BENCH_RUNS   timed runs per measurement (default 3; best and median are reported)
#   BENCH_WORK   scratch directory (default /tmp/pm-bench); workspaces are reused when present
#   BENCH_SEED   generator seed (default 1)
#   BENCH_DAEMON 0 to skip the daemon measurements (default 1)
#
# For each size: generate the workspace (gen-gn-monorepo.py, then gen-audit-sources.py; proc
# macros are not built, the audit needs none) and export it once into a model, then
#   cat    every .rs file of the workspace read with `cat` to /dev/null (the page cache is warm,
#          as it is for the audits)
#   cold   `projmodel audit --no-refresh --format json` on a copy of that model without any
#          stored scan (every file read and scanned)
#   warm   the same with the scans kept in the model from the previous run (nothing changed:
#          files are only stat'ed against their records)
#   daemon bench/bench-audit-daemon.py on the same tree and model: a cold projmodel/audit,
#          then warm ones (the first stats every file, the next ones neither stat nor read)
# Prints markdown tables and the machine's load on stdout; progress goes to stderr.
set -euo pipefail

bench_name=bench-audit
bench_rss=0
export BENCH_SIZES=${BENCH_SIZES:-10000}
export BENCH_RUNS=${BENCH_RUNS:-3}
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
kb=${BENCH_KB:-100}

[[ -x $projmodel ]] || die "no projmodel at '$projmodel'"
mkdir -p "$work"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
rows=()
daemon_tables=()
for n in $sizes; do
        ws="$work/audit-$n-s$seed-k$kb"
        if [[ ! -f $ws/.audit-sources ]]; then
                rm -rf "$ws"
                echo "bench-audit: generating $n crates with ~$kb KB of Rust each in $ws" >&2
                python3 "$here/gen-gn-monorepo.py" "$n" "$ws" --seed "$seed" >&2
                printf '%s\n' '{"build_system": "gn", "gn": {"out_dir": "out", "build_proc_macros": false}}' \
                        >"$ws/.projmodel.json"
                python3 "$here/gen-audit-sources.py" "$ws" --seed "$seed" --kb-per-crate "$kb" >&2
                touch "$ws/.audit-sources"
        fi
        base="$work/audit-base-$n-k$kb.db"
        db="$work/audit-$n-k$kb.db"
        if [[ ! -f $base ]]; then
                echo "bench-audit: N=$n: projmodel export (once, to fill the model)" >&2
                "$projmodel" export --root "$ws" --db "$base.tmp" --output "$work/audit-project-$n.json" >/dev/null
                mv "$base.tmp" "$base"
        fi
        list="$work/audit-files-$n-k$kb"
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
        if [[ ${BENCH_DAEMON:-1} != 0 ]]; then
                echo "bench-audit: N=$n: through the daemon" >&2
                daemon_tables+=("N=$n, $files files, $bytes bytes:" "" \
                        "$(python3 "$here/bench-audit-daemon.py" --tree "$ws" --model "$base" \
                                --runs "$((runs * 3))" --work "$work/audit-daemon-$n" "$projmodel")" "")
        fi
done

echo
echo "One-shot \`projmodel audit\`:"
echo
echo "| N | what | best (s) | median (s) | median vs cat |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
if ((${#daemon_tables[@]})); then
        echo "Through the daemon (projmodel/audit of every crate):"
        echo
        printf '%s\n' "${daemon_tables[@]}"
fi
echo "$runs runs each; $(nproc) cores; seed $seed; load after: $(cut -d' ' -f1-3 /proc/loadavg)."
