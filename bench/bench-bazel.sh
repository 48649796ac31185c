#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark: cold ingest of a generated Bazel workspace by `projmodel export` versus Bazel's own
# `cquery` on it (the command projmodel runs), with the Bazel server cold and warm.
#
# usage: bench/bench-bazel.sh [PROJMODEL]
#   PROJMODEL   the projmodel binary (default $PROJMODEL, else build/cli/projmodel)
# environment:
#   BENCH_TARGETS  Rust targets to generate (default 5000)
#   BENCH_RUNS     timed runs per warm measurement (default 3; best and median are reported)
#   BENCH_WORK     scratch directory (default /tmp/pm-bench-bazel)
#   BENCH_SEED     generator seed (default 1)
#
# Rows (each with a fresh model database, so projmodel always ingests everything):
#   cquery cold    `bazel cquery` alone, new output base (server start + loading + analysis)
#   cquery warm    the same command again on the running server (Bazel's caches hot)
#   export cold    `projmodel export --db <fresh>`, new output base: what a first open costs
#   export warm    the same, server warm: projmodel's total when Bazel is already up
#   buildfiles     the export's second Bazel command, `bazel query 'buildfiles(//...)'` (the
#                  watch list), alone on the warm server
#   own share      export warm minus cquery warm: parse + model + writer (+ the buildfiles
#                  query); "without Bazel" also minus buildfiles warm
#   unchanged      `projmodel export` with one model kept across runs, nothing changed, server
#                  warm (the first such export, untimed, fills the model); its own share is
#                  minus cquery warm (and, without Bazel, minus buildfiles warm)
#   one edit       one BUILD.bazel edited (a dependency-free rust_library appended, then removed,
#                  run by run), then `bazel cquery` on its server and `projmodel export` with the
#                  kept model on its own, each seeing the edit once; own share: their difference
# The Bazel servers are shut down at the end (and on error): each holds ~600 MB at 5,000 targets
# (~1.8 GB at 20,000).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
projmodel=${1:-${PROJMODEL:-$src/build/cli/projmodel}}
projmodel=$(realpath "$projmodel") # the script runs in the workspace
targets=${BENCH_TARGETS:-5000}
runs=${BENCH_RUNS:-3}
work=${BENCH_WORK:-/tmp/pm-bench-bazel}
seed=${BENCH_SEED:-1}
ws=$work/ws-$targets
obs=()

shutdown_all() {
        for ob in "${obs[@]}"; do
                (cd "$ws" && bazel --output_base="$ob" shutdown >/dev/null 2>&1) || true
        done
}
trap shutdown_all EXIT

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

# The exact query projmodel plans (adapters/bazel/bazel.c, main_step()).
cquery() {
        bazel --output_base="$1" cquery 'kind("rust_.* rule", deps(//...))' --output=jsonproto \
                --keep_going --noimplicit_deps \
                --proto:output_rule_attrs=srcs,crate_root,crate_name,edition,deps,proc_macro_deps,aliases,crate_features,rustc_flags,rustc_env,crate \
                --proto:default_values=false >"$work/cquery.json" 2>"$work/cquery.err"
}

# The watch-list query projmodel plans after it (adapters/bazel/bazel.c, buildfiles_step()).
bfquery() {
        bazel --output_base="$1" query 'buildfiles(//...)' --output=label --keep_going \
                >"$work/buildfiles.txt" 2>"$work/buildfiles.err" || [ $? -eq 3 ]
}

export_once() {
        rm -f "$work/model.db"*
        export_kept "$1" model.db
}

# An export into $work/$2 (default kept.db) as it is: the model is kept across calls.
export_kept() {
        printf '{"build_system": "bazel", "bazel": {"output_base": "%s"}}\n' "$1" >"$ws/.projmodel.json"
        "$projmodel" export --root "$ws" --db "$work/${2:-kept.db}" --output "$work/rust-project.json"
}

stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f | %.2f", v[1], v[int((NR + 1) / 2)] }'; }

mkdir -p "$work"
if [ ! -f "$ws/WORKSPACE" ]; then
        echo "generating $targets targets in $ws" >&2
        python3 "$here/gen-bazel-workspace.py" "$ws" "$targets" "$seed"
fi
cd "$ws"

ob_q=$work/ob-cquery-$$ ob_e=$work/ob-export-$$
obs=("$ob_q" "$ob_e")
rm -rf "$ob_q" "$ob_e"

echo "cquery cold" >&2
t=$(now); cquery "$ob_q"; cq_cold=$(elapsed "$t")
cq_bytes=$(wc -c <"$work/cquery.json")
cq_warm=()
for _ in $(seq "$runs"); do
        echo "cquery warm" >&2
        t=$(now); cquery "$ob_q"; cq_warm+=("$(elapsed "$t")")
done
bf_warm=()
for _ in $(seq "$runs"); do
        echo "buildfiles query warm" >&2
        t=$(now); bfquery "$ob_q"; bf_warm+=("$(elapsed "$t")")
