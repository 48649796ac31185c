#!/usr/bin/env python3
# The systemd user units (data/systemd/) pass `systemd-analyze --user verify` (and a planted
# error fails it), and the daemon serves a listening socket passed the systemd way (fd 3,
# LISTEN_PID, LISTEN_FDS): it neither re-binds nor unlinks the socket systemd owns. Clients
# given no --socket find that daemon on the unit's socket (%t/projmodel/<root escaped by
# systemd-escape --path>.sock) when none listens on the default one, start no daemon of their
# own, and refuse a unit socket directory others can enter; serve without --socket starts no
# second daemon beside it, unless it is the daemon systemd passed that socket to
# (docs/protocol.md).
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import checklib


def verify(units_dir, names, runtime):
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    p = subprocess.run(['systemd-analyze', '--user', 'verify'] +
                       [os.path.join(units_dir, n) for n in names],
                       capture_output=True, text=True, env=env, cwd=units_dir)
    return p.returncode, p.stdout + p.stderr


def default_sockets(sockdir, inst):
    """The sockets in sockdir other than the unit's (a daemon a client started)."""
    return sorted(f for f in os.listdir(sockdir)
                  if f.endswith('.sock') and f != inst + '.sock')


def stop_default_daemons(exe, root, env):
    """Stop any daemon a failing client started on the default socket."""
    sockdir = os.path.join(env['XDG_RUNTIME_DIR'], 'projmodel')
    for f in os.listdir(sockdir) if os.path.isdir(sockdir) else []:
        if f.endswith('.sock'):
            subprocess.run([exe, '--root', root, 'stop', '--socket', os.path.join(sockdir, f)],
                           capture_output=True, env=env)


def no_socket_option(exe, root, env, path, inst, pid):
    """status and discover without --socket reach the daemon serving the unit's socket at
    path (pid): status names that pid and socket, discover is answered, and neither starts a
    daemon on the default socket. A unit socket directory others may enter is refused."""
    failures = []
    sockdir = os.path.dirname(path)
    st = subprocess.run([exe, '--root', root, 'status', '--json'], capture_output=True,
                        text=True, env=env)
    status = json.loads(st.stdout) if st.returncode == 0 else {}
    if status.get('pid') != pid or status.get('socket') != path:
        failures.append('status without --socket did not reach the unit daemon (pid %d, %s) '
                        '(%d): %s%s' % (pid, path, st.returncode, st.stdout, st.stderr))
    arg = json.dumps({'path': os.path.join(root, 'lib', 'engine', 'src', 'lib.rs')})
    d = subprocess.run([exe, 'discover', arg], capture_output=True, text=True, env=env,
                       stdin=subprocess.DEVNULL, timeout=600)
    last = json.loads(d.stdout.splitlines()[-1]) if d.returncode == 0 and d.stdout else {}
    if last.get('kind') != 'finished' or not last.get('project', {}).get('crates'):
        failures.append('discover without --socket (%d): %r %r'
                        % (d.returncode, d.stdout[-300:], d.stderr[-500:]))
    if default_sockets(sockdir, inst):
        failures.append('a client started a daemon on %s beside the unit daemon'
                        % default_sockets(sockdir, inst))
    # Reachable only by its owner: a directory with group access is refused, and nothing is
    # started in its place.
    os.chmod(sockdir, 0o750)
    try:
        for name, argv in [('status', [exe, '--root', root, 'status']),
                           ('discover', [exe, 'discover', arg]),
                           ('serve', [exe, '--root', root, 'serve'])]:
            p = subprocess.run(argv, capture_output=True, text=True, env=env,
                               stdin=subprocess.DEVNULL, timeout=600)
            if p.returncode == 0 or 'mode 0700' not in p.stdout + p.stderr:
                failures.append('%s with the unit socket directory at 0750 (%d): %s%s'
                                % (name, p.returncode, p.stdout[-300:], p.stderr[-300:]))
    finally:
        os.chmod(sockdir, 0o700)
    if default_sockets(sockdir, inst):
        failures.append('a client refused the unit socket but started %s'
                        % default_sockets(sockdir, inst))
    return failures


