// Runs the extension's tests inside VS Code with the real `vscode` API (test/host/index.js):
// code-server's bundled server (lib/vscode/out/server-main.js, the pinned tools of
// tools/tools.js) with --enable-smoke-test-driver on 127.0.0.1, and Debian's Chromium
// (playwright-core, headless) opening a copy of examples/gn-monorepo with the extension's source
// folder as the extension under development and test/host as its tests; the page's
// codeAutomationExit receives the suite's exit code. Three sessions in one server: a folder with
// no build system root (activation fails visibly), without rust-analyzer, then with the
// settings-only stand-in (test/rust-analyzer-settings) as an extension installed before it. Each session's report is printed; the daemons the extension
// started are stopped at the end. No UI is driven here (test/e2e.test.js does that).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { requireTools, node24Env } = require('../tools/tools');
const { startListening, stopGroup, launchChromium, hostLogs } = require('./server-process');

const SOURCE_ROOT = process.env.PM_SOURCE_ROOT || path.resolve(__dirname, '../../..');
const BUILD_ROOT = process.env.PM_BUILD_ROOT || path.join(SOURCE_ROOT, 'build');
const PROJMODEL = path.resolve(process.env.PM_PROJMODEL || path.join(BUILD_ROOT, 'cli/projmodel'));
const CHROMIUM = process.env.PM_CHROMIUM || '/usr/bin/chromium';
const EXT_DIR = path.resolve(__dirname, '..');
// Generous: a loaded 2-core machine. Every wait is for an event, never a sleep.
const WAIT_MS = 180000;

// A copy of the GN example whose root markers wait in ROOT.stash until the suite activates.
function workspace(tmp, name, settings) {
  const repo = path.join(tmp, name);
  fs.cpSync(path.join(SOURCE_ROOT, 'examples', 'gn-monorepo'), repo, {
    recursive: true,
    filter: (src) => !/[/\\](out|rust-project\.json)$/.test(src),
  });
  fs.mkdirSync(`${repo}.stash`);
  for (const f of ['.gn', '.projmodel.json']) fs.renameSync(path.join(repo, f), path.join(`${repo}.stash`, f));
  if (settings) {
    fs.mkdirSync(path.join(repo, '.vscode'));
    fs.writeFileSync(path.join(repo, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  }
  return repo;
}

test('the extension\'s tests with the real vscode API (code-server\'s server, smoke test driver)', { timeout: 600000 }, async (t) => {
  const tools = requireTools();
  const { chromium } = require(tools.playwright);
  const serverMain = path.join(path.dirname(tools.codeServer), '..', '..', 'lib', 'vscode', 'out', 'server-main.js');
  assert.ok(fs.existsSync(serverMain), serverMain);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-host-'));
  const home = path.join(tmp, 'home');
  const serverData = path.join(tmp, 'server-data');
  const userData = path.join(tmp, 'user-data');
  const reports = path.join(tmp, 'reports');
  for (const d of [home, reports, path.join(userData, 'User'), path.join(serverData, 'data', 'Machine')]) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  const repos = {
    // Its root markers stay in the stash (the marker file tells the suite): no root to serve.
    'without-root': workspace(tmp, 'repo-0'),
    'without-rust-analyzer': workspace(tmp, 'repo-a'),
    'with-rust-analyzer': workspace(tmp, 'repo-b', { 'rust-analyzer.linkedProjects': ['other/rust-project.json'], 'editor.tabSize': 3 }),
  };
  const settings = JSON.stringify({ 'projmodel.path': PROJMODEL, 'workbench.startupEditor': 'none' }, null, 2);
  fs.writeFileSync(path.join(repos['without-root'], '.pm-test-without-root'), '');
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), settings);
  fs.writeFileSync(path.join(serverData, 'data', 'Machine', 'settings.json'), settings);
  // Private everything (the daemon's socket and model too); the extension host inherits it, so
  // the suite and the daemons it starts see the same XDG_RUNTIME_DIR.
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_RUNTIME_DIR: path.join(tmp, 'run'),
    XDG_CACHE_HOME: path.join(tmp, 'cache'),
    PM_PROJMODEL: PROJMODEL,
    PM_HOST_REPORT_DIR: reports,
  };

  let server;
  let browser;
  const began = Date.now();
  const mark = (name) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${name}`);
  t.after(async () => {
    try {
      if (browser) await browser.close();
      if (server) await stopGroup(server.proc);
      for (const repo of Object.values(repos)) {
        try {
          execFileSync(PROJMODEL, ['stop', '--root', repo], { env, stdio: 'ignore' });
        } catch (e) {
          // no daemon there (a session that failed early)
        }
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  try {
    const serverArgs = ['--user-data-dir', userData, '--server-data-dir', serverData, '--extensions-dir', path.join(tmp, 'extensions')];
    server = startListening(tools.node, [serverMain, '--host', '127.0.0.1', '--port', '0',
      '--without-connection-token', '--accept-server-license-terms', '--enable-smoke-test-driver',
      '--disable-workspace-trust', '--telemetry-level', 'off', ...serverArgs], env,
    /Extension host agent listening on (\d+)/, 'the server', WAIT_MS);
    const port = Number(await server.listening);
    mark('server listening');
    browser = await launchChromium(chromium, CHROMIUM);
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    for (const [session, repo] of Object.entries(repos)) {
      if (session === 'with-rust-analyzer') {
        // The stand-in, packed by the same vsce and installed by the server's CLI: the next
        // page's extension host has it (the payload names one extension under development).
        const stub = path.join(tmp, 'rust-analyzer-settings.vsix');
        execFileSync(tools.node, [tools.vsce, 'package', '--allow-missing-repository', '--skip-license', '--out', stub],
          { cwd: path.join(__dirname, 'rust-analyzer-settings'), env: node24Env(tools, env), stdio: ['ignore', 'pipe', 'pipe'] });
        execFileSync(tools.node, [serverMain, ...serverArgs, '--install-extension', stub], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        mark('stand-in installed');
      }
      const payload = [['extensionDevelopmentPath', remote(EXT_DIR)]];
      payload.push(['extensionTestsPath', remote(path.join(__dirname, 'host', 'index.js'))]);
      const page = await browser.newPage();
      const exitCode = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${session}: the tests did not end within ${WAIT_MS} ms`)), WAIT_MS);
        page.exposeFunction('codeAutomationExit', (code) => {
          clearTimeout(timer);
          resolve(code);
        }).catch(reject);
      });
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(repo)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
        { waitUntil: 'commit', timeout: WAIT_MS });
      const code = await exitCode;
      const reportFile = path.join(reports, `${session}.txt`);
      const report = fs.existsSync(reportFile) ? fs.readFileSync(reportFile, 'utf8') : '(no report)';
      for (const line of report.trimEnd().split('\n')) t.diagnostic(line);
      mark(`${session} done`);
      assert.strictEqual(code, 0, `${session}: the suite failed:\n${report}`);
      assert.match(report, new RegExp(`^${session}: \\d+ tests, 0 failed$`, 'm'));
      await page.close();
    }
  } catch (e) {
    e.message += `\n${hostLogs(serverData, 4000)}` + (server ? `\nserver output:\n${server.output().slice(-4000)}` : '');
    throw e;
  }
});
