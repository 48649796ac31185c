// Build file errors parsed from refreshFailed (tool-errors.js), on the lines the tools print:
// GN, Cargo and Bazel as they print them here (Bazel: `bazel query` on a BUILD.bazel missing a
// comma), Cargo's older TOML form; and the warnings of a partial Bazel refresh.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseToolErrors, parseWarningErrors } = require('../tool-errors');

test('GN: the //path is under the gn --root, the message is GN\'s', () => {
  const error = "'gn gen /repo/sub/out --root=/repo/sub --ide=json' failed with exit status 1: ERROR at //lib/util/BUILD.gn:8:5: Expected comma between items.";
  const output = 'ERROR at //lib/util/BUILD.gn:8:5: Expected comma between items.\n    "src/text.rs",\n    ^------------\n';
  assert.deepStrictEqual(parseToolErrors(error, output, '/repo'), [
    { file: '/repo/sub/lib/util/BUILD.gn', line: 8, col: 5, message: 'Expected comma between items.' },
  ]);
  // Without output, the error line alone is enough.
  assert.strictEqual(parseToolErrors(error, undefined, '/repo').length, 1);
});

test('Bazel: an absolute path after ERROR:', () => {
  const output = "ERROR: /repo/lib/config/BUILD.bazel:6:5: syntax error at 'crate_features': expected ,\nERROR: Evaluation of query \"//lib/config:all\" failed\n";
  assert.deepStrictEqual(parseToolErrors("'bazel query //lib/config:all' failed with exit status 7: ERROR: /repo/lib/config/BUILD.bazel:6:5: syntax error at 'crate_features': expected ,", output, '/repo'), [
    { file: '/repo/lib/config/BUILD.bazel', line: 6, col: 5, message: "syntax error at 'crate_features': expected ," },
  ]);
});

test('Bazel under --keep_going: the warnings of a partial refresh that name a file and line', () => {
  const warnings = [
    { project: 'bazel:.', message: "/repo/lib/config/BUILD.bazel:7:5: syntax error at 'edition': expected , (bazel could not load it with --keep_going)" },
    { project: 'bazel:.', message: 'bazel could not load /repo/lib/config/BUILD.bazel and 4 other build files and the model has no earlier state of them: their crates are missing until they load' },
    { project: 'gn:.', message: "target '//lib/util:noenv': rustenv entry 'NOEQ' is not KEY=VALUE, ignoring" },
  ];
  assert.deepStrictEqual(parseWarningErrors(warnings), [
    { file: '/repo/lib/config/BUILD.bazel', line: 7, col: 5, message: "syntax error at 'edition': expected ," },
  ]);
  assert.deepStrictEqual(parseWarningErrors(undefined), []);
  assert.deepStrictEqual(parseWarningErrors([]), []);
});

// Buck2 under --keep-going: adapters/buck2/buck2-error.c words a package it could not load at
// the absolute file Buck2's error names (a nested package's, another cell's, a .bzl's).
test('Buck2 under --keep-going: the warnings of a partial refresh that name a file and line', () => {
  const warnings = [
    { project: 'buck2:.', message: '/repo/lib/util/TARGETS:5:9: Parse error: unexpected new line here (buck2 could not load it with --keep-going)' },
    { project: 'buck2:.', message: '/repo/third-party/rust/defs.bzl:4:5: Variable `rust_libary` not found (buck2 could not load it with --keep-going)' },
    { project: 'buck2:.', message: "package 'root//broken': buck2 could not load it with --keep-going: Tabs are not allowed in Buck files: `root//broken:BUCK`" },
  ];
  assert.deepStrictEqual(parseWarningErrors(warnings), [
    { file: '/repo/lib/util/TARGETS', line: 5, col: 9, message: 'Parse error: unexpected new line here' },
    { file: '/repo/third-party/rust/defs.bzl', line: 4, col: 5, message: 'Variable `rust_libary` not found' },
  ]);
});

// Buck2 wraps starlark's diagnostic in its own context: "Error evaluating build file: `CELL//PKG:BUCK`"
// (buck2's interpreter, DiceCalculationDelegateError), then under "Caused by:" an indented
// traceback, starlark's "error: ..." and " --> PATH:LINE:COL" with PATH relative to the project
// root, as a real buck2 printed it for root//:BUCK.
test('Buck2: its error form, indented under "Caused by:"', () => {
  const output = [
    'Error evaluating build file: `root//:BUCK`',
    '',
    'Caused by:',
    '    Traceback (most recent call last):',
    '      * BUCK:8, in <module>',
    '          rust_binary(',
    '    error: Attempted to register target root//:hello_world twice, re-run the command with `--target-call-stacks` to obtain a call stack of the first registration',
    '      --> BUCK:8:1',
    '       |',
    '     8 | / rust_binary(',
    '     9 | |     name = "hello_world",',
    '',
  ].join('\n');
  assert.deepStrictEqual(parseToolErrors("'buck2 uquery ...' failed with exit status 1: Error evaluating build file: `root//:BUCK`", output, '/repo'), [
    { file: '/repo/BUCK', line: 8, col: 1, message: 'Attempted to register target root//:hello_world twice, re-run the command with `--target-call-stacks` to obtain a call stack of the first registration' },
  ]);
});

