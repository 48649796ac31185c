// What the two tests in real VS Code (e2e.test.js, host.test.js) share: a server started in its
// own process group and awaited until it prints that it listens, that group's stop, Chromium's
// headless launch, and the log files a failure's message quotes.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

// Runs @cmd @args in its own process group; resolves `listening` with the first capture of @re
// in its output, rejects it if @what exits first or after @waitMs.
function startListening(cmd, args, env, re, what, waitMs) {
  const proc = spawn(cmd, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not listen within ${waitMs} ms:\n${output}`)), waitMs);
    const on = (chunk) => {
      output += chunk;
      const m = re.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code ?? sig}):\n${output}`));
    });
  });
  return { proc, listening, output: () => output };
}

// Stops @proc's whole process group (code-server leaves a file watcher behind otherwise).
async function stopGroup(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch (e) {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch (e) {
      // already gone
    }
  }, 10000);
  await exited;
  clearTimeout(timer);
}

// Debian's Chromium, headless, through playwright-core's @chromium.
function launchChromium(chromium, executablePath) {
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

// The files under @dir for which @keep(path, name) is true (an unreadable directory has none).
function filesUnder(dir, keep) {
  const found = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (keep(p, e.name)) found.push(p);
    }
  };
  walk(dir);
  return found;
}

// The extension host's logs and the projmodel output channel under @dir, each file's last @tail
// characters, for a failure's message.
function hostLogs(dir, tail) {
  return filesUnder(dir, (p, name) => /exthost|projmodel/i.test(name))
    .map((f) => `--- ${f}\n${fs.readFileSync(f, 'utf8').slice(-tail)}`).join('\n');
}

module.exports = { startListening, stopGroup, launchChromium, filesUnder, hostLogs };
