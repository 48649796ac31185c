// VS Code side of projmodel: writes rust-analyzer's discoverConfig for the workspace, and shows
// the daemon (daemon.js, over its socket) in a status bar item, build file errors in the
// Problems panel, and commands for crates, the dependency graph (graph.js, in a webview),
// refresh, restart and export. Every failure shows a notification and goes to the "projmodel"
// output channel; without rust-analyzer (its settings unregistered) the commands still work.
'use strict';

const vscode = require('vscode');
const fs = require('fs');
const path = require('path');
const { detectBuildSystems, discoverConfig } = require('./discover');
const { DaemonClient, errorText } = require('./daemon');
const { crateGraph, graphHtml } = require('./graph');
const { findRoot } = require('./socket-path');

let out;
let client;
let statusItem;
let diagnostics;
let graphPanel;

const DISCOVER_SETTING = 'rust-analyzer.workspace.discoverConfig';

function projmodelPath() {
  return vscode.workspace.getConfiguration('projmodel').get('path') || 'projmodel';
}

function dotPath() {
  return vscode.workspace.getConfiguration('projmodel').get('dotPath') || 'dot';
}

function workspaceRoot() {
  const folders = vscode.workspace.workspaceFolders;
  return folders && folders.length > 0 ? folders[0].uri.fsPath : undefined;
}

function readConfig(root) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, '.projmodel.json'), 'utf8'));
  } catch (e) {
    return undefined;
  }
}

function log(line) {
  if (out) out.appendLine(`[${new Date().toISOString()}] ${line}`);
}

// A failure of @what: logged with its stack, and shown to the user in one line.
function fail(what, e) {
  const text = `projmodel: ${what} failed: ${errorText(e)}`;
  log(text);
  if (e && e.stack) log(e.stack);
  vscode.window.showErrorMessage(text, 'Show log').then((pick) => {
    if (pick) out.show(true);
  });
}

// Registers @id so that any failure reaches the user (fail above).
function command(context, id, what, fn) {
  context.subscriptions.push(vscode.commands.registerCommand(id, async (...args) => {
    try {
      return await fn(...args);
    } catch (e) {
      fail(what, e);
      return undefined;
    }
  }));
}

function requireClient() {
  if (!client || !client.conn) throw new Error('not connected to the projmodel daemon (try "projmodel: Restart the daemon")');
  return client;
}

// True when an installed extension (rust-analyzer) declares @key: VS Code refuses to write a
// setting nobody registered ("... is not a registered configuration").
function settingRegistered(key) {
  return vscode.extensions.all.some((ext) => {
    const conf = ext.packageJSON && ext.packageJSON.contributes && ext.packageJSON.contributes.configuration;
    const list = Array.isArray(conf) ? conf : conf ? [conf] : [];
    return list.some((c) => c && c.properties && Object.prototype.hasOwnProperty.call(c.properties, key));
  });
}

const NO_RUST_ANALYZER = `rust-analyzer is not installed (no extension registers ${DISCOVER_SETTING})`;

async function configure() {
  const root = workspaceRoot();
  if (!root) throw new Error('no workspace folder is open');
  if (!settingRegistered(DISCOVER_SETTING)) throw new Error(`${NO_RUST_ANALYZER}: install the rust-analyzer extension first`);
  const systems = detectBuildSystems(fs.readdirSync(root), readConfig(root));
  const ra = vscode.workspace.getConfiguration('rust-analyzer');
  await ra.update('workspace.discoverConfig', discoverConfig(projmodelPath(), systems),
    vscode.ConfigurationTarget.Workspace);
  // linkedProjects disables every discovered project (README.md, rust-analyzer): clear it.
  if ((ra.get('linkedProjects') || []).length > 0) {
    await ra.update('linkedProjects', undefined, vscode.ConfigurationTarget.Workspace);
  }
  const text = `projmodel: rust-analyzer now discovers ${systems.join(', ') || 'no'} crates through projmodel`;
  log(text);
  vscode.window.showInformationMessage(text);
}

