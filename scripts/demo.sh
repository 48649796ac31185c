#!/usr/bin/env bash
# The main job on the bundled example: install, build projmodel, build the example GN monorepo
# with ninja (so its proc macro exists), print its crate graph and write its rust-project.json.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
source scripts/setup.sh

[ -d build ] || meson setup build
meson compile -C build

example=examples/gn-monorepo
(cd "$example" && gn gen out >/dev/null && ninja -C out >/dev/null)

build/cli/projmodel dump --root "$example"
build/cli/projmodel export --root "$example" --pretty --output "$example/rust-project.json"
echo "wrote $example/rust-project.json"

# The README's rust-analyzer settings run `projmodel` by name: print the line that puts it on
# PATH, naming the build directory as the caller's shell sees it.
bash scripts/path-hint.sh "$(realpath --relative-to="$caller" build)"
