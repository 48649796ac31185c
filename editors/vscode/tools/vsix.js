// Packages the extension (editors/vscode) as a .vsix with the pinned @vscode/vsce, offline:
//   node tools/vsix.js OUT.vsix
// meson's `projmodel-vsix` target runs it (meson.build). vsce takes the files not excluded by
// .vscodeignore, vendor/vscode-jsonrpc included (there is no production dependency: vsce lists
// them with npm, hence test/deps.js's `npm ci` first); it runs under the tools' Node 24 (vsce
// needs Node >= 22). No LICENSE file in
// the folder: package.json's "license" field names it, hence --skip-license.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { requireTools, node24Env } = require('./tools');
const { ensureDeps } = require('../test/deps');

const EXT = path.resolve(__dirname, '..');

function main() {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node tools/vsix.js OUT.vsix');
  ensureDeps();
  const t = requireTools();
  const target = path.resolve(out);
  fs.rmSync(target, { force: true });
  execFileSync(t.node, [t.vsce, 'package', '--allow-missing-repository', '--skip-license', '--out', target],
    { cwd: EXT, env: node24Env(t), stdio: ['ignore', 2, 2] });
  if (!fs.existsSync(target)) throw new Error(`vsce wrote no ${target}`);
}

try {
  main();
} catch (e) {
  process.stderr.write(`vsix.js: ${e.message}\n`);
  process.exit(1);
}
