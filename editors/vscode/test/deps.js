// Installs the extension's pinned npm dependencies (package-lock.json) when node_modules does not
// hold exactly them, then, with `--test FILE...`, runs those node tests. scripts/setup.sh runs it
// once online; afterwards nothing is fetched (the check reads node_modules, `npm ci` prefers the
// npm cache). Processes run with argv, never a shell.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const DIR = path.resolve(__dirname, '..');

// True when every package of the lock file is installed at its locked version.
function installed() {
  const lock = JSON.parse(fs.readFileSync(path.join(DIR, 'package-lock.json'), 'utf8'));
  for (const [where, pkg] of Object.entries(lock.packages || {})) {
    if (!where) continue;
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(DIR, where, 'package.json'), 'utf8'));
      if (meta.version !== pkg.version) return false;
    } catch (e) {
      return false;
    }
  }
  return true;
}

function ensureDeps() {
  if (installed()) return;
  const npm = process.env.NPM || 'npm';
  process.stderr.write(`deps.js: npm ci in ${DIR}\n`);
  execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: DIR, stdio: ['ignore', 2, 2] });
  if (!installed()) throw new Error(`npm ci in ${DIR} did not install package-lock.json's versions`);
}

if (require.main === module) {
  ensureDeps();
  const at = process.argv.indexOf('--test');
  if (at >= 0) {
    const files = process.argv.slice(at + 1).map((f) => path.resolve(DIR, 'test', f));
    const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
    process.exit(r.status === null ? 1 : r.status);
  }
}

module.exports = { ensureDeps };