// Buck2 names every file relative to its project root, whatever the cell (docs/
// build-integration.md, "Partial results"): a nested package's TARGETS, and another cell's .bzl
// under numbered causes ("N: ", anyhow's form when there are several).
test('Buck2: a nested package and another cell, relative to the project root', () => {
  const nested = [
    'Error parsing: `root//lib/util:TARGETS`',
    '',
    'Caused by:',
    '    error: Parse error: unexpected string literal "src/lib.rs" here',
    '     --> lib/util/TARGETS:5:9',
    '      |',
  ].join('\n');
  assert.deepStrictEqual(parseToolErrors("'buck2 targets //...' failed with exit status 2: Error parsing: `root//lib/util:TARGETS`", nested, '/repo'), [
    { file: '/repo/lib/util/TARGETS', line: 5, col: 9, message: 'Parse error: unexpected string literal "src/lib.rs" here' },
  ]);
  const cell = [
    'Error evaluating build file: `third-party//:BUCK`',
    '',
    'Caused by:',
    '    0: From load at third-party/rust/BUCK:1',
    '    1: error: Variable `rust_libary` not found',
    '          --> third-party/rust/defs.bzl:4:5',
    '           |',
  ].join('\n');
  assert.deepStrictEqual(parseToolErrors("'buck2 targets //...' failed with exit status 2: Error evaluating build file: `third-party//:BUCK`", cell, '/repo'), [
    { file: '/repo/third-party/rust/defs.bzl', line: 4, col: 5, message: 'Variable `rust_libary` not found' },
  ]);
});

// In a monorepo of several projects the daemon's error line starts with the failed one's id:
// a Buck2 project's files are relative to its own root, not the monorepo's.
test('Buck2 as a subproject: relative to the project the error line names', () => {
  const output = 'Caused by:\n    error: Parse error: unexpected new line here\n     --> lib/x/BUCK:2:3\n';
  const error = "project 'buck2:third_party/b': 'buck2 targets //...' failed with exit status 2: Error parsing: `root//lib/x:BUCK`";
  assert.deepStrictEqual(parseToolErrors(error, output, '/repo'), [
    { file: '/repo/third_party/b/lib/x/BUCK', line: 2, col: 3, message: 'Parse error: unexpected new line here' },
  ]);
});

test('Cargo: "error:" then " --> PATH:LINE:COL", relative to the manifest\'s directories', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-errors-'));
  try {
    fs.mkdirSync(path.join(tmp, 'crates', 'a'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'crates', 'a', 'Cargo.toml'), '[package\n');
    const error = `'cargo metadata --format-version 1 --manifest-path ${tmp}/crates/a/Cargo.toml' failed with exit status 101: error: unclosed table, expected \`]\``;
    const output = 'error: unclosed table, expected `]`\n --> crates/a/Cargo.toml:1:9\n  |\n1 | [package\n  |         ^\n';
    assert.deepStrictEqual(parseToolErrors(error, output, tmp), [
      { file: path.join(tmp, 'crates', 'a', 'Cargo.toml'), line: 1, col: 9, message: 'unclosed table, expected `]`' },
    ]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('older Cargo: failed to parse manifest ... TOML parse error at line, column', () => {
  const output = [
    'error: failed to parse manifest at `/repo/Cargo.toml`',
    '',
    'Caused by:',
    '  TOML parse error at line 5, column 14',
    '    |',
    '  5 | [dependencies',
    '    |              ^',
    '  invalid table header',
    '  expected `.`, `]`',
  ].join('\n');
  assert.deepStrictEqual(parseToolErrors('', output, '/repo'), [
    { file: '/repo/Cargo.toml', line: 5, col: 14, message: 'invalid table header' },
  ]);
});

test('an error naming no file gives no diagnostic', () => {
  assert.deepStrictEqual(parseToolErrors("'gn gen /r/out --root=/r --ide=json' did not finish within 100 ms (tool_timeout_ms)", '', '/r'), []);
});
