#!/usr/bin/env bash
# Install what projmodel needs to build, test and run its examples on Debian 12. Idempotent:
# installs only the packages that are missing. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
        build-essential pkg-config meson ninja-build python3
        libcjson-dev libuv1-dev libsqlite3-dev libinotifytools0-dev libcriterion-dev
        generate-ninja bazel-bootstrap graphviz sqlite3 time clang-format git
        zsh fish man-db systemd debhelper dpkg-dev
        emacs-gtk elpa-eglot xvfb neovim
        chromium libkrb5-dev
        librust-serde-dev librust-serde-derive-dev librust-serde-json-dev
)
# librust-serde*-dev: real crates.io sources (serde, serde_json, syn, ...) in Debian's cargo
# directory registry, for the offline Cargo test tests/cargo/test-build-crates.c.
# emacs-gtk, not emacs-nox (the two conflict; installing it removes emacs-nox): it is built with
# librsvg, so projmodel-show-graph's SVG picture is tested, in an X frame on Xvfb
# (editors/emacs/test/projmodel-daemon-test.el).
missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for the VS Code extension (Debian's, unless a node and npm are on PATH).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        export DEBIAN_FRONTEND=noninteractive
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# rustc and cargo: the examples use edition 2024, which needs rustc >= 1.85 (rustup's stable;
# Debian 12's rustc is 1.63). rustup installs into ~/.cargo/bin.
if [ -d "$HOME/.cargo/bin" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v rustc >/dev/null; then
        echo "setup: rustc not found: install a Rust toolchain >= 1.85 (rustup) and re-run" >&2
        exit 1
fi

# The VS Code extension's pinned npm packages (editors/vscode/package-lock.json), fetched once;
# a no-op when node_modules already holds them.
node "$(dirname "${BASH_SOURCE[0]}")/../editors/vscode/test/deps.js"

# The tools that package the extension as a .vsix and test it in real VS Code
# (editors/vscode/tools/package-lock.json: @vscode/vsce, code-server, playwright-core, Node 24),
# installed outside the repository (`node editors/vscode/tools/tools.js --dir` names the
# directory); a no-op when that directory already holds them. code-server's postinstall builds
# VS Code's native modules (build-essential, python3, libkrb5-dev above); Debian's chromium is
# the browser, so nothing else is downloaded. With PM_SETUP_TOOLS_BACKGROUND=1 (scripts/test.sh
# sources this file so) the install runs in the background, its output in a file, and
# pm_setup_wait_tools waits for it and fails as it did; otherwise pm_setup_wait_tools is a no-op.
pm_setup_tools_pid=
pm_setup_tools_log=
pm_setup_wait_tools() {
        [ -n "$pm_setup_tools_pid" ] || return 0
        local rc=0
        wait "$pm_setup_tools_pid" || rc=$?
        pm_setup_tools_pid=
        if [ "$rc" -ne 0 ]; then
                cat "$pm_setup_tools_log" >&2
                echo "setup: installing the VS Code tools failed (exit $rc)" >&2
        fi
        rm -f "$pm_setup_tools_log"
        return "$rc"
}
if [ "${PM_SETUP_TOOLS_BACKGROUND:-}" = 1 ]; then
        pm_setup_tools_log=$(mktemp)
        node "$(dirname "${BASH_SOURCE[0]}")/../editors/vscode/tools/tools.js" \
                >"$pm_setup_tools_log" 2>&1 </dev/null &
        pm_setup_tools_pid=$!
else
        node "$(dirname "${BASH_SOURCE[0]}")/../editors/vscode/tools/tools.js"
fi
