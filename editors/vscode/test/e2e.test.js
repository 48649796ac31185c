// The extension end to end in real VS Code: code-server (the pinned tools, tools/tools.js) on
// 127.0.0.1 with a private user-data and extensions directory, the extension installed from the
// .vsix the build made (PM_VSIX), a copy of examples/gn-monorepo opened, the real projmodel
// daemon (PM_PROJMODEL) behind it, and Debian's Chromium driven headless by playwright-core. It
// asserts the status bar's crate count against the daemon's; without rust-analyzer, a warning
// and the output channel's line while the commands work; once a stand-in registering
// rust-analyzer's settings is installed, the discoverConfig written for rust-analyzer (and runs
// that command line as rust-analyzer would: test/ra-discover.js); the commands from the command palette (refresh,
// the dependency graph webview's SVG, the crates of the current file, export, restart) and the
// status from a click on the status bar item; the status bar through `projmodel stop` and the
// extension's own restart of the daemon; the status bar's transient states, held open at gates
// (below): "starting" while the extension's `projmodel serve` waits, "refreshing" with the
// daemon's `$/progress` text while gn waits; a failing command's error notification; and a
// BUILD.gn syntax error in the Problems panel at GN's line, gone after the fix. A screenshot of
// each step goes to PM_BUILD_ROOT/meson-logs/vscode-e2e/ (and one on failure, with the
// extension host's logs in the test's output).
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { DaemonClient } = require('../daemon');
const { discoverFinished } = require('./ra-discover');
const { requireTools, node24Env } = require('../tools/tools');
const { startListening, stopGroup, launchChromium, filesUnder, hostLogs } = require('./server-process');

const SOURCE_ROOT = process.env.PM_SOURCE_ROOT || path.resolve(__dirname, '../../..');
const BUILD_ROOT = process.env.PM_BUILD_ROOT || path.join(SOURCE_ROOT, 'build');
const PROJMODEL = process.env.PM_PROJMODEL || path.join(BUILD_ROOT, 'cli/projmodel');
const VSIX = process.env.PM_VSIX;
const CHROMIUM = process.env.PM_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(BUILD_ROOT, 'meson-logs', 'vscode-e2e');
// Generous: a loaded 2-core machine. Every wait is for a selector or an event, never a sleep.
const WAIT_MS = 150000;

