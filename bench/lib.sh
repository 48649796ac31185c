# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034,SC2154 # sets what its callers read, reads what they set
# What bench-export.sh and bench-audit.sh share, sourced by both after setting bench_name (for
# messages) and bench_rss (1: measure also records peak RSS with GNU time): the PROJMODEL
# argument and BENCH_* environment (see either script's usage), die, ratio, measure, and the
# generated GN workspace of N crates.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
projmodel=${1:-${PROJMODEL:-$src/build/cli/projmodel}}
sizes=${BENCH_SIZES:-"1000 10000"}
runs=${BENCH_RUNS:-5}
work=${BENCH_WORK:-/tmp/pm-bench}
seed=${BENCH_SEED:-1}

die() {
        echo "$bench_name: $*" >&2
        exit 1
}

command -v gn >/dev/null || die "gn is not installed"
command -v python3 >/dev/null || die "python3 is not installed"

# measure NAME RESET_CMD -- CMD...: run CMD $runs times (RESET_CMD before each, untimed), and
# set m_best, m_median (seconds) and, with bench_rss=1, m_rss (peak KiB over all runs, from GNU
# time, stdout kept in $work/cmd.out). Fails if CMD fails.
measure() {
        local name=$1 reset=$2
        shift 3
        local times=() rss=0 i t0 t1 r cmd=("$@") out=/dev/null
        if ((bench_rss)); then
                cmd=(/usr/bin/time -f %M -o "$work/time.out" "$@")
                out=$work/cmd.out
        fi
        for ((i = 0; i < runs; i++)); do
                eval "$reset"
                t0=$(date +%s%N)
                if ! "${cmd[@]}" >"$out" 2>"$work/cmd.err"; then
                        echo "$bench_name: $name failed: $*" >&2
                        tail -20 "$work/cmd.err" >&2
                        return 1
                fi
                t1=$(date +%s%N)
                times+=($(((t1 - t0) / 1000)))
                if ((bench_rss)); then
                        r=$(tail -1 "$work/time.out")
                        ((r > rss)) && rss=$r
                fi
        done
        mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
        m_best=$(awk -v us="${sorted[0]}" 'BEGIN { printf "%.3f", us / 1e6 }')
        m_median=$(awk -v us="${sorted[$((runs / 2))]}" 'BEGIN { printf "%.3f", us / 1e6 }')
        m_rss=$rss
}

ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'
}

# gn_workspace N: set ws to the generated GN monorepo of N crates (seed $seed) under $work,
# generating it unless it is there from an earlier run.
gn_workspace() {
        ws="$work/gn-$1-s$seed"
        if [[ ! -f $ws/BUILD.gn ]]; then
                rm -rf "$ws"
                echo "$bench_name: generating $1 crates in $ws" >&2
                python3 "$here/gen-gn-monorepo.py" "$1" "$ws" --seed "$seed" >&2
        fi
}