done
echo "export cold" >&2
t=$(now); export_once "$ob_e"; ex_cold=$(elapsed "$t")
crates=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["crates"]))' \
        "$work/rust-project.json")
ex_warm=()
for _ in $(seq "$runs"); do
        echo "export warm" >&2
        t=$(now); export_once "$ob_e"; ex_warm+=("$(elapsed "$t")")
done
rss=$(ps -o rss= -p "$(cat "$ob_e/server/server.pid.txt" 2>/dev/null || echo 0)" 2>/dev/null || echo 0)

rm -f "$work/kept.db"*
echo "export, model kept (filling it)" >&2
export_kept "$ob_e"
ex_same=()
for _ in $(seq "$runs"); do
        echo "export, nothing changed" >&2
        t=$(now); export_kept "$ob_e"; ex_same+=("$(elapsed "$t")")
done

# The last package's BUILD.bazel gets a rust_library on its first crate's source, then loses it.
pkg=$(find "$ws" -maxdepth 1 -name 'pkg*' -type d | sort | tail -1)
build=$pkg/BUILD.bazel
cp "$build" "$work/BUILD.orig"
trap 'cp "$work/BUILD.orig" "$build"; shutdown_all' EXIT
src_rs=$(cd "$pkg" && find . -name lib.rs | sort | head -1 | cut -c3-)
cq_edit=() ex_edit=()
for i in $(seq "$runs"); do
        if ((i % 2)); then
                cp "$work/BUILD.orig" "$build"
                printf '\nrust_library(\n    name = "bench_extra",\n    srcs = ["%s"],\n)\n' "$src_rs" >>"$build"
        else
                cp "$work/BUILD.orig" "$build"
        fi
        echo "one edit: cquery, export" >&2
        t=$(now); cquery "$ob_q"; cq_edit+=("$(elapsed "$t")")
        t=$(now); export_kept "$ob_e"; ex_edit+=("$(elapsed "$t")")
done
cp "$work/BUILD.orig" "$build"

cq_best=$(printf '%s\n' "${cq_warm[@]}" | sort -n | head -1)
ex_best=$(printf '%s\n' "${ex_warm[@]}" | sort -n | head -1)
echo
echo "Bazel $(bazel --version 2>/dev/null | head -1 || true), $targets generated targets, $crates crates exported, cquery output $((cq_bytes / 1024)) KiB, Bazel server RSS $((${rss:-0} / 1024)) MB"
echo
echo "| measurement | best (s) | median (s) |"
echo "|---|---|---|"
printf '| bazel cquery, cold server | %.2f | %.2f |\n' "$cq_cold" "$cq_cold"
printf '| bazel cquery, warm server | %s |\n' "$(printf '%s\n' "${cq_warm[@]}" | stats)"
printf '| projmodel export (fresh db), cold server | %.2f | %.2f |\n' "$ex_cold" "$ex_cold"
printf '| projmodel export (fresh db), warm server | %s |\n' "$(printf '%s\n' "${ex_warm[@]}" | stats)"
printf '| bazel query buildfiles(//...), warm server | %s |\n' "$(printf '%s\n' "${bf_warm[@]}" | stats)"
printf '| projmodel own share (warm export - warm cquery) | %.2f | - |\n' "$(echo "$ex_best - $cq_best" | bc)"
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bf_best=$(printf '%s\n' "${bf_warm[@]}" | sort -n | head -1)
printf '| ... without Bazel (also - warm buildfiles query) | %.2f | - |\n' \
        "$(echo "$ex_best - $cq_best - $bf_best" | bc)"
same_best=$(printf '%s\n' "${ex_same[@]}" | sort -n | head -1)
printf '| projmodel export (model kept, nothing changed), warm server | %s |\n' "$(printf '%s\n' "${ex_same[@]}" | stats)"
printf '| projmodel own share, nothing changed (that - warm cquery) | %.2f | %.2f |\n' \
        "$(echo "$same_best - $cq_best" | bc)" "$(echo "$(med "${ex_same[@]}") - $(med "${cq_warm[@]}")" | bc)"
printf '| ... without Bazel (also - warm buildfiles query) | %.2f | %.2f |\n' \
        "$(echo "$same_best - $cq_best - $bf_best" | bc)" \
        "$(echo "$(med "${ex_same[@]}") - $(med "${cq_warm[@]}") - $(med "${bf_warm[@]}")" | bc)"
printf '| bazel cquery after one BUILD.bazel edit, warm server | %s |\n' "$(printf '%s\n' "${cq_edit[@]}" | stats)"
printf '| projmodel export (model kept) after the same edit, warm server | %s |\n' "$(printf '%s\n' "${ex_edit[@]}" | stats)"
printf '| projmodel own share of one edit (export - cquery, medians) | - | %.2f |\n' \
        "$(echo "$(med "${ex_edit[@]}") - $(med "${cq_edit[@]}")" | bc)"
