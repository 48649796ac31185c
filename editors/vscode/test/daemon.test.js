// The extension's daemon client (daemon.js) against the real projmodel daemon and real GN, on a
// copy of examples/gn-monorepo: it starts the daemon, reports idle with the crate count, turns a
// BUILD.gn syntax error into a diagnostic at GN's file and line, and clears it once fixed;
// exports, restarts, draws a file's crate graph (graph.js: the real dump and Graphviz's dot), and
// reconnects by itself after `projmodel stop` and after the daemon is killed; and, with real
// bazel, a BUILD.bazel Bazel cannot load as a diagnostic at its line while the refresh is partial.
// A daemon systemd would start on the unit's socket (systemd-socket-activate does it the same
// way) is the one the client uses, starting none; a unit socket others can reach is refused.
// PM_PROJMODEL and PM_SOURCE_ROOT come from tests/meson.build.
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const { execFileSync, spawn } = require('child_process');
const { DaemonClient } = require('../daemon');
const { crateGraph, graphHtml } = require('../graph');
const { defaultSocket, unitSocket } = require('../socket-path');

const SOURCE_ROOT = process.env.PM_SOURCE_ROOT || path.resolve(__dirname, '../../..');
const PROJMODEL = process.env.PM_PROJMODEL || path.join(SOURCE_ROOT, 'build/cli/projmodel');
// Generous: a loaded 2-core machine; events are awaited, never timed.
const WAIT_MS = 120000;

// Resolves with the first value of @event satisfying @pred; @current is checked first.
function waitFor(client, event, pred, current) {
  return new Promise((resolve, reject) => {
    if (current !== undefined && pred(current)) {
      resolve(current);
      return;
    }
    const timer = setTimeout(() => {
      client.removeListener(event, on);
      reject(new Error(`no matching '${event}' within ${WAIT_MS} ms (state: ${JSON.stringify(client.state)})`));
    }, WAIT_MS);
    function on(value) {
      if (!pred(value)) return;
      clearTimeout(timer);
      client.removeListener(event, on);
      resolve(value);
    }
    client.on(event, on);
  });
}

const idle = (s) => s.state === 'idle';

// The daemon's log (XDG_CACHE_HOME/projmodel/*.log, docs/protocol.md), for a failure's message.
function daemonLog(cache) {
  const dir = path.join(cache, 'projmodel');
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('');
  } catch (e) {
    return `(no daemon log: ${e.message})`;
  }
}

// Runs @body; a failure carries the daemon's log.
async function withDaemonLog(cache, body) {
  try {
    await body();
  } catch (e) {
    e.message += `\ndaemon log:\n${daemonLog(cache)}`;
    throw e;
  }
}

