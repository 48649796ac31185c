#!/usr/bin/env python3
# The systemd user units (data/systemd/) pass `systemd-analyze --user verify` (and a planted
# error fails it), and the daemon serves a listening socket passed the systemd way (fd 3,
# LISTEN_PID, LISTEN_FDS): it neither re-binds nor unlinks the socket systemd owns.
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
        path = os.path.join(runtime, 'projmodel', 'repo.sock')
        os.makedirs(os.path.dirname(path), mode=0o700)
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
        log = open(os.path.join(tmp, 'daemon.log')).read()
        if 'passed by systemd' not in log:
            failures.append('daemon log does not say it serves the passed socket:\n' + log)
    finally:
        if daemon:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
