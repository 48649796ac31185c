// The extension's connection to the projmodel daemon: JSON-RPC with LSP framing over the root's
// Unix socket (docs/protocol.md), subscribed to the model's notifications. When nothing listens
// on the root's default socket it tries the systemd unit's socket as the command does (below,
// connectUnit), and only then starts `projmodel serve` on the default socket. No `vscode`
// import, so node tests it against the real daemon.
//
// When the connection drops (`projmodel stop`, a crash, a kill) the client says so ('disconnected')
// and reconnects by itself: it waits for the old daemon's process to be gone, then connects or
// starts a new daemon through `projmodel serve`, retrying with a growing delay until it succeeds
// or is disposed (options.reconnect false: it only reports the error).
//
// Events (an EventEmitter):
//   'state'        {state: 'starting'|'refreshing'|'idle'|'error'|'disconnected', message, crates?,
//                   generation?}
//   'diagnostics'  [{file, line, col, message}] from the last refresh: a failed one's error, or a
//                  partial one's build files that did not load; [] once one succeeds whole
//   'modelChanged', 'refreshFailed'  the daemon's notification params
//   'reconnected'  the daemon's status after a reconnection
//   'log'          one line for the output channel
'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const EventEmitter = require('events');
const { execFile } = require('child_process');
const { findRoot, defaultSocket, unitSocket } = require('./socket-path');
const { parseToolErrors, parseWarningErrors } = require('./tool-errors');

const PROGRESS_TOKEN = 'projmodel/refresh';
// The first reconnection attempt's delay, doubled after each failure up to the maximum.
const RECONNECT_FIRST_MS = 250;
const RECONNECT_MAX_MS = 10000;

// vscode-jsonrpc, the extension's own copy (vendor/, tools/vendor.js: installed with the
// extension, nothing for npm to fetch), loaded when first connecting so that a broken install is
// a clear error the extension can show rather than a failed activation.
function loadRpc() {
  try {
    return require('./vendor/vscode-jsonrpc/node');
  } catch (e) {
    throw new Error(`vscode-jsonrpc is missing from ${path.join(__dirname, 'vendor')} (a broken install of the extension): ${e.message}`);
  }
}