// Replaces @file at once (a rename), so the daemon never reads it half-written.
function writeAtomic(file, text) {
  const tmp = path.join(path.dirname(file), '.pm-test.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

test('daemon client against the real daemon on a GN monorepo', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(SOURCE_ROOT, 'examples', 'gn-monorepo'), repo, {
    recursive: true,
    filter: (src) => !/[/\\]out$/.test(src),
  });
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  // A private socket directory and model cache: nothing shared with the user's daemons.
  const env = { ...process.env, XDG_RUNTIME_DIR: path.join(tmp, 'run'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const logs = [];
  const client = new DaemonClient({ start: path.join(repo, 'lib', 'util', 'src', 'lib.rs'), projmodel: PROJMODEL, env });
  client.on('log', (line) => logs.push(line));
  t.after(async () => {
    try {
      await client.stopDaemon();
    } finally {
      t.diagnostic(`client log: ${logs.join(' | ')}`);
      client.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  await withDaemonLog(env.XDG_CACHE_HOME, async () => {
    assert.strictEqual(client.root, repo);
    await client.start();
    let state = await waitFor(client, 'state', idle, client.state);
    assert.ok(state.crates > 0, `idle with a crate count: ${JSON.stringify(state)}`);
    assert.match(state.message, /^\d+ crates$/);

    // The socket the client derived is the one the daemon says it listens on (same hash as C).
    const status = await client.request('projmodel/status');
    assert.strictEqual(status.socket, client.socket);
    assert.strictEqual(status.socket, defaultSocket(repo, env));
    assert.strictEqual(status.root, repo);

    const owners = await client.request('projmodel/crateForFile', { path: path.join(repo, 'lib', 'util', 'src', 'text.rs') });
    assert.deepStrictEqual(owners.crates, ['//lib/util:util']);

    // A missing comma in a list: GN names the next item's line ("Expected comma between items").
    const buildFile = path.join(repo, 'lib', 'util', 'BUILD.gn');
    const good = fs.readFileSync(buildFile, 'utf8');
    const lines = good.split('\n');
    const at = lines.indexOf('    "src/lib.rs",');
    assert.ok(at >= 0, 'the example lists src/lib.rs in sources');
    lines[at] = '    "src/lib.rs"';
    const failed = waitFor(client, 'diagnostics', (d) => d.length > 0);
    const errorState = waitFor(client, 'state', (s) => s.state === 'error');
    writeAtomic(buildFile, lines.join('\n'));
    const diags = await failed;
    assert.deepStrictEqual(diags, [{ file: buildFile, line: at + 2, col: 5, message: 'Expected comma between items.' }]);
    assert.match((await errorState).message, /ERROR at \/\/lib\/util\/BUILD\.gn/);

    // Fixed: the refresh succeeds (the model is as before, so only the status says so).
    const cleared = waitFor(client, 'diagnostics', (d) => d.length === 0);
    writeAtomic(buildFile, good);
    await cleared;
    await waitFor(client, 'state', (s) => idle(s) && s.crates === status.crates, client.state);

    // Export from the daemon's model.
    const out = path.join(repo, 'rust-project.json');
    const n = await client.exportProject(out);
    assert.strictEqual(n, status.crates);
    assert.strictEqual(JSON.parse(fs.readFileSync(out, 'utf8')).crates.length, status.crates);

    // Restart: the daemon stops (a new pid) and the client is idle again.
    await client.restart();
    await waitFor(client, 'state', idle, client.state);
    const after = await client.request('projmodel/status');
    assert.notStrictEqual(after.pid, status.pid);
    assert.strictEqual(after.crates, status.crates);

    // The graph of text.rs's crate and its closure: DOT from the daemon's model, SVG from dot.
    const text = path.join(repo, 'lib', 'util', 'src', 'text.rs');
    const g = await crateGraph(client, text, { projmodel: PROJMODEL, env });
    assert.deepStrictEqual(g.labels, ['//lib/util:util']);
    assert.deepStrictEqual(g.all, ['//lib/util:util', '//third_party/fnv:fnv', '//third_party/itoa_lite:itoa_lite']);
    assert.match(g.dot, /^digraph projmodel \{/);
    assert.match(g.dot, /"\/\/lib\/util:util" -> "\/\/third_party\/fnv:fnv";/);
    assert.match(g.svg, /<svg [^>]*>/);
    assert.match(g.svg, /<text [^>]*>\/\/lib\/util:util<\/text>/);
    const html = graphHtml(g.svg, 'Crate graph: //lib/util:util');
    assert.ok(!html.includes('<?xml') && !html.includes('<!DOCTYPE svg'), 'no XML prolog inside the page');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
    await assert.rejects(crateGraph(client, text, { projmodel: PROJMODEL, dot: path.join(tmp, 'no-dot'), env }),
      /cannot run '.*no-dot' \(install Graphviz or set projmodel\.dotPath\)/);
    await assert.rejects(crateGraph(client, path.join(repo, 'BUILD.gn'), { projmodel: PROJMODEL, env }), /no crate owns/);

    // `projmodel stop`: the client says the daemon stopped, then starts a new one and is idle.
    const seen = [];
    client.on('state', (s) => seen.push(s.state));
    let back = waitFor(client, 'reconnected', () => true);
    execFileSync(PROJMODEL, ['stop', '--root', repo], { env });
    await back;
    await waitFor(client, 'state', idle, client.state);
    const third = await client.request('projmodel/status');
    assert.notStrictEqual(third.pid, after.pid);
    assert.strictEqual(third.crates, status.crates);
    assert.strictEqual(seen[0], 'disconnected', `states: ${seen}`);
    assert.ok(logs.includes('the daemon closed the connection'), logs.join(' | '));

    // Killed: the same, with the socket file left behind.
    seen.length = 0;
    back = waitFor(client, 'reconnected', () => true);
    process.kill(third.pid, 'SIGKILL');
    await back;
    await waitFor(client, 'state', idle, client.state);
    const fourth = await client.request('projmodel/status');
    assert.notStrictEqual(fourth.pid, third.pid);
    assert.strictEqual(fourth.crates, status.crates);
    assert.strictEqual(seen[0], 'disconnected', `states: ${seen}`);
  });
});

test('a Cargo.toml syntax error on a Cargo root, with real cargo', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-'));
  const repo = path.join(tmp, 'cg');
  fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  const manifest = path.join(repo, 'Cargo.toml');
  const good = '[package]\nname = "cg"\nversion = "0.1.0"\nedition = "2021"\n';
  fs.writeFileSync(manifest, good);
  fs.writeFileSync(path.join(repo, 'src', 'lib.rs'), '');
  const env = { ...process.env, XDG_RUNTIME_DIR: path.join(tmp, 'run'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const client = new DaemonClient({ start: repo, projmodel: PROJMODEL, env });
  t.after(async () => {
    try {
      await client.stopDaemon();
    } finally {
      client.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
  await withDaemonLog(env.XDG_CACHE_HOME, async () => {
    await client.start();
    await waitFor(client, 'state', (s) => idle(s) && s.crates === 1, client.state);

    const failed = waitFor(client, 'diagnostics', (d) => d.length > 0);
    writeAtomic(manifest, `${good}[dependencies\n`);
    assert.deepStrictEqual(await failed, [{ file: manifest, line: 5, col: 14, message: 'unclosed table, expected `]`' }]);
    const cleared = waitFor(client, 'diagnostics', (d) => d.length === 0);
    writeAtomic(manifest, good);
    await cleared;
    await waitFor(client, 'state', (s) => idle(s) && s.crates === 1, client.state);
  });
});

test('a GN monorepo broken from the start: error with its diagnostic, then idle once fixed', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(SOURCE_ROOT, 'examples', 'gn-monorepo'), repo, {
    recursive: true,
    filter: (src) => !/[/\\]out$/.test(src),
  });
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  const env = { ...process.env, XDG_RUNTIME_DIR: path.join(tmp, 'run'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const buildFile = path.join(repo, 'lib', 'util', 'BUILD.gn');
  const good = fs.readFileSync(buildFile, 'utf8');
  const lines = good.split('\n');
  const at = lines.indexOf('    "src/lib.rs",');
  lines[at] = '    "src/lib.rs"';
  fs.writeFileSync(buildFile, lines.join('\n'));
  const client = new DaemonClient({ root: repo, projmodel: PROJMODEL, env });
  t.after(async () => {
    try {
      await client.stopDaemon();
    } finally {
      client.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
  await withDaemonLog(env.XDG_CACHE_HOME, async () => {
    const failed = waitFor(client, 'diagnostics', (d) => d.length > 0);
    await client.start();
    // No model at all: the daemon's state is "starting", the client's is the error.
    await waitFor(client, 'state', (s) => s.state === 'error', client.state);
    assert.deepStrictEqual(await failed, [{ file: buildFile, line: at + 2, col: 5, message: 'Expected comma between items.' }]);
    // Asked again (as after every refresh's end), the status still gives the error.
    const st = await client.syncStatus();
    assert.strictEqual(st.haveModel, false);
    assert.strictEqual(client.state.state, 'error');
    assert.strictEqual(client.diagnostics.length, 1);
    const cleared = waitFor(client, 'diagnostics', (d) => d.length === 0);
    writeAtomic(buildFile, good);
    await cleared;
    await waitFor(client, 'state', (s) => idle(s) && s.crates > 0, client.state);
  });
});

// Bazel runs with --keep_going: a BUILD.bazel it cannot load leaves the refresh partial (the
// package's crates kept as they were), and the adapter's warning names Bazel's file, line and
// column. The client turns that warning into the same diagnostic as a failed refresh's error.
test('a BUILD.bazel syntax error on a Bazel root: a diagnostic at Bazel\'s line while the crates stay, with real bazel', { timeout: 600000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-bazel-'));
  const repo = path.join(tmp, 'repo');
  const example = path.join(SOURCE_ROOT, 'examples', 'bazel-monorepo');
  fs.cpSync(example, repo, {
    recursive: true,
    filter: (src) => !/^(bazel-.*|rust-project\.json)$/.test(path.relative(example, src)),
  });
  // Its own output base, so that the Bazel server it starts is shut down here.
  const outputBase = path.join(tmp, 'output-base');
  const config = JSON.parse(fs.readFileSync(path.join(repo, '.projmodel.json'), 'utf8'));
  config.bazel.output_base = outputBase;
  fs.writeFileSync(path.join(repo, '.projmodel.json'), JSON.stringify(config));
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  const env = { ...process.env, XDG_RUNTIME_DIR: path.join(tmp, 'run'), XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const client = new DaemonClient({ root: repo, projmodel: PROJMODEL, env });
  t.after(async () => {
    try {
      await client.stopDaemon();
    } finally {
      client.dispose();
      try {
        execFileSync('bazel', [`--output_base=${outputBase}`, 'shutdown'], { cwd: repo, stdio: 'ignore' });
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    }
  });
  await withDaemonLog(env.XDG_CACHE_HOME, async () => {
    await client.start();
    const state = await waitFor(client, 'state', idle, client.state);
    assert.ok(state.crates > 0);
    assert.deepStrictEqual(client.diagnostics, []);

    // A missing comma: Bazel names the next attribute's line and column.
    const buildFile = path.join(repo, 'lib', 'config', 'BUILD.bazel');
    const good = fs.readFileSync(buildFile, 'utf8');
    const lines = good.split('\n');
    const at = lines.indexOf('    crate_features = ["json"],');
    assert.ok(at >= 0, 'the example sets crate_features');
    assert.match(lines[at + 1], /^ {4}edition = /);
    lines[at] = '    crate_features = ["json"]';
    const failed = waitFor(client, 'diagnostics', (d) => d.length > 0);
    writeAtomic(buildFile, lines.join('\n'));
    assert.deepStrictEqual(await failed, [{ file: buildFile, line: at + 2, col: 5, message: "syntax error at 'edition': expected ," }]);
    // Partial, not failed: idle, the crates (the broken package's too) as they were.
    assert.strictEqual(client.state.state, 'idle');
    assert.strictEqual(client.state.crates, state.crates);
    const owners = await client.request('projmodel/crateForFile', { path: path.join(repo, 'lib', 'config', 'src', 'lib.rs') });
    assert.strictEqual(owners.crates.length, 1);

    const cleared = waitFor(client, 'diagnostics', (d) => d.length === 0);
    writeAtomic(buildFile, good);
    await cleared;
    assert.strictEqual(client.state.state, 'idle');
  });
});

// A Cargo root at @repo whose one crate is "cg": quick to model, a name with a space, a dash and
// a two-byte character, which the unit's socket name escapes.
function cargoRoot(repo) {
  fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
  fs.writeFileSync(path.join(repo, 'Cargo.toml'), '[package]\nname = "cg"\nversion = "0.1.0"\nedition = "2021"\n');
  fs.writeFileSync(path.join(repo, 'src', 'lib.rs'), '');
}

// Stops any daemon a failing client started on the default socket.
function stopDefault(repo, env) {
  try {
    execFileSync(PROJMODEL, ['--root', repo, 'stop', '--socket', defaultSocket(repo, env)], { env, stdio: 'ignore' });
  } catch (e) {
    // none ran
  }
}

// docs/protocol.md, "systemd socket activation": systemd-socket-activate listens on the unit's
// socket and, at the first connection, execs the daemon with it as fd 3, as systemd does for
// projmodel@.socket (so the daemon's pid is the one spawned here).
test('a daemon socket-activated on the unit socket: the client connects to it and starts none', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-'));
  const repo = path.join(tmp, 'cg r\u00fc-1');
  cargoRoot(repo);
  const run = path.join(tmp, 'run');
  const sockDir = path.join(run, 'projmodel');
  fs.mkdirSync(sockDir, { recursive: true });
  fs.chmodSync(run, 0o700);
  fs.chmodSync(sockDir, 0o700);
  const env = { ...process.env, XDG_RUNTIME_DIR: run, XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const inst = execFileSync('systemd-escape', ['--path', repo], { encoding: 'utf8' }).trim();
  const sock = path.join(sockDir, `${inst}.sock`);
  assert.strictEqual(unitSocket(repo, env), sock);

  // It passes the daemon no environment but what -E names (as a user unit gets the user
  // manager's): the private cache and runtime directories, and PATH and HOME for cargo.
  const pass = ['XDG_RUNTIME_DIR', 'XDG_CACHE_HOME', 'PATH', 'HOME'].flatMap((v) => ['-E', v]);
  const unit = spawn('systemd-socket-activate', ['-l', sock, ...pass, PROJMODEL, '--root', repo, 'serve', '--foreground', '--socket', sock],
    { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let unitOutput = '';
  const unitExit = new Promise((resolve) => unit.once('exit', resolve));
  // It says so once the socket listens (naming it C-escaped, so only the line's form is matched).
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`systemd-socket-activate did not listen within ${WAIT_MS} ms: ${unitOutput}`)), WAIT_MS);
    unit.stderr.on('data', (chunk) => {
      unitOutput += chunk;
      if (/^Listening on .* as 3\.$/m.test(unitOutput)) {
        clearTimeout(timer);
        resolve();
      }
    });
    unit.once('error', reject);
    unit.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`systemd-socket-activate exited (${code ?? sig}): ${unitOutput}`));
    });
  });
  const logs = [];
  const client = new DaemonClient({ root: repo, projmodel: PROJMODEL, env });
  client.on('log', (line) => logs.push(line));
  t.after(async () => {
    try {
      await client.stopDaemon();
    } finally {
      t.diagnostic(`client log: ${logs.join(' | ')}; systemd-socket-activate: ${unitOutput}`);
      client.dispose();
      stopDefault(repo, env);
      if (unit.exitCode === null && unit.signalCode === null) unit.kill('SIGKILL');
      await unitExit;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  await withDaemonLog(env.XDG_CACHE_HOME, async () => {
    await listening;
    await client.start();
    await waitFor(client, 'state', (s) => idle(s) && s.crates === 1, client.state);
    const status = await client.request('projmodel/status');
    assert.strictEqual(status.pid, unit.pid, 'the daemon systemd-socket-activate started answers');
    assert.strictEqual(status.socket, sock);
    assert.strictEqual(client.socket, sock);
    assert.ok(logs.includes(`connected to ${sock}`), logs.join(' | '));
    assert.ok(!logs.some((l) => l.startsWith('starting:')), `no projmodel serve: ${logs.join(' | ')}`);
    // No default socket: nothing started beside the unit's daemon.
    assert.ok(!fs.existsSync(defaultSocket(repo, env)));
    assert.deepStrictEqual(fs.readdirSync(sockDir).filter((f) => f.endsWith('.sock')), [`${inst}.sock`]);
    assert.ok(fs.readdirSync(path.join(env.XDG_CACHE_HOME, 'projmodel')).some((f) => f.endsWith('.db')), 'the unit daemon\'s model is in the private cache');
  });
});

// As the command does (cli/client.c pm__cli_unit_connect): a unit socket in a directory others
// may enter, or reached through a symlink, fails with EPERM, and no daemon is started beside it.
test('a unit socket that is not the user\'s alone: EPERM and no daemon started', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-'));
  const repo = path.join(tmp, 'cg');
  cargoRoot(repo);
  const run = path.join(tmp, 'run');
  fs.mkdirSync(run, { mode: 0o700 });
  const env = { ...process.env, XDG_RUNTIME_DIR: run, XDG_CACHE_HOME: path.join(tmp, 'cache') };
  const sock = unitSocket(repo, env);
  // A listener that hangs up at once: only the checks may keep the client from it.
  const other = path.join(tmp, 'other');
  fs.mkdirSync(other, { mode: 0o700 });
  const server = net.createServer((c) => c.destroy());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path.join(other, path.basename(sock)), resolve);
  });
  t.after(() => {
    server.close();
    stopDefault(repo, env);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const attempt = async (what, pattern) => {
    const logs = [];
    const client = new DaemonClient({ root: repo, projmodel: PROJMODEL, env, reconnect: false });
    client.on('log', (line) => logs.push(line));
    try {
      await assert.rejects(client.start(), (e) => e.code === 'EPERM' && pattern.test(e.message), what);
    } finally {
      client.dispose();
    }
    assert.ok(!logs.some((l) => l.startsWith('starting:')), `${what}: no projmodel serve: ${logs.join(' | ')}`);
    assert.ok(!fs.existsSync(defaultSocket(repo, env)), `${what}: no default socket`);
  };

  // The unit's directory a symlink to a directory of ours with mode 0700.
  fs.symlinkSync(other, path.join(run, 'projmodel'));
  await attempt('symlinked directory', /^socket directory '.*' \(uid \d+, mode 777\) is not a directory of uid \d+ with mode 0700$/);
  // The directory itself, but group members may enter it.
  fs.unlinkSync(path.join(run, 'projmodel'));
  fs.renameSync(other, path.join(run, 'projmodel'));
  fs.chmodSync(path.join(run, 'projmodel'), 0o750);
  await attempt('mode 0750', /^socket directory '.*' \(uid \d+, mode 750\) is not a directory of uid \d+ with mode 0700$/);
});