def serve_refused(exe, root, env, path, inst, pid):
    """serve without --socket, with the unit daemon (pid) serving the unit's socket at path,
    fails as when a daemon serves the default socket (exit 1, "already serves" naming path)
    and starts no daemon on the default socket; status --json then still names the unit
    daemon. This is what the Emacs package's start does (editors/emacs/projmodel.el,
    projmodel--start: serve, then status --json)."""
    failures = []
    sockdir = os.path.dirname(path)
    unit_files = {inst + '.sock', inst + '.sock.lock'}
    sv = subprocess.run([exe, '--root', root, 'serve'], capture_output=True, text=True, env=env,
                        stdin=subprocess.DEVNULL, timeout=120)
    if sv.returncode != 1 or 'already serves' not in sv.stderr or path not in sv.stderr:
        failures.append('serve without --socket beside the unit daemon (%d): %s%s'
                        % (sv.returncode, sv.stdout, sv.stderr))
    others = sorted(set(os.listdir(sockdir)) - unit_files)
    if others:
        failures.append('serve without --socket beside the unit daemon left %s in %s'
                        % (others, sockdir))
    st = subprocess.run([exe, '--root', root, 'status', '--json'], capture_output=True,
                        text=True, env=env)
    status = json.loads(st.stdout) if st.returncode == 0 else {}
    if status.get('pid') != pid or status.get('socket') != path:
        failures.append('status after serve did not reach the unit daemon (pid %d, %s) '
                        '(%d): %s%s' % (pid, path, st.returncode, st.stdout, st.stderr))
    return failures


