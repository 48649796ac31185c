// Build file errors from a failed refresh (projmodel/refreshFailed's "error" line and "output",
// docs/protocol.md) as {file, line, col, message}, 1-based as the tools print them. No `vscode`
// import: node tests it. Forms handled, as the tools print them:
//   GN:           ERROR at //lib/util/BUILD.gn:5:3: Expected ')'
//                 (a source-absolute path, from the --root= of the gn command in the error line)
//   Bazel:        ERROR: /repo/pkg/BUILD.bazel:3:10: syntax error at 'x': expected ,
//   Cargo, Buck2: error: unclosed table, expected `]`
//                  --> lib/Cargo.toml:5:14            (relative to the tool's working directory;
//                 Buck2's relative to its project root for every cell, docs/build-integration.md)
//   older Cargo:  failed to parse manifest at `/repo/Cargo.toml` ... TOML parse error at line 5, column 14
'use strict';

const fs = require('fs');
const path = require('path');

const GN_RE = /^ERROR at \/\/([^:]+):(\d+):(\d+): (.*)$/;
const BAZEL_RE = /^ERROR: (\/[^:]+):(\d+):(\d+): (.*)$/;
const ARROW_RE = /^\s*--> (.+?):(\d+):(\d+)\s*$/;
// Buck2 prints its causes indented and, when there are several, numbered "N: " (anyhow's form).
const ERROR_LINE_RE = /^(?:\d+: )?(?:error|Error|ERROR)(?:\[[A-Za-z0-9]+\])?: (.*)$/;
const MANIFEST_RE = /failed to parse manifest at `([^`]+)`/;
const TOML_RE = /TOML parse error at line (\d+), column (\d+)/;

function exists(file) {
  try {
    return fs.statSync(file).isFile();
  } catch (e) {
    return false;
  }
}

// Directories a relative path in the tool's output may be relative to: the GN --root, the
// directory of Cargo's --manifest-path (and its parents up to the root), the failed project's
// root, the monorepo root. With several projects the daemon's error line starts with the failed
// one's id, "project 'buck2:third_party/b': ..." (build system, then its root relative to the
// monorepo's; common/config.c): its tool ran there, and Buck2 names files relative to it.
function bases(errorLine, root) {
  const out = [];
  const project = /^project '[^':]+:([^']+)': /.exec(errorLine || '');
  const gnRoot = /--root=(\/\S+?)(?:'|\s)/.exec(errorLine || '');
  if (gnRoot) out.push(gnRoot[1]);
  const manifest = /--manifest-path (\/\S+?)(?:'|\s)/.exec(errorLine || '');
  if (manifest) {
    for (let d = path.dirname(manifest[1]); ; d = path.dirname(d)) {
      out.push(d);
      if (d === root || path.dirname(d) === d || (root && !d.startsWith(root))) break;
    }
  }
  if (project && root) out.push(path.join(root, project[1]));
  if (root) out.push(root);
  return out;
}

// The first of @candidates that names an existing file, else the first one.
function pick(candidates) {
  return candidates.find(exists) || candidates[0];
}

function parseToolErrors(errorLine, output, root) {
  const found = [];
  const seen = new Set();
  const dirs = bases(errorLine, root);
  const push = (file, line, col, message) => {
    const key = `${file}:${line}:${col}:${message}`;
    if (!file || seen.has(key)) return;
    seen.add(key);
    found.push({ file, line: Number(line), col: Number(col), message: message.trim() });
  };
  const text = [output || '', errorLine || ''].join('\n');
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let lastError;
  let manifest;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    // The command's error line quotes the tool's first error after "...: ".
    const gnAt = l.indexOf('ERROR at //');
    const gn = gnAt >= 0 ? GN_RE.exec(l.slice(gnAt)) : null;
    if (gn) {
      const file = dirs.length ? pick(dirs.map((d) => path.join(d, gn[1]))) : `/${gn[1]}`;
      push(file, gn[2], gn[3], gn[4]);
      continue;
    }
    const bzAt = l.indexOf('ERROR: /');
    const bz = bzAt >= 0 ? BAZEL_RE.exec(l.slice(bzAt)) : null;
    if (bz) {
      push(bz[1], bz[2], bz[3], bz[4]);
      continue;
    }
    const m = MANIFEST_RE.exec(l);
    if (m) manifest = m[1];
    const e = ERROR_LINE_RE.exec(l.trim());
    if (e) {
      lastError = e[1];
      continue;
    }
    const arrow = ARROW_RE.exec(l);
    if (arrow && lastError) {
      const rel = arrow[1];
      const file = path.isAbsolute(rel) || !dirs.length ? rel : pick(dirs.map((d) => path.join(d, rel)));
      push(file, arrow[2], arrow[3], lastError);
      lastError = undefined;
      continue;
    }
    const toml = TOML_RE.exec(l);
    if (toml && manifest) {
      // The reason follows the caret lines of the snippet: the first line that is not one.
      let message = 'TOML parse error';
      for (let j = i + 1; j < lines.length; j++) {
        const t = lines[j].trim();
        if (!t || /^\d*\s*\|/.test(t)) continue;
        message = t;
        break;
      }
      push(manifest, toml[1], toml[2], message);
      manifest = undefined;
    }
  }
  return found;
}

// Build file errors a refresh that succeeded carries as warnings (projmodel/status "warnings",
// docs/protocol.md): Bazel and Buck2 run with --keep_going / --keep-going, so a build file they
// cannot load leaves the refresh partial, with the package's crates kept as they were, and their
// adapters (adapters/bazel/failed.c, adapters/buck2/buck2-error.c) word each such error at its
// absolute file, line and column:
//   /repo/lib/config/BUILD.bazel:7:5: syntax error at 'edition': expected , (bazel could not load it with --keep_going)
//   /repo/lib/util/TARGETS:5:9: Parse error: unexpected new line here (buck2 could not load it with --keep-going)
// Warnings of any other form (a target's bad attribute, a summary) name no line: left out.
const WARNING_RE = /^(\/[^:]+):(\d+):(\d+): (.*?)(?: \((?:bazel could not load it with --keep_going|buck2 could not load it with --keep-going)\))?$/;

function parseWarningErrors(warnings) {
  const found = [];
  for (const w of warnings || []) {
    const m = WARNING_RE.exec((w && w.message) || '');
    if (m) found.push({ file: m[1], line: Number(m[2]), col: Number(m[3]), message: m[4].trim() });
  }
  return found;
}

module.exports = { parseToolErrors, parseWarningErrors };
