// The systemd unit's socket as socket-path.js derives it (node --test, no VS Code needed): the
// root escaped as the real `systemd-escape --path` escapes it, on awkward paths, and refused
// where systemd-escape refuses; then the socket under XDG_RUNTIME_DIR, or none, as
// cli/client.c's unit_socket() decides.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { spawnSync } = require('child_process');
const { systemdEscapePath, unitSocket } = require('../socket-path');

// systemd-escape's answer for @p: its one output line, or undefined when it refuses (exit 1).
function systemdEscape(p) {
  const r = spawnSync('systemd-escape', ['--path', p], { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) return undefined;
  assert.strictEqual(r.stdout.slice(-1), '\n');
  return r.stdout.slice(0, -1);
}

test('the root is escaped as systemd-escape --path escapes it', () => {
  const paths = [
    '/home/user/src/monorepo',
    '/',
    '/.',
    '//a//b/',
    '/a/./b',
    '/a-b.c/d:e_f',
    '/-',
    '/my repo/with spaces',
    '/.hidden/repo',
    '/./.hidden',
    '/a/.b',
    '/..a/b',
    '/a/...',
    '/x/.config/mono.repo',
    '/s\u00fc\u00df/\u00e9t\u00e9-2/\u65e5\u672c\u8a9e/\ud83d\ude00',
    '/back\\slash/x\\y',
    '/tab\there/new\nline',
    '/~a/$b/%c/@d/+e/=f/,g/[h]/{i}/"j"/\'k/#l/&m/*n/?o/|p/<q>',
    `/${'x'.repeat(255)}`,
    `/${'\u00e9'.repeat(127)}`,
  ];
  for (const p of paths) {
    const want = systemdEscape(p);
    assert.notStrictEqual(want, undefined, `systemd-escape refused ${JSON.stringify(p)}`);
    assert.strictEqual(systemdEscapePath(p), want, JSON.stringify(p));
  }
});

test('paths systemd-escape refuses have no escape', () => {
  // A ".." component, a component of 256 bytes (128 two-byte characters too), a path of
  // PATH_MAX (4096) bytes; one byte less is escaped.
  const long = (n) => `/${'x'.repeat(200)}`.repeat(Math.ceil(n / 201)).slice(0, n - 1) + 'y';
  for (const p of ['/a/../b', '/..', `/${'x'.repeat(256)}`, `/${'\u00e9'.repeat(128)}`, long(4096)]) {
    assert.strictEqual(systemdEscape(p), undefined, `systemd-escape accepted ${JSON.stringify(p)}`);
    assert.strictEqual(systemdEscapePath(p), undefined, JSON.stringify(p));
  }
  assert.strictEqual(long(4095).length, 4095);
  assert.strictEqual(systemdEscapePath(long(4095)), systemdEscape(long(4095)));
  assert.strictEqual(systemdEscapePath('relative/path'), undefined);
});

test('the unit socket lies under XDG_RUNTIME_DIR/projmodel, when there is one', () => {
  const root = '/home/user/my-repo';
  const run = '/run/user/1000';
  assert.strictEqual(unitSocket(root, { XDG_RUNTIME_DIR: run }), `${run}/projmodel/${systemdEscape(root)}.sock`);
  assert.strictEqual(unitSocket(root, { XDG_RUNTIME_DIR: run }), '/run/user/1000/projmodel/home-user-my\\x2drepo.sock');
  // No XDG_RUNTIME_DIR, or a relative one: the unit's %t is unknown (and the default socket
  // does not use it either).
  assert.strictEqual(unitSocket(root, {}), undefined);
  assert.strictEqual(unitSocket(root, { XDG_RUNTIME_DIR: 'run/user/1000' }), undefined);
  assert.strictEqual(unitSocket('/a/../b', { XDG_RUNTIME_DIR: run }), undefined);
  // sun_path holds 108 bytes with the NUL: a longer path is no socket systemd could bind.
  const fits = `/${'r'.repeat(107 - `${run}/projmodel/.sock`.length)}`;
  assert.strictEqual(Buffer.byteLength(unitSocket(fits, { XDG_RUNTIME_DIR: run })), 107);
  assert.strictEqual(unitSocket(`${fits}r`, { XDG_RUNTIME_DIR: run }), undefined);
});
