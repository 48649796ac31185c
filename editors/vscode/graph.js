// The dependency graph of a file's crates as a picture: the crates owning the file and their
// transitive dependencies from the daemon (projmodel/crateForFile, projmodel/deps), as DOT from
// `projmodel dump --format dot` on the daemon's model (docs/cli.md, dump), rendered to SVG by
// Graphviz's `dot`, and the HTML page a webview shows it in. No `vscode` import, so node tests
// it against the real daemon. Processes run with argv, never a shell.
'use strict';

const { spawn } = require('child_process');

// Runs @cmd @args with @input on stdin; resolves with stdout, rejects with a one-line error
// naming the command (and @hint when it cannot be run at all).
function runTool(cmd, args, { input, cwd, env, hint }) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    proc.stdout.on('data', (c) => out.push(c));
    proc.stderr.on('data', (c) => err.push(c));
    proc.once('error', (e) => {
      reject(new Error(e.code === 'ENOENT' ? `cannot run '${cmd}'${hint ? ` (${hint})` : ''}: ${e.message}` : `${cmd}: ${e.message}`));
    });
    proc.once('close', (code, signal) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      const why = Buffer.concat(err).toString('utf8').trim().split('\n')[0] || `exit ${code ?? signal}`;
      reject(new Error(`${cmd} ${args.slice(0, 1).join(' ')} failed: ${why}`));
    });
    proc.stdin.on('error', () => {}); // a tool that exits before reading: its exit says why
    proc.stdin.end(input || '');
  });
}

// The graph of the crates owning @file in @client's daemon (a connected DaemonClient):
// {labels (the owners), all (owners and their closure), dot (DOT text), svg (SVG text)}.
// options: projmodel (the executable), dot (Graphviz's dot), env.
async function crateGraph(client, file, options) {
  const { crates } = await client.request('projmodel/crateForFile', { path: file });
  if (crates.length === 0) throw new Error(`no crate owns '${file}'`);
  const all = [...crates];
  for (const label of crates) {
    const deps = await client.request('projmodel/deps', { label, transitive: true });
    for (const l of deps.labels) if (!all.includes(l)) all.push(l);
  }
  // The daemon's own model database (the default one is derived from the environment, which
  // may differ from the daemon's), never refreshed from here: the daemon keeps it current.
  const st = await client.request('projmodel/status');
  const args = ['dump', '--root', client.root, '--no-refresh'];
  if (st.database) args.push('--db', st.database);
  args.push('--format', 'dot', ...all);
  const env = options.env || process.env;
  const dot = await runTool(options.projmodel || 'projmodel', args, { cwd: client.root, env, hint: 'set projmodel.path' });
  const svg = await runTool(options.dot || 'dot', ['-Tsvg'], { input: dot, cwd: client.root, env, hint: 'install Graphviz or set projmodel.dotPath' });
  return { labels: crates, all, dot, svg };
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// The webview page for @svg (dot's output) titled @title. No script may run (the policy allows
// only inline styles); the SVG is inlined without dot's XML prolog and doctype.
function graphHtml(svg, title) {
  const at = svg.indexOf('<svg');
  if (at < 0) throw new Error('dot -Tsvg printed no <svg> element');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:;">',
    `<title>${escapeHtml(title)}</title>`,
    '<style>body { background: #fff; color: #000; margin: 8px; } svg { width: 100%; height: auto; }</style>',
    '</head><body>',
    `<h3 class="projmodel-graph-title">${escapeHtml(title)}</h3>`,
    svg.slice(at),
    '</body></html>',
  ].join('\n');
}

module.exports = { crateGraph, graphHtml, runTool };
