// tools.js's wait for an install in progress: scripts/test.sh installs the VS Code tools in the
// background while the builds run, and the .vsix build must wait for that install, not fail.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');

function freshTools(t) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-tools-test-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dir = path.join(tmp, 'tools');
  process.env.PROJMODEL_TOOLS_DIR = dir;
  delete require.cache[require.resolve('../tools/tools')];
  return { dir, tools: require('../tools/tools') };
}

test('requireTools waits for an install that another process is running, then returns', (t) => {
  const { dir, tools } = freshTools(t);
  const stamp = fs.readFileSync(path.join(__dirname, '..', 'tools', 'package-lock.json'));
  const hash = require('crypto').createHash('sha256').update(stamp).digest('hex').slice(0, 12);
  // The "installer": alive for 1.5 s, then writes the stamp and exits, as ensureTools does.
  const child = spawn(process.execPath, ['-e',
    `setTimeout(() => { require('fs').mkdirSync(${JSON.stringify(dir)}, { recursive: true });
      require('fs').writeFileSync(${JSON.stringify(path.join(dir, '.installed'))}, ${JSON.stringify(hash)}); }, 1500)`],
  { stdio: 'ignore' });
  fs.writeFileSync(`${dir}.installing`, String(child.pid));
  const start = Date.now();
  const p = tools.requireTools();
  assert.strictEqual(p.dir, dir);
  assert.ok(Date.now() - start >= 1000, 'returned before the installer wrote its stamp');
  return new Promise((resolve) => child.on('exit', resolve));
});

test('requireTools fails at once when no install is running', (t) => {
  const { dir, tools } = freshTools(t);
  // A marker left by an installer that died: its pid is gone.
  const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  return new Promise((resolve) => dead.on('exit', resolve)).then(() => {
    fs.writeFileSync(`${dir}.installing`, String(dead.pid));
    const start = Date.now();
    assert.throws(() => tools.requireTools(), /the VS Code tools are not installed in/);
    assert.ok(Date.now() - start < 1000, 'waited for a dead installer');
  });
});