def main():
    src, build, exe = (os.environ['PM_SOURCE_ROOT'], os.environ['PM_BUILD_ROOT'],
                       os.environ['PM_PROJMODEL'])
    tmp = tempfile.mkdtemp(prefix='pm-systemd-')
    failures = []
    daemon = None
    try:
        runtime = os.path.join(tmp, 'run')
        units = os.path.join(tmp, 'units')
        os.makedirs(runtime, mode=0o700)
        os.makedirs(units)
        service = open(os.path.join(build, 'data', 'projmodel@.service')).read()
        sock_unit = open(os.path.join(src, 'data', 'systemd', 'projmodel@.socket')).read()
        m = re.search(r'^ExecStart=(\S+)/projmodel (.*)$', service, re.M)
        if not m:
            failures.append('no ExecStart=<bindir>/projmodel in projmodel@.service')
        elif 'serve --foreground --socket %t/projmodel/%i.sock' not in m.group(2):
            failures.append('ExecStart does not serve %t/projmodel/%i.sock: ' + m.group(2))
        if 'ListenStream=%t/projmodel/%i.sock' not in sock_unit:
            failures.append('projmodel@.socket does not listen on %t/projmodel/%i.sock')
        # verify checks ExecStart's binary exists: point it at the one just built.
        service = re.sub(r'^ExecStart=\S+', 'ExecStart=' + exe, service, flags=re.M)
        for prefix in ['projmodel', 'broken']:
            body = sock_unit if prefix == 'projmodel' else sock_unit.replace('ListenStream', 'ListenStrem')
            open(os.path.join(units, prefix + '@.socket'), 'w').write(body)
            open(os.path.join(units, prefix + '@.service'), 'w').write(
                service.replace('projmodel@%i.socket', prefix + '@%i.socket'))
        rc, out = verify(units, ['projmodel@home-me-src-mono.socket',
                                 'projmodel@home-me-src-mono.service'], runtime)
        if rc != 0 or out.strip():
            failures.append('systemd-analyze verify failed (%d): %s' % (rc, out))
        rc, out = verify(units, ['broken@home-me-src-mono.socket'], runtime)
        if rc == 0:
            failures.append('systemd-analyze verify accepted a socket unit with no Listen line')

        # Socket activation: a copy of the example, its socket bound and listening here.
        root = os.path.join(tmp, 'repo')
        shutil.copytree(os.path.join(src, 'examples', 'gn-monorepo'), root,
                        ignore=shutil.ignore_patterns('out', 'rust-project.json'))
        # The unit's socket, as projmodel@.socket names it for this root.
        inst = checklib.run(['systemd-escape', '--path', root]).strip()
        sockdir = os.path.join(runtime, 'projmodel')
        path = os.path.join(sockdir, inst + '.sock')
        os.makedirs(sockdir, mode=0o700)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(16)
        inode = os.stat(path).st_ino
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
        # What systemd does: the socket as fd 3, LISTEN_PID = the daemon's pid (exec keeps it).
        daemon = subprocess.Popen(
            ['sh', '-c', 'exec 3<&%d; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' % lsock.fileno(),
             'sh', exe, '--root', root, 'serve', '--foreground', '--socket', path,
             '--log', os.path.join(tmp, 'daemon.log')],
            env=env, pass_fds=[lsock.fileno()], stdout=subprocess.DEVNULL)
        lsock.close()
        failures += no_socket_option(exe, root, env, path, inst, daemon.pid)
        failures += serve_refused(exe, root, env, path, inst, daemon.pid)
        st = subprocess.run([exe, '--root', root, 'status', '--socket', path],
                            capture_output=True, text=True, env=env)
        if st.returncode != 0:
            failures.append('status over the passed socket failed: ' + st.stdout + st.stderr)
        if os.stat(path).st_ino != inode:
            failures.append('the daemon re-bound the socket instead of serving the passed one')
        stop = subprocess.run([exe, '--root', root, 'stop', '--socket', path],
                              capture_output=True, text=True, env=env)
        if stop.returncode != 0:
            failures.append('stop failed: ' + stop.stdout + stop.stderr)
        if daemon.wait() != 0:
            failures.append('the daemon exited %d' % daemon.returncode)
        daemon = None
        if not os.path.exists(path):
            failures.append('the daemon unlinked the socket systemd owns')
        # The socket file outlives the daemon; nothing listening on it is no daemon at all.
        st = subprocess.run([exe, '--root', root, 'status'], capture_output=True, text=True,
                            env=env)
        if st.returncode == 0 or 'no daemon serves' not in st.stderr:
            failures.append('status with no daemon listening on the unit socket (%d): %s%s'
                            % (st.returncode, st.stdout, st.stderr))
        log = open(os.path.join(tmp, 'daemon.log')).read()
        if 'passed by systemd' not in log:
            failures.append('daemon log does not say it serves the passed socket:\n' + log)
        # A unit that runs serve without --socket: the daemon systemd starts is the unit's own
        # and serves the passed socket, though serve without --socket refuses to start beside a
        # daemon on the unit's socket (it would find that socket, its own, listening).
        os.unlink(path)
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(path)
        lsock.listen(16)
        daemon = subprocess.Popen(
            ['sh', '-c', 'exec 3<&%d; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' % lsock.fileno(),
             'sh', exe, '--root', root, 'serve', '--foreground',
             '--log', os.path.join(tmp, 'daemon2.log')],
            env=env, pass_fds=[lsock.fileno()], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        lsock.close()
        st = subprocess.run([exe, '--root', root, 'status', '--json', '--socket', path],
                            capture_output=True, text=True, env=env, timeout=120)
        status = json.loads(st.stdout) if st.returncode == 0 else {}
        if status.get('pid') != daemon.pid:
            failures.append('a socket-activated serve without --socket does not serve the '
                            'passed socket (%d): %s%s' % (st.returncode, st.stdout, st.stderr))
        subprocess.run([exe, '--root', root, 'stop', '--socket', path], capture_output=True,
                       env=env)
        if daemon.wait(timeout=120) != 0:
            failures.append('the socket-activated serve without --socket exited %d: %s'
                            % (daemon.returncode, daemon.stderr.read()))
        daemon = None
    finally:
        if daemon:
            daemon.kill()
            daemon.wait()
        stop_default_daemons(exe, root, env)
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