// Replaces @file at once (a rename), so the daemon never reads it half-written.
function writeAtomic(file, text) {
  const tmp = path.join(path.dirname(file), '.pm-test.tmp');
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

// Wrapper scripts the extension and the daemon run instead of projmodel and gn: while the FIFO
// GATE exists, a run touches GATE.held and waits reading it, so a transient state lasts
// until the test has seen it (no sleep races it); the test opens the gate with one write.
function writeGatedWrapper(file, gate, real, onlyArg) {
  const when = onlyArg ? `case " $* " in *" ${onlyArg} "*) ;; *) exec '${real}' "$@" ;; esac\n` : '';
  fs.writeFileSync(file, `#!/bin/sh\n# ${real}, held while the test's gate ${gate} is closed (e2e.test.js)\n${when}` +
    `if [ -p '${gate}' ]; then : > '${gate}.held'; read _ < '${gate}'; fi\nexec '${real}' "$@"\n`, { mode: 0o755 });
}

function closeGate(gate) {
  execFileSync('mkfifo', [gate]);
}

// Waits until a run is held at @gate.
async function gateHeld(gate) {
  const deadline = Date.now() + WAIT_MS;
  while (!fs.existsSync(`${gate}.held`)) {
    if (Date.now() > deadline) assert.fail(`nothing reached the gate ${gate}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Lets the held runs go on: moved aside first, so that later runs pass straight through; the
// write completes the held readers' open (on the thread pool, never blocking the loop).
async function openGate(gate) {
  fs.renameSync(gate, `${gate}.open`);
  await fs.promises.writeFile(`${gate}.open`, 'go\n');
  fs.rmSync(`${gate}.open`);
  fs.rmSync(`${gate}.held`, { force: true });
}

// Resolves with the client's first state satisfying @pred (the current one included).
function waitState(client, pred) {
  return new Promise((resolve, reject) => {
    if (pred(client.state)) {
      resolve(client.state);
      return;
    }
    const timer = setTimeout(() => {
      client.removeListener('state', on);
      reject(new Error(`daemon state never matched (last: ${JSON.stringify(client.state)})`));
    }, WAIT_MS);
    function on(s) {
      if (!pred(s)) return;
      clearTimeout(timer);
      client.removeListener('state', on);
      resolve(s);
    }
    client.on('state', on);
  });
}

// Polls the files under @dir whose path matches @name until one's text matches @re; returns it.
async function pollFile(dir, name, re) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = filesUnder(dir, (p) => name.test(p));
    for (const f of found) {
      const text = fs.readFileSync(f, 'utf8');
      if (re.test(text)) return text;
    }
    if (Date.now() > deadline) assert.fail(`no file matching ${name} under ${dir} says ${re} (found: ${found.join(', ')})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

// Runs the command palette entry whose title contains @title.
async function runCommand(page, title) {
  await page.locator('.monaco-workbench').click({ position: { x: 400, y: 300 } });
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: WAIT_MS });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first()
    .waitFor({ state: 'visible', timeout: WAIT_MS });
  await page.keyboard.press('Enter');
}

// Waits for a notification toast whose text matches @re; returns that text.
async function toast(page, re) {
  const item = page.locator('.notifications-toasts .notification-list-item-message').filter({ hasText: re }).first();
  await item.waitFor({ state: 'visible', timeout: WAIT_MS });
  return item.textContent();
}

test('the extension in real VS Code (code-server), against the real daemon on a GN monorepo', { timeout: 600000 }, async (t) => {
  assert.ok(VSIX && fs.existsSync(VSIX), `PM_VSIX names the built .vsix (got '${VSIX}')`);
  const tools = requireTools();
  const { chromium } = require(tools.playwright);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-vscode-e2e-'));
  const repo = path.join(tmp, 'repo');
  fs.cpSync(path.join(SOURCE_ROOT, 'examples', 'gn-monorepo'), repo, {
    recursive: true,
    filter: (src) => !/[/\\](out|rust-project\.json)$/.test(src),
  });
  const home = path.join(tmp, 'home');
  const userData = path.join(tmp, 'user-data');
  const extensions = path.join(tmp, 'extensions');
  fs.mkdirSync(path.join(tmp, 'run'), { mode: 0o700 });
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  // The extension runs projmodel through a wrapper whose `serve` can be held (the status bar's
  // "starting"), and the daemon runs gn through one (its "refreshing").
  const gates = path.join(tmp, 'gates');
  fs.mkdirSync(gates);
  const serveGate = path.join(gates, 'serve.gate');
  const gnGate = path.join(gates, 'gn.gate');
  const gatedProjmodel = path.join(gates, 'gated-projmodel');
  writeGatedWrapper(gatedProjmodel, serveGate, path.resolve(PROJMODEL), 'serve');
  const gn = execFileSync('sh', ['-c', 'command -v gn'], { encoding: 'utf8' }).trim();
  writeGatedWrapper(path.join(gates, 'gated-gn'), gnGate, gn);
  const config = JSON.parse(fs.readFileSync(path.join(repo, '.projmodel.json'), 'utf8'));
  config.gn.gn = path.join(gates, 'gated-gn');
  fs.writeFileSync(path.join(repo, '.projmodel.json'), JSON.stringify(config));
  fs.mkdirSync(home);
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const f of fs.readdirSync(SHOTS)) if (f.endsWith('.png')) fs.rmSync(path.join(SHOTS, f)); // an earlier run's
  // Private everything: code-server writes config and logs under HOME and XDG dirs; the daemon
  // its socket and model under XDG_RUNTIME_DIR and XDG_CACHE_HOME; the extension host (a child
  // of code-server) finds the same socket from the same environment.
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, 'config'),
    XDG_DATA_HOME: path.join(home, 'data'),
    XDG_RUNTIME_DIR: path.join(tmp, 'run'),
    XDG_CACHE_HOME: path.join(tmp, 'cache'),
  };
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'projmodel.path': gatedProjmodel,
  }, null, 2));

  // The real daemon, started and idle before VS Code opens: its crate count is the expected one.
  // This client does not reconnect: the extension's restarts are under test.
  const daemon = new DaemonClient({ root: repo, projmodel: PROJMODEL, env, reconnect: false });
  const daemonPid = () => JSON.parse(execFileSync(PROJMODEL, ['status', '--root', repo, '--json'], { env, encoding: 'utf8' })).pid;
  let server;
  let browser;
  let page;
  let step = 0;
  const began = Date.now();
  const mark = (name) => t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s: ${name}`);
  const shot = async (name) => {
    if (page) await page.screenshot({ path: path.join(SHOTS, `${String(++step).padStart(2, '0')}-${name}.png`) });
    mark(name);
  };
  t.after(async () => {
    try {
      if (browser) await browser.close();
      if (server) await stopGroup(server.proc);
      daemon.dispose();
      execFileSync(PROJMODEL, ['stop', '--root', repo], { env, stdio: 'ignore' });
    } finally {
      daemon.dispose();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  try {
    await daemon.start();
    const idle = await waitState(daemon, (s) => s.state === 'idle');
    const crates = idle.crates;
    assert.ok(crates > 0, `the daemon has crates: ${JSON.stringify(idle)}`);
    const firstPid = daemonPid();

    // Installed as a user would: the .vsix through code-server's CLI; rust-analyzer is not
    // installed (it cannot be here): the extension must say so and work all the same.
    const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
    execFileSync(tools.node, [tools.codeServer, ...common, '--install-extension', VSIX],
      { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const list = execFileSync(tools.node, [tools.codeServer, ...common, '--list-extensions', '--show-versions'], { env, encoding: 'utf8' });
    assert.match(list, /^projmodel\.projmodel@0\.1\.0$/m);

    server = startListening(tools.node, [tools.codeServer, '--bind-addr', '127.0.0.1:0', '--auth', 'none', '--disable-telemetry',
      '--disable-update-check', '--disable-workspace-trust', ...common], env,
    /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//, 'code-server', WAIT_MS);
    const url = await server.listening;

    browser = await launchChromium(chromium, CHROMIUM);
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(WAIT_MS);
    page.setDefaultNavigationTimeout(WAIT_MS);
    await page.goto(`${url}/?folder=${encodeURIComponent(repo)}`, { waitUntil: 'commit' });
    await page.locator('.monaco-workbench').waitFor({ timeout: WAIT_MS });

    // The status bar: idle with the daemon's crate count.
    const status = page.locator('.statusbar-item', { hasText: `projmodel: ${crates} crates` });
    await status.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await shot('status-bar-idle');

    // No rust-analyzer: a warning, the same line in the projmodel output channel, no settings
    // written, and the commands work (refresh and status below run before it is installed).
    const noRa = await toast(page, /rust-analyzer is not installed/);
    assert.match(noRa, /^projmodel: rust-analyzer is not installed \(no extension registers rust-analyzer\.workspace\.discoverConfig\); the projmodel commands work/);
    await shot('no-rust-analyzer-warning');
    const channel = await pollFile(userData, /projmodel\.log$/, /rust-analyzer is not installed/);
    assert.match(channel, /\] projmodel: rust-analyzer is not installed/);
    const settingsFile = path.join(repo, '.vscode', 'settings.json');
    assert.ok(!fs.existsSync(settingsFile) || !fs.readFileSync(settingsFile, 'utf8').includes('discoverConfig'),
      'no discoverConfig written without rust-analyzer');

    // Refresh from the palette (a toast with the new generation), then the status.
    await runCommand(page, 'projmodel: Re-query the build system');
    assert.match(await toast(page, /projmodel: generation \d+/), new RegExp(`^projmodel: generation \\d+, ${crates} crates`));
    await shot('refresh-command');
    // Status: a click on the status bar item runs it (its command), as the palette entry does.
    await status.first().click();
    assert.match(await toast(page, /projmodel: idle,/), new RegExp(`^projmodel: idle, ${crates} crates, generation \\d+, last refresh ok`));
    await shot('status-bar-click');

    // "refreshing": a refresh from the palette while gn is held; the status bar shows the spinning
    // sync icon and the daemon's last $/progress text before gn ran, then idle again.
    closeGate(gnGate);
    await runCommand(page, 'projmodel: Re-query the build system');
    await gateHeld(gnGate);
    const refreshing = page.locator('.statusbar-item', { hasText: 'projmodel: querying gn for \'.\'' }).first();
    await refreshing.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.strictEqual(await refreshing.locator('.codicon-sync.codicon-modifier-spin').count(), 1);
    await shot('status-bar-refreshing');
    await openGate(gnGate);
    assert.match(await toast(page, /projmodel: generation \d+, \d+ crates \(/), new RegExp(`^projmodel: generation \\d+, ${crates} crates`));
    await status.first().waitFor({ state: 'visible', timeout: WAIT_MS });

    // Now a stand-in for rust-analyzer (packed by the same vsce) registers the two settings it
    // declares, installed into the running code-server: the extension notices and configures.
    const stub = path.join(tmp, 'rust-analyzer-settings.vsix');
    execFileSync(tools.node, [tools.vsce, 'package', '--allow-missing-repository', '--skip-license', '--out', stub],
      { cwd: path.join(__dirname, 'rust-analyzer-settings'), env: node24Env(tools, env), stdio: ['ignore', 'pipe', 'pipe'] });
    mark('stand-in packed');
    execFileSync(tools.node, [tools.codeServer, ...common, '--install-extension', stub], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    mark('stand-in installed');

    // rust-analyzer's discoverConfig in the workspace settings, run as rust-analyzer runs it.
    const deadline = Date.now() + WAIT_MS;
    let settings;
    for (;;) {
      try {
        settings = JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
        if (settings['rust-analyzer.workspace.discoverConfig']) break;
      } catch (e) {
        // not written yet, or written half
      }
      if (Date.now() > deadline) assert.fail(`no discoverConfig in ${settingsFile}`);
      await page.waitForTimeout(200);
    }
    mark('discoverConfig written');
    const dc = settings['rust-analyzer.workspace.discoverConfig'];
    assert.deepStrictEqual(dc, { command: [gatedProjmodel, 'discover', '{arg}'], progressLabel: 'projmodel', filesToWatch: ['BUILD.gn', '.gn'] });
    const file = path.join(repo, 'lib', 'util', 'src', 'lib.rs');
    const finished = await discoverFinished(dc, { path: file }, { env, cwd: '/' });
    assert.strictEqual(finished.buildfile, path.join(repo, 'lib', 'util', 'BUILD.gn'));
    assert.ok(finished.project.crates.some((c) => c.root_module === file), `a crate roots at ${file}`);
    mark('discover run');

    // The crates of the current file: a quick pick with what rust-analyzer is told; picking the
    // crate opens its build file.
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.fill('lib/util/src/text.rs');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'text.rs' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active', { hasText: 'text.rs' }).waitFor({ state: 'visible' });

    // The dependency graph of text.rs's crate: a webview beside it showing dot's SVG.
    await runCommand(page, 'projmodel: Show the dependency graph of the current crate');
    const webview = page.frameLocator('iframe.webview').frameLocator('#active-frame');
    const node = webview.locator('svg g.node text', { hasText: '//lib/util:util' }).first();
    await node.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.strictEqual(await node.textContent(), '//lib/util:util');
    await webview.locator('svg g.node text', { hasText: '//third_party/fnv:fnv' }).first().waitFor({ state: 'visible' });
    assert.ok(await webview.locator('svg g.edge').count() >= 2, 'the graph has its edges');
    await page.locator('.tabs-container .tab', { hasText: 'Crate graph: //lib/util:util' }).waitFor({ state: 'visible' });
    await shot('graph-webview');

    await page.locator('.tabs-container .tab', { hasText: 'text.rs' }).first().click();
    await page.locator('.tabs-container .tab.active', { hasText: 'text.rs' }).waitFor({ state: 'visible' });
    await runCommand(page, 'projmodel: Show the crates of the current file');
    const crateRow = page.locator('.quick-input-widget .monaco-list-row', { hasText: '//lib/util:util' }).first();
    await crateRow.waitFor({ state: 'visible' });
    const rowText = await crateRow.textContent();
    assert.match(rowText, /lib, edition 2018/);
    assert.match(rowText, /deps: \/\/third_party\/fnv:fnv/);
    await shot('crates-of-file');
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active', { hasText: 'BUILD.gn' }).waitFor({ state: 'visible' });
    await shot('build-file-opened');

    // A failing command: the graph of a file no crate owns is an error notification (and the
    // log line), the editor stays as it was.
    await page.keyboard.press('F1');
    await input.fill('README.md');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'README.md' }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab.active', { hasText: 'README.md' }).waitFor({ state: 'visible' });
    await runCommand(page, 'projmodel: Show the dependency graph of the current crate');
    const graphFailed = await toast(page, /dependency graph failed/);
    assert.match(graphFailed, new RegExp(`^projmodel: showing the dependency graph failed: .*${path.join(repo, 'README.md').replace(/[.]/g, '\\.')}`));
    const errorToast = page.locator('.notifications-toasts .notification-list-item', { hasText: 'dependency graph failed' }).first();
    assert.strictEqual(await errorToast.locator('.codicon-error').count(), 1, 'an error notification');
    await shot('failing-command-notification');
    await pollFile(userData, /projmodel\.log$/, /showing the dependency graph failed/);

    // Export: the daemon's whole model as rust-project.json at the root.
    const exported = path.join(repo, 'rust-project.json');
    await runCommand(page, 'projmodel: Export rust-project.json');
    assert.strictEqual(await toast(page, /projmodel: wrote \d+ crates/), `projmodel: wrote ${crates} crates to ${exported}`);
    const project = JSON.parse(fs.readFileSync(exported, 'utf8'));
    assert.strictEqual(project.crates.length, crates);
    assert.ok(project.crates.some((c) => c.root_module === file), `the export has the crate rooted at ${file}`);
    await shot('export-command');

    // Every text the projmodel status bar item shows from now on, as the page renders it.
    await page.evaluate(() => {
      window.pmStatusTexts = [];
      const bar = document.querySelector('.part.statusbar');
      new MutationObserver(() => {
        for (const el of bar.querySelectorAll('.statusbar-item')) {
          const t = el.textContent;
          if (t.includes('projmodel:') && window.pmStatusTexts[window.pmStatusTexts.length - 1] !== t) window.pmStatusTexts.push(t);
        }
      }).observe(bar, { subtree: true, childList: true, characterData: true });
    });

    // Restart from the palette: "starting" while the new `projmodel serve` is held (the spinning
    // loading icon), then a new daemon, and the status bar idle again.
    closeGate(serveGate);
    await runCommand(page, 'projmodel: Restart the daemon');
    await gateHeld(serveGate);
    const starting = page.locator('.statusbar-item', { hasText: 'projmodel: connecting to the daemon' }).first();
    await starting.waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.strictEqual(await starting.locator('.codicon-loading.codicon-modifier-spin').count(), 1);
    await shot('status-bar-starting');
    await openGate(serveGate);
    const restarted = await toast(page, /projmodel: daemon restarted/);
    const m = /^projmodel: daemon restarted \(pid (\d+), /.exec(restarted);
    assert.ok(m, restarted);
    const secondPid = Number(m[1]);
    assert.notStrictEqual(secondPid, firstPid);
    assert.strictEqual(daemonPid(), secondPid);
    await status.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await shot('restart-command');

    // `projmodel stop` from outside: the status bar says the daemon stopped, the extension starts
    // a new one through projmodel and is idle again, without a window reload.
    execFileSync(PROJMODEL, ['stop', '--root', repo], { env });
    const stopped = page.locator('.statusbar-item', { hasText: 'projmodel: daemon stopped, restarting' });
    const stopDeadline = Date.now() + WAIT_MS;
    for (;;) {
      if (Date.now() > stopDeadline) assert.fail('no new daemon after projmodel stop');
      let pid;
      try {
        pid = daemonPid();
      } catch (e) {
        pid = undefined; // none listens yet
      }
      if (pid && pid !== secondPid) break;
      await page.waitForTimeout(200);
    }
    await status.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    const texts = await page.evaluate(() => window.pmStatusTexts);
    assert.ok(texts.some((t) => t.includes('projmodel: daemon stopped, restarting')), `status bar texts: ${JSON.stringify(texts)}`);
    assert.strictEqual(await stopped.count(), 0);
    await shot('reconnected-after-stop');

    // A BUILD.gn syntax error (a missing comma; GN names the next item's line): the daemon's
    // refresh fails and the Problems panel shows GN's error at that line.
    const buildFile = path.join(repo, 'lib', 'util', 'BUILD.gn');
    const good = fs.readFileSync(buildFile, 'utf8');
    const lines = good.split('\n');
    const at = lines.indexOf('    "src/lib.rs",');
    assert.ok(at >= 0, 'the example lists src/lib.rs in sources');
    lines[at] = '    "src/lib.rs"';
    writeAtomic(buildFile, lines.join('\n'));
    await page.locator('.statusbar-item', { hasText: 'projmodel: error' }).first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await runCommand(page, 'Focus Problems (Errors, Warnings, Infos)');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'Expected comma between items.' });
    await problem.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    assert.match(await problem.first().textContent(), new RegExp(`\\[Ln ${at + 2}, Col 5\\]`));
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'BUILD.gn' }).first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await shot('problems-build-gn-error');

    // Fixed: the problem goes, the status bar is idle with the same count.
    writeAtomic(buildFile, good);
    await status.first().waitFor({ state: 'visible', timeout: WAIT_MS });
    await problem.first().waitFor({ state: 'detached', timeout: WAIT_MS });
    await shot('problems-cleared');
  } catch (e) {
    if (page) await page.screenshot({ path: path.join(SHOTS, 'failure.png') }).catch(() => {});
    e.message += `\nscreenshot: ${path.join(SHOTS, 'failure.png')}\n${hostLogs(path.join(userData, 'logs'), 6000)}` +
      (server ? `\ncode-server output:\n${server.output().slice(-4000)}` : '');
    throw e;
  }
});
