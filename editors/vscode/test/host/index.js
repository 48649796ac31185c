// The extension's tests inside VS Code's extension host, with the real `vscode` API: loaded by
// code-server's bundled server as the extensionTestsPath beside the extension under development
// (test/host.test.js starts it). This file lies inside the extension's folder, so `vscode` here
// is the extension's own API object: wrapping its notification, quick pick and webview functions
// records what the extension shows (and still shows it). The workspace is a copy of
// examples/gn-monorepo whose root markers (.gn, .projmodel.json) the runner moved aside, so that
// VS Code does not activate the extension before these wrappers are in place: the first test puts
// them back and activates it. The projmodel daemon is the real one, started by the extension.
// Three sessions: a folder with no build system root (its markers stay aside: activation fails
// with an error notification), without rust-analyzer's settings (a warning at activation; every
// command works) and with the settings-only stand-in (test/rust-analyzer-settings) beside it
// (activation writes the discoverConfig). A report per session goes to $PM_HOST_REPORT_DIR.
'use strict';

const vscode = require('vscode');
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const EventEmitter = require('events');
const { execFile } = require('child_process');
const { discoverFinished } = require('../ra-discover');

const EXT_ID = 'projmodel.projmodel';
const STAND_IN_ID = 'projmodel-test.rust-analyzer-settings';
const WAIT_MS = 90000;
const PROJMODEL = process.env.PM_PROJMODEL;

const shown = []; // {kind, text}
const events = new EventEmitter();

// Wraps @ns[name] so that each call is recorded by @note, then runs the original.
function wrap(ns, name, note) {
  const original = ns[name];
  ns[name] = function wrapped(...args) {
    const result = original.apply(this, args);
    note(args, result);
    return result;
  };
}

function recordUi() {
  for (const kind of ['Information', 'Warning', 'Error']) {
    wrap(vscode.window, `show${kind}Message`, (args) => {
      shown.push({ kind, text: String(args[0]) });
      events.emit('shown');
    });
  }
  wrap(vscode.window, 'showQuickPick', (args) => events.emit('quickPick', { items: args[0], options: args[1] }));
  wrap(vscode.window, 'createWebviewPanel', (args, panel) => events.emit('webview', panel));
}

// Resolves with the first notification of @kind matching @re shown after index @from.
function waitShown(kind, re, from) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const hit = shown.slice(from).find((m) => m.kind === kind && re.test(m.text));
      if (!hit) return false;
      clearTimeout(timer);
      events.removeListener('shown', check);
      resolve(hit.text);
      return true;
    };
    const timer = setTimeout(() => {
      events.removeListener('shown', check);
      reject(new Error(`no ${kind} notification matching ${re}; shown: ${JSON.stringify(shown.slice(from))}`));
    }, WAIT_MS);
    if (!check()) events.on('shown', check);
  });
}

// Runs command @id and returns the first notification of @kind matching @re it shows.
async function commandShows(id, kind, re) {
  const from = shown.length;
  await vscode.commands.executeCommand(id);
  return waitShown(kind, re, from);
}

function nextEvent(name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} within ${WAIT_MS} ms`)), WAIT_MS);
    events.once(name, (v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

function projmodel(args) {
  return new Promise((resolve, reject) => {
    execFile(PROJMODEL, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${PROJMODEL} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const root = () => vscode.workspace.workspaceFolders[0].uri.fsPath;

// The daemon's status once it is idle (the extension started it), from the command line.
async function idleStatus() {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let st;
    try {
      st = JSON.parse(await projmodel(['status', '--root', root(), '--json']));
    } catch (e) {
      st = undefined; // not listening yet
    }
    if (st && st.state === 'idle' && st.lastRefresh && st.lastRefresh.ok) return st;
    if (Date.now() > deadline) throw new Error(`the daemon is not idle: ${JSON.stringify(st)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function open(rel) {
  const doc = await vscode.workspace.openTextDocument(path.join(root(), rel));
  return vscode.window.showTextDocument(doc);
}

// Resolves once the extension's diagnostics for @file satisfy @pred; returns them.
function waitDiagnostics(file, pred) {
  const uri = vscode.Uri.file(file);
  const get = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'projmodel');
  return new Promise((resolve, reject) => {
    let sub;
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`diagnostics of ${file} never matched: ${JSON.stringify(get())}`));
    }, WAIT_MS);
    const check = () => {
      const list = get();
      if (!pred(list)) return false;
      clearTimeout(timer);
      if (sub) sub.dispose();
      resolve(list);
      return true;
    };
    sub = vscode.languages.onDidChangeDiagnostics(check);
    check();
  });
}