function showState(s) {
  const icons = { starting: '$(loading~spin)', refreshing: '$(sync~spin)', idle: '$(check)', error: '$(error)', disconnected: '$(debug-disconnect)' };
  const shorts = { idle: `${s.crates} crates`, error: 'error', disconnected: 'daemon stopped, restarting' };
  const short = shorts[s.state] || s.message;
  statusItem.text = `${icons[s.state] || ''} projmodel: ${short}`;
  statusItem.tooltip = `projmodel (${s.state}): ${s.message}\nClick for the daemon status`;
  statusItem.backgroundColor = s.state === 'error' || s.state === 'disconnected' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  statusItem.show();
}

function showDiagnostics(list) {
  diagnostics.clear();
  const byFile = new Map();
  for (const d of list) {
    const line = Math.max(0, d.line - 1);
    const col = Math.max(0, d.col - 1);
    const diag = new vscode.Diagnostic(new vscode.Range(line, col, line, col + 1), d.message, vscode.DiagnosticSeverity.Error);
    diag.source = 'projmodel';
    if (!byFile.has(d.file)) byFile.set(d.file, []);
    byFile.get(d.file).push(diag);
  }
  for (const [file, diags] of byFile) diagnostics.set(vscode.Uri.file(file), diags);
}

async function showStatus() {
  const st = await requireClient().request('projmodel/status');
  out.appendLine(JSON.stringify(st, null, 2));
  out.show(true);
  const last = st.lastRefresh ? (st.lastRefresh.ok ? 'last refresh ok' : `last refresh failed: ${st.lastError}`) : 'no refresh yet';
  vscode.window.showInformationMessage(`projmodel: ${st.state}, ${st.crates} crates, generation ${st.generation}, ${last}`);
}

// A crate as a quick pick item: what rust-analyzer is told about it (docs/protocol.md,
// projmodel/crate).
function crateItem(c) {
  const deps = (c.deps || []).map((d) => (d.name ? `${d.name} = ${d.label}` : d.label));
  return {
    label: c.label,
    description: `${c.kind}, edition ${c.edition}${c.target ? `, ${c.target}` : ''}`,
    detail: [
      `cfgs: ${(c.cfgs || []).join(' ') || 'none'}`,
      `deps: ${deps.join(', ') || 'none'}`,
      `build file: ${c.buildFile || 'none'}`,
    ].join(' · '),
    crate: c,
  };
}

async function showCrates() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') throw new Error('no file is open in the editor');
  const file = editor.document.uri.fsPath;
  const c = requireClient();
  const { crates } = await c.request('projmodel/crateForFile', { path: file });
  if (crates.length === 0) {
    vscode.window.showInformationMessage(`projmodel: no crate owns ${vscode.workspace.asRelativePath(file)}`);
    return;
  }
  const items = [];
  for (const label of crates) items.push(crateItem(await c.request('projmodel/crate', { label })));
  for (const it of items) log(`${it.label}: ${it.description}; ${it.detail}`);
  const pick = await vscode.window.showQuickPick(items, {
    title: `Crates of ${vscode.workspace.asRelativePath(file)}`,
    placeHolder: 'Pick a crate to open its build file',
    matchOnDetail: true,
  });
  if (pick && pick.crate.buildFile) {
    await vscode.window.showTextDocument(vscode.Uri.file(pick.crate.buildFile));
  }
}

// The current file's crates and their dependencies as a picture, in one reused webview.
async function showGraph() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') throw new Error('no file is open in the editor');
  const file = editor.document.uri.fsPath;
  const g = await crateGraph(requireClient(), file, { projmodel: projmodelPath(), dot: dotPath() });
  const title = `Crate graph: ${g.labels.join(', ')}`;
  log(`graph of ${g.labels.join(', ')}: ${g.all.length} crates`);
  if (!graphPanel) {
    graphPanel = vscode.window.createWebviewPanel('projmodel.graph', title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: false, enableFindWidget: true });
    graphPanel.onDidDispose(() => {
      graphPanel = undefined;
    });
  }
  graphPanel.title = title;
  graphPanel.webview.html = graphHtml(g.svg, title);
  graphPanel.reveal(undefined, true);
}

