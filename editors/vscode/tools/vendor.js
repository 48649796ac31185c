// The extension's copy of vscode-jsonrpc (editors/vscode/vendor/vscode-jsonrpc): the files of
// the npm package that `require('vscode-jsonrpc/node')` loads, plus its manifest and licence
// notices, taken unchanged from the package package-lock.json pins (a devDependency, which
// `npm ci` installs and verifies against the lock's integrity hash). The copy makes every
// installed form of the extension self-contained -- the folder `meson install` and the Debian
// package ship, and the .vsix -- with no npm at build or install time.
//   node tools/vendor.js          refresh the copy from node_modules (after test/deps.js)
// test/vendor.test.js checks the copy is byte-identical to the locked package.
'use strict';

const fs = require('fs');
const path = require('path');

const EXT = path.resolve(__dirname, '..');
const NAME = 'vscode-jsonrpc';
const VENDORED = path.join(EXT, 'vendor', NAME);
const INSTALLED = path.join(EXT, 'node_modules', NAME);

// The files of the package in @dir to copy, relative, sorted: the node entry point, every
// CommonJS module of lib/common and lib/node (no typings, no browser build), the manifest and
// the licence notices.
function vendorFiles(dir) {
  const js = (sub) => fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.js')).map((f) => `${sub}/${f}`);
  return ['License.txt', 'thirdpartynotices.txt', 'package.json', 'node.js', ...js('lib/common'), ...js('lib/node')].sort();
}

function refresh() {
  fs.rmSync(VENDORED, { recursive: true, force: true });
  for (const f of vendorFiles(INSTALLED)) {
    fs.mkdirSync(path.dirname(path.join(VENDORED, f)), { recursive: true });
    fs.copyFileSync(path.join(INSTALLED, f), path.join(VENDORED, f));
  }
}

if (require.main === module) {
  try {
    require('../test/deps').ensureDeps();
    refresh();
    process.stderr.write(`vendor.js: ${VENDORED} holds ${vendorFiles(VENDORED).length} files of ${NAME}\n`);
  } catch (e) {
    process.stderr.write(`vendor.js: ${e.message}\n`);
    process.exit(1);
  }
}

module.exports = { vendorFiles, VENDORED, INSTALLED, NAME };
