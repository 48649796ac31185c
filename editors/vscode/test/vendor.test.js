// The extension's copy of vscode-jsonrpc (vendor/, tools/vendor.js) is exactly the package the
// lock pins: the same version, every file byte-identical to the one `npm ci` installed and
// verified against the lock's integrity hash, no module the node entry point can load missing;
// and daemon.js loads the copy, not node_modules.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { vendorFiles, VENDORED, INSTALLED, NAME } = require('../tools/vendor');

test('vendor/vscode-jsonrpc is the locked package, unchanged', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package-lock.json'), 'utf8'));
  const locked = lock.packages[`node_modules/${NAME}`].version;
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(VENDORED, 'package.json'), 'utf8')).version, locked);
  assert.strictEqual(JSON.parse(fs.readFileSync(path.join(INSTALLED, 'package.json'), 'utf8')).version, locked);
  const want = vendorFiles(INSTALLED);
  assert.deepStrictEqual(vendorFiles(VENDORED), want, 'the copy holds the same files (node tools/vendor.js refreshes it)');
  for (const f of want) {
    assert.ok(fs.readFileSync(path.join(VENDORED, f)).equals(fs.readFileSync(path.join(INSTALLED, f))), `${f} differs from the npm package's`);
  }
});

test('daemon.js loads vscode-jsonrpc from vendor/', () => {
  const daemon = require.resolve('../daemon');
  require(daemon);
  const loaded = Object.keys(require.cache).filter((f) => f.includes(`${path.sep}${NAME}${path.sep}`));
  assert.ok(!loaded.some((f) => f.startsWith(INSTALLED)), `nothing from node_modules: ${loaded}`);
  // The copy loads and has what daemon.js uses.
  const rpc = require(path.join(VENDORED, 'node'));
  for (const name of ['createMessageConnection', 'SocketMessageReader', 'SocketMessageWriter', 'ProgressType']) {
    assert.strictEqual(typeof rpc[name], 'function', name);
  }
  assert.ok(Object.keys(require.cache).some((f) => f.startsWith(VENDORED)));
});
