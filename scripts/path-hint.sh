#!/usr/bin/env bash
# Print the one line that puts projmodel on PATH, when it is not there: install the build
# BUILD_DIR (as the caller's shell names it) under ~/.local, with its man page and completions,
# and put ~/.local/bin first in PATH. The README's rust-analyzer settings run `projmodel` by
# name; scripts/demo.sh ends with this. Prints nothing when `projmodel` is already on PATH.
# Tested by tests/cli/check-path-hint.py (suite package), which runs the line it prints.
set -euo pipefail

if [ $# -ne 1 ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
fi
command -v projmodel >/dev/null && exit 0
build=$(printf '%q' "$1")
echo "projmodel is not on PATH. This line installs it under ~/.local (with its man page and completions) and runs it by name in this shell:"
echo "  meson configure $build -Dprefix=\"\$HOME/.local\" && meson install -C $build && export PATH=\"\$HOME/.local/bin:\$PATH\""
echo "(For new shells too, put ~/.local/bin in PATH in your shell's profile.)"
