// VS Code side of projmodel: writes rust-analyzer's discoverConfig for the workspace and offers
// status/refresh commands that talk to the daemon through the projmodel command.
'use strict';

const vscode = require('vscode');
const fs = require('fs');
const path = require('path');
const { execFile } = require('child_process');
const { detectBuildSystems, discoverConfig } = require('./discover');

function projmodelPath() {
  return vscode.workspace.getConfiguration('projmodel').get('path') || 'projmodel';
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

// Runs projmodel with argv (never a shell) in the workspace root.
function run(args) {
  return new Promise((resolve, reject) => {
    execFile(projmodelPath(), args, { cwd: workspaceRoot() }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr.trim() || err.message));
      else resolve(stdout);
    });
  });
}

async function configure() {
  const root = workspaceRoot();
  if (!root) return;
  const systems = detectBuildSystems(fs.readdirSync(root), readConfig(root));
  const ra = vscode.workspace.getConfiguration('rust-analyzer');
  await ra.update('workspace.discoverConfig', discoverConfig(projmodelPath(), systems),
    vscode.ConfigurationTarget.Workspace);
  // linkedProjects disables every discovered project (README.md, rust-analyzer): clear it.
  if ((ra.get('linkedProjects') || []).length > 0) {
    await ra.update('linkedProjects', undefined, vscode.ConfigurationTarget.Workspace);
  }
  vscode.window.showInformationMessage(`projmodel: rust-analyzer now discovers ${systems.join(', ')} crates through projmodel`);
}

function activate(context) {
  const out = vscode.window.createOutputChannel('projmodel');
  context.subscriptions.push(out);
  context.subscriptions.push(vscode.commands.registerCommand('projmodel.configure', configure));
  context.subscriptions.push(vscode.commands.registerCommand('projmodel.status', async () => {
    try {
      out.appendLine(await run(['status']));
      out.show(true);
    } catch (e) {
      vscode.window.showErrorMessage(`projmodel status: ${e.message}`);
    }
  }));
  context.subscriptions.push(vscode.commands.registerCommand('projmodel.refresh', async () => {
    try {
      await run(['query', 'projmodel/refresh']);
    } catch (e) {
      vscode.window.showErrorMessage(`projmodel refresh: ${e.message}`);
    }
  }));
  const ra = vscode.workspace.getConfiguration('rust-analyzer');
  if (!ra.get('workspace.discoverConfig')) configure();
}

function deactivate() {}

module.exports = { activate, deactivate };