async function refresh() {
  const res = await requireClient().request('projmodel/refresh');
  vscode.window.showInformationMessage(`projmodel: generation ${res.generation}, ${res.crates} crates (${res.durationMs} ms)`);
}

async function restart() {
  if (!client) throw new Error('no monorepo root in this workspace');
  if (client.conn) await client.restart();
  else await client.start();
  vscode.window.showInformationMessage(`projmodel: daemon restarted (pid ${client.pid}, ${client.state.message})`);
}

async function exportProject() {
  const c = requireClient();
  const file = path.join(c.root, 'rust-project.json');
  const n = await c.exportProject(file);
  log(`exported ${n} crates to ${file}`);
  vscode.window.showInformationMessage(`projmodel: wrote ${n} crates to ${file}`);
}

function startClient(root) {
  client = new DaemonClient({ root, projmodel: projmodelPath() });
  client.on('log', log);
  client.on('state', showState);
  client.on('diagnostics', showDiagnostics);
  client.on('reconnected', (s) => log(`daemon back: ${s.state}, ${s.message}`));
  showState(client.state);
  client.start().catch((e) => {
    showState({ state: 'error', message: errorText(e) });
    fail('connecting to the daemon', e);
  });
}

function activate(context) {
  out = vscode.window.createOutputChannel('projmodel');
  diagnostics = vscode.languages.createDiagnosticCollection('projmodel');
  statusItem = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  statusItem.command = 'projmodel.status';
  context.subscriptions.push(out, diagnostics, statusItem, { dispose: () => client && client.dispose() });

  command(context, 'projmodel.configure', 'configuring rust-analyzer', configure);
  command(context, 'projmodel.status', 'showing the daemon status', showStatus);
  command(context, 'projmodel.crateForFile', 'showing the crates of the file', showCrates);
  command(context, 'projmodel.graph', 'showing the dependency graph', showGraph);
  command(context, 'projmodel.refresh', 'refreshing', refresh);
  command(context, 'projmodel.restart', 'restarting the daemon', restart);
  command(context, 'projmodel.export', 'exporting rust-project.json', exportProject);

  try {
    const folder = workspaceRoot();
    const root = folder && findRoot(folder);
    if (!root) throw new Error(`no build system root found above '${folder}'`);
    log(`monorepo root: ${root}`);
    startClient(root);
    configureOnce(context);
  } catch (e) {
    fail('activation', e);
  }
}

// Writes the discoverConfig unless the workspace has one. Without rust-analyzer it says so
// (a warning and the log: the other commands work) and waits for an extension that registers
// the setting to be installed.
function configureOnce(context) {
  const go = () => {
    if (vscode.workspace.getConfiguration('rust-analyzer').get('workspace.discoverConfig')) return;
    configure().catch((e) => fail('configuring rust-analyzer', e));
  };
  if (settingRegistered(DISCOVER_SETTING)) {
    go();
    return;
  }
  const text = `projmodel: ${NO_RUST_ANALYZER}; the projmodel commands work, and rust-analyzer will be configured once it is installed`;
  log(text);
  vscode.window.showWarningMessage(text, 'Show log').then((pick) => {
    if (pick) out.show(true);
  });
  const watch = vscode.extensions.onDidChange(() => {
    if (!settingRegistered(DISCOVER_SETTING)) return;
    log('rust-analyzer\'s settings are registered now');
    watch.dispose();
    go();
  });
  context.subscriptions.push(watch);
}

function deactivate() {
  // The daemon is shared with other clients (rust-analyzer's discover): only disconnect.
  if (client) client.dispose();
}

module.exports = { activate, deactivate };
