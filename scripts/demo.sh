#!/usr/bin/env bash
# The main job on the bundled example: install, build projmodel, build the example GN monorepo
# with ninja (so its proc macro exists), print its crate graph and write its rust-project.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

[ -d build ] || meson setup build
meson compile -C build

example=examples/gn-monorepo
(cd "$example" && gn gen out >/dev/null && ninja -C out >/dev/null)

build/cli/projmodel dump --root "$example"
build/cli/projmodel export --root "$example" --pretty --output "$example/rust-project.json"
echo "wrote $example/rust-project.json"

# The README's rust-analyzer settings run `projmodel` by name: say how to get it on PATH.
if ! command -v projmodel >/dev/null; then
        echo "projmodel is not on PATH; to install it with its man page and completions under ~/.local:"
        echo "  meson configure build -Dprefix=\"\$HOME/.local\" && meson install -C build   # then ~/.local/bin in PATH"
fi
