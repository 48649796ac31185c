// Which monorepo root a workspace belongs to and where its daemon listens, computed exactly as
// the projmodel command does (common/config.c pm_config_find_root, server/socket.c,
// docs/protocol.md "Socket"), so the extension finds a daemon that `projmodel` started and the
// other way round; and the socket of the systemd unit's daemon (data/systemd/projmodel@.socket,
// docs/protocol.md "systemd socket activation"), which the command also finds without --socket.
// No `vscode` import: node tests it against the real daemon.
'use strict';

const fs = require('fs');
const path = require('path');
const os = require('os');

// The root markers in pm_config_find_root's order (common/config.c).
const ROOT_MARKERS = ['.gn', 'MODULE.bazel', 'WORKSPACE', 'WORKSPACE.bazel', '.buckconfig'];

function existsIn(dir, name) {
  try {
    fs.statSync(path.join(dir, name));
    return true;
  } catch (e) {
    return false;
  }
}

// The nearest directory holding .projmodel.json, else the nearest with a root marker, else the
// outermost with Cargo.toml; undefined when there is none. @start must be absolute.
function findRoot(start) {
  let dir = path.resolve(start);
  try {
    if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  } catch (e) {
    return undefined;
  }
  let marker;
  let cargo;
  for (;;) {
    if (existsIn(dir, '.projmodel.json')) return dir;
    if (!marker && ROOT_MARKERS.some((m) => existsIn(dir, m))) marker = dir;
    if (existsIn(dir, 'Cargo.toml')) cargo = dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return marker || cargo;
}

// XXH64 (common/hash.c), over bytes, with BigInt arithmetic modulo 2^64.
const M64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & M64;
const mul = (a, b) => (a * b) & M64;
const add = (a, b) => (a + b) & M64;
const round64 = (acc, input) => mul(rotl(add(acc, mul(input, P2)), 31), P1);
const merge64 = (acc, val) => add(mul(acc ^ round64(0n, val), P1), P4);

function xxh64(buf, seed = 0n) {
  const len = buf.length;
  let p = 0;
  let h;
  if (len >= 32) {
    let v1 = add(add(seed, P1), P2);
    let v2 = add(seed, P2);
    let v3 = seed;
    let v4 = (seed - P1) & M64;
    while (p <= len - 32) {
      v1 = round64(v1, buf.readBigUInt64LE(p));
      v2 = round64(v2, buf.readBigUInt64LE(p + 8));
      v3 = round64(v3, buf.readBigUInt64LE(p + 16));
      v4 = round64(v4, buf.readBigUInt64LE(p + 24));
      p += 32;
    }
    h = add(add(rotl(v1, 1), rotl(v2, 7)), add(rotl(v3, 12), rotl(v4, 18)));
    h = merge64(merge64(merge64(merge64(h, v1), v2), v3), v4);
  } else {
    h = add(seed, P5);
  }
  h = add(h, BigInt(len));
  while (p + 8 <= len) {
    h ^= round64(0n, buf.readBigUInt64LE(p));
    h = add(mul(rotl(h, 27), P1), P4);
    p += 8;
  }
  if (p + 4 <= len) {
    h ^= mul(BigInt(buf.readUInt32LE(p)), P1);
    h = add(mul(rotl(h, 23), P2), P3);
    p += 4;
  }
  while (p < len) {
    h ^= mul(BigInt(buf[p]), P5);
    h = mul(rotl(h, 11), P1);
    p += 1;
  }
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  h ^= h >> 32n;
  return h;
}

// The default socket of @root (absolute, as findRoot returns it): pm_hash64_str hashes the
// string with its NUL, and the basename is cut at 32 bytes.
function defaultSocket(root, env = process.env) {
  const hash = xxh64(Buffer.concat([Buffer.from(root, 'utf8'), Buffer.from([0])]));
  let base = Buffer.from(path.basename(root) || 'root', 'utf8').subarray(0, 32).toString('utf8');
  if (!base) base = 'root';
  const stem = `${base}-${hash.toString(16).padStart(16, '0')}`;
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && xdg.startsWith('/')) return path.join(xdg, 'projmodel', `${stem}.sock`);
  return path.join('/tmp', `projmodel-${os.userInfo().uid}`, `${stem}.sock`);
}

// PATH_MAX and NAME_MAX of Linux (<limits.h>), and the size of sockaddr_un's sun_path.
const PATH_MAX = 4096;
const NAME_MAX = 255;
const SUN_PATH_SIZE = 108;

// @p (absolute) escaped as `systemd-escape --path` escapes it, byte for byte as
// pm_path_systemd_escape (common/path.c) does: "//" and "." components dropped, "/" between
// components becomes "-", a leading "." and every byte of the UTF-8 string but ASCII letters,
// digits, ':', '_' and '.' become "\xNN" (lowercase hex); "/" alone is "-". undefined where
// the C refuses (systemd-escape refuses those too): a relative path, a ".." component, a
// component longer than NAME_MAX bytes, a path of PATH_MAX bytes or more.
function systemdEscapePath(p) {
  const bytes = Buffer.from(p, 'utf8');
  if (bytes[0] !== 0x2f || bytes.length >= PATH_MAX) return undefined;
  let out = '';
  for (const comp of p.split('/')) {
    if (comp === '' || comp === '.') continue;
    const b = Buffer.from(comp, 'utf8');
    if (b.length > NAME_MAX || comp === '..') return undefined;
    if (out !== '') out += '-';
    for (const c of b) {
      // systemd escapes a leading '.' so that no unit name is hidden.
      const plain = /[A-Za-z0-9:_.]/.test(String.fromCharCode(c)) && !(c === 0x2e && out === '');
      out += plain ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return out === '' ? '-' : out;
}

// The socket projmodel@.socket listens on for @root: %t/projmodel/%i.sock, %t being
// $XDG_RUNTIME_DIR and %i the escaped root, as cli/client.c's unit_socket() builds it.
// undefined when there is none to try, as there: XDG_RUNTIME_DIR unset or not absolute, a root
// systemd cannot escape, or a path too long for a socket address, which systemd could not bind.
function unitSocket(root, env = process.env) {
  const xdg = env.XDG_RUNTIME_DIR;
  if (!xdg || !xdg.startsWith('/')) return undefined;
  const inst = systemdEscapePath(root);
  if (inst === undefined) return undefined;
  const sock = `${xdg}/projmodel/${inst}.sock`;
  return Buffer.byteLength(sock, 'utf8') < SUN_PATH_SIZE ? sock : undefined;
}

module.exports = { findRoot, xxh64, defaultSocket, systemdEscapePath, unitSocket };