function writeAtomic(file, text) {
  const tmp = path.join(path.dirname(file), '.pm-test.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// Puts back the root markers the runner moved aside, then activates the extension.
async function activate() {
  const stash = `${root()}.stash`;
  for (const f of fs.readdirSync(stash)) fs.renameSync(path.join(stash, f), path.join(root(), f));
  const ext = vscode.extensions.getExtension(EXT_ID);
  assert.ok(ext, `${EXT_ID} is loaded (loaded: ${vscode.extensions.all.filter((e) => !e.id.startsWith('vscode.')).map((e) => e.id).join(', ')})`);
  assert.strictEqual(ext.isActive, false, 'not activated before the test');
  await ext.activate();
  assert.strictEqual(ext.isActive, true);
  return ext;
}

// A folder with no build system root above it: activation fails with an error notification
// naming the folder (and the log), and a command then says why it cannot work.
const withoutRoot = [
  ['activation without a build system root is an error notification', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.strictEqual(ext.isActive, false, 'not activated before the test');
    await ext.activate();
    const text = await waitShown('Error', /activation failed/, 0);
    assert.strictEqual(text, `projmodel: activation failed: no build system root found above '${root()}'`);
  }],
  ['a command without a daemon is an error notification saying why', async () => {
    const text = await commandShows('projmodel.refresh', 'Error', /refreshing failed/);
    assert.match(text, /^projmodel: refreshing failed: not connected to the projmodel daemon/);
  }],
];

const withoutRustAnalyzer = [
  ['activation without rust-analyzer warns, writes nothing', async () => {
    await activate();
    const text = await waitShown('Warning', /rust-analyzer/, 0);
    assert.match(text, /^projmodel: rust-analyzer is not installed \(no extension registers rust-analyzer\.workspace\.discoverConfig\); the projmodel commands work/);
    assert.ok(!fs.existsSync(path.join(root(), '.vscode', 'settings.json')), 'no workspace settings written');
  }],
  ['every contributed command is registered', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
    const ids = pkg.contributes.commands.map((c) => c.command);
    assert.strictEqual(ids.length, 7);
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of ids) assert.ok(all.has(id), `${id} is registered`);
  }],
  ['status and refresh against the daemon the extension started', async () => {
    const st = await idleStatus();
    assert.ok(st.crates > 0);
    const status = await commandShows('projmodel.status', 'Information', /^projmodel: idle,/);
    assert.match(status, new RegExp(`^projmodel: idle, ${st.crates} crates, generation \\d+, last refresh ok$`));
    const refreshed = await commandShows('projmodel.refresh', 'Information', /^projmodel: generation/);
    assert.match(refreshed, new RegExp(`^projmodel: generation \\d+, ${st.crates} crates \\(\\d+ ms\\)$`));
  }],
  ['the crates of the current file, and picking one opens its build file', async () => {
    await open('lib/util/src/text.rs');
    const picked = nextEvent('quickPick');
    const done = vscode.commands.executeCommand('projmodel.crateForFile');
    const { items, options } = await picked;
    assert.strictEqual(options.title, 'Crates of lib/util/src/text.rs');
    assert.deepStrictEqual(items.map((i) => i.label), ['//lib/util:util']);
    assert.strictEqual(items[0].description, 'lib, edition 2018');
    assert.match(items[0].detail, /deps: \/\/third_party\/fnv:fnv/);
    assert.match(items[0].detail, new RegExp(`build file: ${path.join(root(), 'lib/util/BUILD.gn').replace(/[.]/g, '\\.')}`));
    // Accept the pick as Enter would; until the picker is on screen the command does nothing.
    let finished = false;
    done.then(() => {
      finished = true;
    });
    while (!finished) {
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    assert.strictEqual(vscode.window.activeTextEditor.document.uri.fsPath, path.join(root(), 'lib/util/BUILD.gn'));
  }],
  ['a crate\'s cfgs and renamed dependency, in the crates of its file', async () => {
    // //lib/engine sees //lib/util as `utils2` (aliased_deps) and has --cfg feature="extra".
    await open('lib/engine/src/job.rs');
    const before = vscode.window.activeTextEditor.document.uri.fsPath;
    const picked = nextEvent('quickPick');
    const done = vscode.commands.executeCommand('projmodel.crateForFile');
    const { items } = await picked;
    assert.deepStrictEqual(items.map((i) => i.label), ['//lib/engine:engine']);
    assert.strictEqual(items[0].description, 'lib, edition 2021');
    assert.match(items[0].detail, /^cfgs: (\S+ )*feature="extra"( |$)/);
    assert.match(items[0].detail, /deps: (.*, )?utils2 = \/\/lib\/util:util(,| ·)/);
    // Dismissed as Escape would: nothing opens.
    let finished = false;
    done.then(() => {
      finished = true;
    });
    while (!finished) {
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    assert.strictEqual(vscode.window.activeTextEditor.document.uri.fsPath, before);
  }],
  ['the crates of a file no crate owns', async () => {
    await open('README.md');
    const text = await commandShows('projmodel.crateForFile', 'Information', /^projmodel: no crate/);
    assert.strictEqual(text, 'projmodel: no crate owns README.md');
  }],
  ['the dependency graph of the current crate, in a webview', async () => {
    await open('lib/util/src/text.rs');
    const created = nextEvent('webview');
    await vscode.commands.executeCommand('projmodel.graph');
    const panel = await created;
    assert.strictEqual(panel.title, 'Crate graph: //lib/util:util');
    const html = panel.webview.html;
    assert.match(html, /<svg/);
    assert.match(html, /\/\/lib\/util:util/);
    assert.match(html, /\/\/third_party\/fnv:fnv/);
    assert.strictEqual(panel.webview.options.enableScripts, false);
  }],
  ['a failing command shows an error notification', async () => {
    await open('README.md');
    const text = await commandShows('projmodel.graph', 'Error', /dependency graph failed/);
    assert.match(text, /^projmodel: showing the dependency graph failed: .*README\.md/);
    const conf = await commandShows('projmodel.configure', 'Error', /configuring rust-analyzer failed/);
    assert.match(conf, /rust-analyzer is not installed .*: install the rust-analyzer extension first$/);
  }],
  ['export writes the daemon\'s model', async () => {
    const st = await idleStatus();
    const file = path.join(root(), 'rust-project.json');
    const text = await commandShows('projmodel.export', 'Information', /^projmodel: wrote/);
    assert.strictEqual(text, `projmodel: wrote ${st.crates} crates to ${file}`);
    assert.strictEqual(JSON.parse(fs.readFileSync(file, 'utf8')).crates.length, st.crates);
  }],
  ['a BUILD.gn syntax error is a diagnostic at GN\'s line, and refresh fails visibly', async () => {
    const file = path.join(root(), 'lib/util/BUILD.gn');
    const good = fs.readFileSync(file, 'utf8');
    const lines = good.split('\n');
    const at = lines.indexOf('    "src/lib.rs",');
    assert.ok(at >= 0);
    lines[at] = '    "src/lib.rs"';
    writeAtomic(file, lines.join('\n'));
    const diags = await waitDiagnostics(file, (l) => l.length > 0);
    assert.strictEqual(diags.length, 1);
    assert.strictEqual(diags[0].message, 'Expected comma between items.');
    assert.strictEqual(diags[0].range.start.line, at + 1); // GN names the next item's line
    assert.strictEqual(diags[0].range.start.character, 4);
    assert.strictEqual(diags[0].severity, vscode.DiagnosticSeverity.Error);
    const failed = await commandShows('projmodel.refresh', 'Error', /refreshing failed/);
    assert.match(failed, /^projmodel: refreshing failed: .*BUILD\.gn/);
    writeAtomic(file, good);
    await waitDiagnostics(file, (l) => l.length === 0);
    await idleStatus();
  }],
  ['restart names the new daemon', async () => {
    const before = await idleStatus();
    const text = await commandShows('projmodel.restart', 'Information', /^projmodel: daemon restarted/);
    const m = /^projmodel: daemon restarted \(pid (\d+), /.exec(text);
    assert.ok(m, text);
    assert.notStrictEqual(Number(m[1]), before.pid);
    assert.strictEqual((await idleStatus()).pid, Number(m[1]));
  }],
];

const withRustAnalyzer = [
  ['activation writes rust-analyzer\'s discoverConfig and clears linkedProjects', async () => {
    assert.ok(vscode.extensions.getExtension(STAND_IN_ID), 'the stand-in registers the settings');
    await activate();
    const text = await waitShown('Information', /rust-analyzer now discovers/, 0);
    assert.strictEqual(text, 'projmodel: rust-analyzer now discovers gn crates through projmodel');
    const ra = vscode.workspace.getConfiguration('rust-analyzer');
    assert.deepStrictEqual(ra.inspect('workspace.discoverConfig').workspaceValue,
      { command: [PROJMODEL, 'discover', '{arg}'], progressLabel: 'projmodel', filesToWatch: ['BUILD.gn', '.gn'] });
    assert.strictEqual(ra.inspect('linkedProjects').workspaceValue, undefined);
    const file = JSON.parse(fs.readFileSync(path.join(root(), '.vscode', 'settings.json'), 'utf8'));
    assert.deepStrictEqual(file['rust-analyzer.workspace.discoverConfig'].command, [PROJMODEL, 'discover', '{arg}']);
    assert.strictEqual(file['editor.tabSize'], 3, 'the other settings are kept');
    assert.ok(!shown.some((m) => m.kind !== 'Information'), JSON.stringify(shown));
  }],
  ['the discoverConfig runs as rust-analyzer runs it', async () => {
    const dc = vscode.workspace.getConfiguration('rust-analyzer').get('workspace.discoverConfig');
    const file = path.join(root(), 'lib/util/src/lib.rs');
    const finished = await discoverFinished(dc, { path: file }, { cwd: '/' });
    assert.strictEqual(finished.buildfile, path.join(root(), 'lib/util/BUILD.gn'));
    assert.ok(finished.project.crates.some((c) => c.root_module === file));
  }],
  ['configure again reports success', async () => {
    const text = await commandShows('projmodel.configure', 'Information', /now discovers/);
    assert.strictEqual(text, 'projmodel: rust-analyzer now discovers gn crates through projmodel');
  }],
];

async function runAll() {
  recordUi();
  const sessions = { 'without-root': withoutRoot, 'without-rust-analyzer': withoutRustAnalyzer, 'with-rust-analyzer': withRustAnalyzer };
  let session = vscode.extensions.getExtension(STAND_IN_ID) ? 'with-rust-analyzer' : 'without-rust-analyzer';
  if (fs.existsSync(path.join(root(), '.pm-test-without-root'))) session = 'without-root';
  const tests = sessions[session];
  const report = [];
  let failures = 0;
  for (const [name, fn] of tests) {
    const began = Date.now();
    try {
      await fn();
      report.push(`ok - ${name} (${Date.now() - began} ms)`);
    } catch (e) {
      failures++;
      report.push(`not ok - ${name}\n  ${String(e && e.stack ? e.stack : e).replace(/\n/g, '\n  ')}`);
      break; // the later tests build on the earlier ones
    }
  }
  report.push(`${session}: ${tests.length} tests, ${failures} failed`);
  if (process.env.PM_HOST_REPORT_DIR) fs.writeFileSync(path.join(process.env.PM_HOST_REPORT_DIR, `${session}.txt`), `${report.join('\n')}\n`);
  return failures;
}

// The extension host's test runner protocol: call back with the failure count.
function run(testsRoot, done) {
  runAll().then((failures) => done(null, failures), (e) => done(e));
}

module.exports = { run };