function connectSocket(socketPath) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    sock.once('connect', () => {
      sock.removeListener('error', reject);
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

// An error with @code (as Node's own carry one), for callers that tell errors apart.
function codedError(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

const refused = (e) => e.code === 'ENOENT' || e.code === 'ECONNREFUSED';

// A connection to the daemon projmodel@.socket activates for @root (data/systemd/, socket-path.js
// unitSocket), made as the command's pm__cli_unit_connect (cli/client.c) makes it: undefined
// when there is no such socket or nothing listens on it (a file left behind); an EPERM error
// naming the culprit when the socket is not the user's alone (docs/protocol.md, "Access"): the
// socket and its directory, not symlinks, belong to us and the directory has no group or other
// access, else a daemon another user planted there would get our requests.
//
// The command also checks the listener's uid with SO_PEERCRED; Node's net cannot read it (no
// getsockopt), so that check is left out. The file checks stand in for it: bind(2) creates the
// socket file with the binding process's uid, and in a directory of ours that only we can enter
// (mode 0700) nobody but us (or root) can bind, create or rename a file, so a socket of ours
// there was bound by a process of ours. What the peer check adds is only a path swapped between
// these checks and the connect through a parent directory another user may write, and
// XDG_RUNTIME_DIR is the user's own 0700 directory.
async function connectUnit(root, env) {
  const sock = unitSocket(root, env);
  if (!sock) return undefined;
  const uid = process.geteuid();
  let st;
  try {
    st = fs.lstatSync(sock);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
    throw new Error(`cannot stat '${sock}': ${e.message}`);
  }
  if (!st.isSocket() || st.uid !== uid) throw codedError('EPERM', `'${sock}' is not a socket of uid ${uid}`);
  const dir = path.dirname(sock);
  st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    throw codedError('EPERM', `socket directory '${dir}' (uid ${st.uid}, mode ${mode}) is not a directory of uid ${uid} with mode 0700`);
  }
  try {
    return { sock: await connectSocket(sock), path: sock };
  } catch (e) {
    if (refused(e)) return undefined;
    throw e;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A JSON-RPC error (or any error) as one line, with the projmodel error name when there is one.
function errorText(e) {
  if (e && e.data && e.data.name) return `${e.message} (${e.data.name})`;
  return (e && e.message) || String(e);
}

class DaemonClient extends EventEmitter {
  // options: root (monorepo root) or start (a path inside it); projmodel (the executable);
  // socket (default: derived from the root as the command does, and then the unit's socket is
  // tried too); env (for the daemon and the socket derivation); startTimeoutMs (waiting for a
  // started daemon to listen); reconnect (default true: reconnect when the daemon goes away).
  constructor(options) {
    super();
    this.projmodel = options.projmodel || 'projmodel';
    this.env = options.env || process.env;
    this.root = options.root || (options.start && findRoot(options.start));
    if (!this.root) {
      throw new Error(`no build system root found above '${options.start}' (no .projmodel.json, .gn, MODULE.bazel, WORKSPACE, .buckconfig or Cargo.toml)`);
    }
    // The socket a daemon this client starts listens on; this.socket is the one it connected
    // to last (the unit's, when that daemon answered), or that one before the first connection.
    this.serveSocket = options.socket || defaultSocket(this.root, this.env);
    this.socket = this.serveSocket;
    this.tryUnit = !options.socket;
    this.startTimeoutMs = options.startTimeoutMs || 20000;
    this.reconnect = options.reconnect !== false;
    this.reconnectTimer = undefined;
    this.starting = undefined;
    this.pid = undefined;
    this.conn = undefined;
    this.sock = undefined;
    this.state = { state: 'starting', message: 'connecting to the daemon' };
    this.diagnostics = [];
    this.disposed = false;
  }

  log(line) {
    this.emit('log', line);
  }

  setState(state) {
    this.state = state;
    this.emit('state', state);
  }

  setDiagnostics(list) {
    this.diagnostics = list;
    this.emit('diagnostics', list);
  }

  // `projmodel --root ROOT serve --socket SOCK`: it daemonizes and exits once the socket
  // listens; exit 1 usually means another client's daemon won the lock, so connecting decides.
  spawnServe() {
    const args = ['--root', this.root, 'serve', '--socket', this.serveSocket];
    this.log(`starting: ${this.projmodel} ${args.join(' ')}`);
    return new Promise((resolve, reject) => {
      execFile(this.projmodel, args, { cwd: this.root, env: this.env }, (err, stdout, stderr) => {
        if (err && err.code === 'ENOENT') {
          reject(new Error(`cannot run '${this.projmodel}' (set projmodel.path): ${err.message}`));
          return;
        }
        if (err) this.log(`projmodel serve: ${(stderr || err.message).trim()}`);
        resolve(stderr ? stderr.trim() : '');
      });
    });
  }

  // The default socket, else the unit's (unless a socket was given), else a daemon started on
  // the default socket: the command's order (cli/client.c pm__cli_daemon_connect). Never a
  // daemon of ours while the unit's serves the root: it would take every later client from it.
  // serve is passed --socket, so its own check of the unit's socket (cli/cmd-serve.c) does not
  // run; this one does it.
  async connectOrStart() {
    this.socket = this.serveSocket;
    try {
      return await connectSocket(this.serveSocket);
    } catch (e) {
      if (!refused(e)) throw e;
    }
    if (this.tryUnit) {
      const unit = await connectUnit(this.root, this.env);
      if (unit) {
        this.socket = unit.path;
        return unit.sock;
      }
    }
    const serveError = await this.spawnServe();
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      try {
        return await connectSocket(this.serveSocket);
      } catch (e) {
        if (!refused(e) || Date.now() > deadline) {
          throw new Error(`the daemon for '${this.root}' did not start${serveError ? `: ${serveError}` : ''} (socket '${this.serveSocket}')`);
        }
      }
      await sleep(20);
    }
  }

  // Connects (starting the daemon when needed), subscribes, and reports the current state. A
  // call while another start runs waits for that one.
  start() {
    this.disposed = false;
    this.cancelReconnect();
    if (!this.starting) {
      this.starting = this.connect({ quiet: false }).finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  // @quiet: keep the current state (a reconnection shows 'disconnected' until it is connected).
  async connect({ quiet }) {
    if (!quiet) this.setState({ state: 'starting', message: 'connecting to the daemon' });
    const rpc = loadRpc();
    const sock = await this.connectOrStart();
    const conn = rpc.createMessageConnection(new rpc.SocketMessageReader(sock), new rpc.SocketMessageWriter(sock));
    this.sock = sock;
    this.conn = conn;
    conn.onNotification('projmodel/modelChanged', (params) => this.onModelChanged(params));
    conn.onNotification('projmodel/refreshFailed', (params) => this.onRefreshFailed(params));
    conn.onProgress(new rpc.ProgressType(), PROGRESS_TOKEN, (value) => this.onProgress(value));
    conn.onClose(() => this.onClose(conn));
    conn.onError(([e]) => this.log(`connection error: ${errorText(e)}`));
    conn.listen();
    this.log(`connected to ${this.socket}`);
    // Subscribe before asking the status, so no refresh falls between the two.
    await conn.sendRequest('projmodel/subscribe', {});
    await this.syncStatus();
  }

  request(method, params) {
    if (!this.conn) return Promise.reject(new Error('not connected to the projmodel daemon'));
    return params === undefined ? this.conn.sendRequest(method) : this.conn.sendRequest(method, params);
  }

  // The state from projmodel/status: the last refresh's outcome decides idle or error.
  async syncStatus() {
    const st = await this.request('projmodel/status');
    this.pid = st.pid;
    if (st.state === 'refreshing' || st.state === 'scheduled') {
      this.setState({ state: 'refreshing', message: st.state, crates: st.crates });
    } else if (st.lastRefresh && st.lastRefresh.ok === false && st.lastError) {
      // Also with no model yet ("starting"): the first refresh failed and nothing is running.
      this.failed(st.lastError, st.lastErrorOutput, st.generation);
    } else if (st.state === 'starting') {
      this.setState({ state: 'starting', message: 'first refresh' });
    } else {
      this.setState({ state: 'idle', message: `${st.crates} crates`, crates: st.crates, generation: st.generation });
      // A partial refresh (a BUILD.bazel Bazel could not load) names its file and line in a
      // warning; a refresh without one clears them.
      const partial = parseWarningErrors(st.warnings);
      if (partial.length > 0 || this.diagnostics.length > 0) this.setDiagnostics(partial);
    }
    return st;
  }

  failed(error, output, generation) {
    this.setState({ state: 'error', message: error, generation });
    this.setDiagnostics(parseToolErrors(error, output, this.root));
  }

  onProgress(value) {
    if (!value) return;
    if (value.kind === 'begin' || value.kind === 'report') {
      this.setState({ state: 'refreshing', message: value.message || 'refreshing', crates: this.state.crates });
    } else if (value.kind === 'end') {
      // The end says neither success nor the crate count for sure: the status does.
      this.syncStatus().catch((e) => this.log(`status after refresh: ${errorText(e)}`));
    }
  }

  onModelChanged(params) {
    this.emit('modelChanged', params);
    if (this.diagnostics.length > 0) this.setDiagnostics([]);
  }

  onRefreshFailed(params) {
    this.log(`refresh failed: ${params.error}`);
    this.emit('refreshFailed', params);
    this.failed(params.error, params.output, params.generation);
  }

  onClose(conn) {
    if (conn !== this.conn) return;
    this.conn = undefined;
    this.sock = undefined;
    if (this.disposed) return;
    this.log('the daemon closed the connection');
    if (!this.reconnect) {
      this.setState({ state: 'error', message: 'the daemon closed the connection' });
      return;
    }
    this.setState({ state: 'disconnected', message: 'the daemon stopped: restarting it' });
    this.scheduleReconnect(RECONNECT_FIRST_MS);
  }

  cancelReconnect() {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  // Reconnects after @delayMs: once the old daemon's process is gone (it holds the root's lock
  // until it exits), connect, or start a daemon. A failure is logged, shown in the state, and
  // tried again later.
  scheduleReconnect(delayMs) {
    if (this.reconnectTimer || this.disposed) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = undefined;
      if (this.disposed || this.conn || this.starting) return;
      try {
        this.starting = (async () => {
          await this.waitExit(this.pid);
          await this.connect({ quiet: true });
        })().finally(() => {
          this.starting = undefined;
        });
        await this.starting;
        this.log(`reconnected to the daemon (pid ${this.pid})`);
        this.emit('reconnected', this.state);
      } catch (e) {
        if (this.disposed || this.conn) return;
        this.log(`reconnecting failed: ${errorText(e)}`);
        this.setState({ state: 'disconnected', message: `the daemon stopped; restarting it failed: ${errorText(e)}` });
        this.scheduleReconnect(Math.min(delayMs * 2, RECONNECT_MAX_MS));
      }
    }, delayMs);
  }

  // Waits until process @pid (the last daemon's) is gone, at most startTimeoutMs.
  async waitExit(pid) {
    const deadline = Date.now() + this.startTimeoutMs;
    while (pid && pidAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`the daemon (pid ${pid}) did not exit`);
      await sleep(20);
    }
  }

  // Stops the daemon (shutdown, then exit: docs/protocol.md) and waits until its process is
  // gone, so that a new one can take the root's lock and socket.
  async stopDaemon() {
    const conn = this.conn;
    if (!conn) return;
    const { pid } = await conn.sendRequest('projmodel/status');
    const closed = new Promise((resolve) => conn.onClose(resolve));
    this.conn = undefined; // onClose: an intended end, not an error
    await conn.sendRequest('shutdown');
    await conn.sendNotification('exit');
    await closed;
    conn.dispose();
    if (this.sock) this.sock.destroy();
    this.sock = undefined;
    await this.waitExit(pid);
    this.log(`stopped the daemon (pid ${pid})`);
  }

  async restart() {
    await this.stopDaemon();
    await this.start();
  }

  // Writes the whole model as rust-project.json to @file (atomically), from the daemon.
  async exportProject(file) {
    const res = await this.request('projmodel/rustProject', {});
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    await fs.promises.writeFile(tmp, `${JSON.stringify(res.project, null, 2)}\n`);
    await fs.promises.rename(tmp, file);
    return res.project.crates.length;
  }

  dispose() {
    this.disposed = true;
    this.cancelReconnect();
    if (this.conn) this.conn.dispose();
    if (this.sock) this.sock.destroy();
    this.conn = undefined;
    this.sock = undefined;
  }
}

module.exports = { DaemonClient, errorText };
