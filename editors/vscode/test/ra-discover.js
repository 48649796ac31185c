// Runs a `rust-analyzer.workspace.discoverConfig` the way rust-analyzer runs it, for the tests
// that check the configuration the extension wrote (e2e.test.js, host/index.js). rust-analyzer
// itself cannot be installed here; what it does is in its crates/rust-analyzer/src/discover.rs
// and command.rs:
//   - argv without a shell: command[0], then command[1..] with each element equal to "{arg}"
//     replaced by the compact JSON of the argument ({"path": FILE} for a source file); no
//     working directory of its own (rust-analyzer's, whatever the editor started it in);
//   - stdin /dev/null, stdout and stderr piped, and BOTH read line by line by the same parser:
//     a line that is not JSON becomes an error message ("Project discovery failed: <line>",
//     shown to the user), a JSON line that is no known message is skipped, and
//     {"kind": "finished"} needs "buildfile" (made absolute by an expect(): a relative one
//     panics) and "project";
//   - the run fails when it read no message and exited non-zero.
// So a discover command that writes a word on stderr, or finishes without an absolute
// buildfile, breaks rust-analyzer although its last stdout line looks right.
'use strict';

const path = require('path');
const { spawn } = require('child_process');

// One output line as rust-analyzer's DiscoverProjectMessage::from_line reads it: a message
// {kind, ...}, or null for a line it skips. A message that rust-analyzer could not take (a
// relative buildfile, a finished without a project) is returned with `invalid` set.
function fromLine(line, stream) {
  let data;
  try {
    data = JSON.parse(line);
  } catch (e) {
    return { kind: 'error', error: line, source: null, stream };
  }
  if (!data || typeof data !== 'object') return null;
  const isStr = (v) => typeof v === 'string';
  switch (data.kind) {
    case 'progress':
      return isStr(data.message) ? { kind: 'progress', message: data.message, stream } : null;
    case 'error':
      return isStr(data.error) ? { kind: 'error', error: data.error, source: data.source ?? null, stream } : null;
    case 'finished':
      if (!isStr(data.buildfile) || !data.project || typeof data.project !== 'object' || !Array.isArray(data.project.crates)) return null;
      return {
        kind: 'finished',
        buildfile: data.buildfile,
        project: data.project,
        stream,
        invalid: path.isAbsolute(data.buildfile) ? undefined : `buildfile '${data.buildfile}' is not absolute (rust-analyzer panics)`,
      };
    default:
      return null;
  }
}

// Runs @dc (a discoverConfig) for @arg ({path: FILE}); resolves with {messages (in the order
// read, per stream), status, stdout, stderr}. options: env, cwd (the tests pass '/': the
// command must not depend on where the editor started rust-analyzer).
function runDiscover(dc, arg, options = {}) {
  const argv = dc.command.slice(1).map((a) => (a === '{arg}' ? JSON.stringify(arg) : a));
  return new Promise((resolve, reject) => {
    const proc = spawn(dc.command[0], argv, { env: options.env || process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const text = { stdout: '', stderr: '' };
    proc.stdout.setEncoding('utf8').on('data', (c) => { text.stdout += c; });
    proc.stderr.setEncoding('utf8').on('data', (c) => { text.stderr += c; });
    proc.once('error', reject);
    proc.once('close', (status, signal) => {
      const messages = [];
      for (const stream of ['stdout', 'stderr']) {
        const lines = text[stream].split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        for (const line of lines) {
          const m = fromLine(line, stream);
          if (m) messages.push(m);
        }
      }
      resolve({ messages, status: status ?? signal, stdout: text.stdout, stderr: text.stderr });
    });
  });
}

// Runs @dc for @arg and asserts what rust-analyzer needs to load the project: no error message on
// either stream, exactly one finished message, valid as rust-analyzer reads it, and the run
// a success. Returns that finished message.
async function discoverFinished(dc, arg, options = {}) {
  const run = await runDiscover(dc, arg, options);
  const what = `${dc.command.join(' ')} (${JSON.stringify(arg)}): exit ${run.status}\nstdout: ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-2000)}`;
  const errors = run.messages.filter((m) => m.kind === 'error');
  if (errors.length > 0) throw new Error(`rust-analyzer would report "Project discovery failed: ${errors[0].error}" (from ${errors[0].stream}): ${what}`);
  const finished = run.messages.filter((m) => m.kind === 'finished');
  if (finished.length !== 1) throw new Error(`${finished.length} finished messages: ${what}`);
  if (finished[0].invalid) throw new Error(`${finished[0].invalid}: ${what}`);
  if (run.status !== 0) throw new Error(`the discover command failed: ${what}`);
  return finished[0];
}

module.exports = { fromLine, runDiscover, discoverFinished };
