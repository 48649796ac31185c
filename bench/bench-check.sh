#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: `projmodel check` (the flycheck runnable) on one crate after its source changed,
# versus the plain build of that crate: `ninja -C out <its rlib>` on examples/gn-monorepo
# (//lib/engine:engine) and `cargo check -p` on a two-crate Cargo workspace made here.
#
# usage: bench/bench-check.sh [PROJMODEL]
#   PROJMODEL   the projmodel binary (default $PROJMODEL, else build/cli/projmodel)
# environment:
#   BENCH_RUNS   timed runs per measurement (default 5; best and median are reported)
#   BENCH_WORK   scratch directory (default /tmp/pm-bench-check, recreated)
# Every run first touches the crate's source, so each tool really recompiles it; the plain build
# and projmodel's check alternate run by run. Prints a markdown table on stdout (the load average
# at the end on stderr).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
projmodel=${1:-${PROJMODEL:-$src/build/cli/projmodel}}
projmodel=$(cd "$(dirname "$projmodel")" && pwd)/$(basename "$projmodel") # we cd below
runs=${BENCH_RUNS:-5}
work=${BENCH_WORK:-/tmp/pm-bench-check}
export XDG_CACHE_HOME=$work/cache

rm -rf "$work"
mkdir -p "$work"
cp -r "$src/examples/gn-monorepo" "$work/gn"
(cd "$work/gn" && gn gen out >/dev/null && ninja -C out >/dev/null)

mkdir -p "$work/cargo/calc/src" "$work/cargo/app/src"
printf '[workspace]\nmembers = ["calc", "app"]\nresolver = "2"\n' >"$work/cargo/Cargo.toml"
printf '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n' >"$work/cargo/calc/Cargo.toml"
printf 'pub fn add(x: u32, y: u32) -> u32 {\n    x + y\n}\n' >"$work/cargo/calc/src/lib.rs"
printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n[dependencies]\ncalc = { path = "../calc" }\n' >"$work/cargo/app/Cargo.toml"
printf 'fn main() {\n    println!("{}", calc::add(1, 2));\n}\n' >"$work/cargo/app/src/main.rs"

# Best and median of $runs runs each of two commands in $1's directory, touching $2 before each
# run, the runs alternating (A B A B ...) so that a shared machine's load falls on both alike:
# "bestA medianA bestB medianB". The commands are $3 and $4, each a command line (eval).
measure_pair() {
        local dir=$1 touchfile=$2 a=$3 b=$4
        local ta=() tb=() s e
        for ((i = 0; i < runs; i++)); do
                touch "$touchfile"
                s=$(date +%s%N)
                (cd "$dir" && eval "$a" >/dev/null 2>&1)
                e=$(date +%s%N)
                ta+=($(((e - s) / 1000000)))
                touch "$touchfile"
                s=$(date +%s%N)
                (cd "$dir" && eval "$b" >/dev/null 2>&1)
                e=$(date +%s%N)
                tb+=($(((e - s) / 1000000)))
        done
        printf '%s\n' "${ta[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%s %s ", a[1], a[int((NR+1)/2)]}'
        printf '%s\n' "${tb[@]}" | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}'
}

# Warm the model and projmodel's own output directory once.
(cd "$work/gn" && "$projmodel" export >/dev/null && "$projmodel" check //lib/engine:engine >/dev/null)
(cd "$work/cargo" && "$projmodel" export >/dev/null && "$projmodel" check 'cargo:.#calc@0.1.0' >/dev/null 2>&1)
(cd "$work/cargo" && cargo check -q --profile=test -p calc --lib >/dev/null 2>&1)

read -r gb gm pb pm < <(measure_pair "$work/gn" "$work/gn/lib/engine/src/job.rs" \
        "ninja -C out obj/lib/engine/libengine.rlib" "'$projmodel' check //lib/engine:engine")
read -r cb cm qb qm < <(measure_pair "$work/cargo" "$work/cargo/calc/src/lib.rs" \
        "cargo check --message-format=json --profile=test -p calc --lib" \
        "'$projmodel' check 'cargo:.#calc@0.1.0'")

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| one crate after its source changed ($runs runs) | best | median |"
echo "|---|---|---|"
echo "| GN: \`ninja -C out obj/lib/engine/libengine.rlib\` | $gb ms | $gm ms |"
echo "| GN: \`projmodel check //lib/engine:engine\` | $pb ms | $pm ms |"
echo "| Cargo: \`cargo check --message-format=json --profile=test -p calc --lib\` | $cb ms | $cm ms |"
echo "| Cargo: \`projmodel check 'cargo:.#calc@0.1.0'\` | $qb ms | $qm ms |"
