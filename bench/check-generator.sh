#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proves gen-gn-monorepo.py emits a workspace that really builds: generate N crates (default 50),
# `gn gen`, `ninja`, run the binaries. Used by the 'bench-generator' meson test.
# usage: bench/check-generator.sh [N] [SEED]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
n=${1:-50}
seed=${2:-1}
ws=$(mktemp -d "${TMPDIR:-/tmp}/pm-gen-XXXXXX")
trap 'rm -rf "$ws"' EXIT
python3 "$here/gen-gn-monorepo.py" "$n" "$ws/repo" --seed "$seed"
gn gen "$ws/repo/out" --root="$ws/repo" >/dev/null
ninja -C "$ws/repo/out" -j 2 >"$ws/ninja.log" 2>&1 || { tail -40 "$ws/ninja.log"; exit 1; }
bins=0
for b in "$ws"/repo/out/c*; do
        if [[ -f $b && -x $b ]]; then
                "$b" >/dev/null
                bins=$((bins + 1))
        fi
done
echo "ok: $n crates built, $bins binaries ran"
