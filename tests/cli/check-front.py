#!/usr/bin/env python3
# The front binary (cli/front.c): `projmodel` loads only libc and cJSON (readelf's NEEDED), so a
# discover through the daemon does not pay for SQLite, libuv and libinotifytools; through it,
# a discover with a daemon it starts answers the same bytes as the full binary in process
# (PROJMODEL_NO_DAEMON=1), and the runnables and `setup` name the front, not the full binary;
# copied alone, without the full binary, it says so (discover: a protocol line on stdout, stderr
# silent).
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ALLOWED = {'libc.so.6', 'libcjson.so.1'}
# A sanitizer build's runtimes (build-asan, the TSan job) come with every binary.
SANITIZER = re.compile(r'lib[atu]san\.so\.|libubsan\.so\.')


def main():
    exe, src = os.environ['PM_PROJMODEL'], os.environ['PM_SOURCE_ROOT']
    failures = []
    dyn = subprocess.run(['readelf', '-d', exe], check=True, capture_output=True,
                         text=True).stdout
    needed = {n for n in re.findall(r'\(NEEDED\)\s+Shared library: \[([^\]]+)\]', dyn)
              if not SANITIZER.match(n)}
    if not needed or not needed <= ALLOWED:
        failures.append('%s needs %s; only %s expected' % (exe, sorted(needed), sorted(ALLOWED)))

    tmp = tempfile.mkdtemp(prefix='pm-front-')
    repo = os.path.join(tmp, 'repo')
    runtime = os.path.join(tmp, 'run')
    os.makedirs(runtime, mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
    env.pop('PROJMODEL_NO_DAEMON', None)
    env.pop('PROJMODEL_COMMAND', None)
    try:
        shutil.copytree(os.path.join(src, 'examples', 'gn-monorepo'), repo,
                        ignore=shutil.ignore_patterns('out', 'rust-project.json', '*.db*'))
        arg = json.dumps({'path': os.path.join(repo, 'lib', 'engine', 'src', 'lib.rs')})
        p = subprocess.run([exe, 'discover', arg], env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=600)
        last = json.loads(p.stdout.splitlines()[-1]) if p.stdout else {}
        if p.returncode != 0 or p.stderr or last.get('kind') != 'finished':
            failures.append('discover through the daemon (%d): %r %r' % (p.returncode,
                                                                       p.stdout[-500:], p.stderr))
        local = subprocess.run([exe, 'discover', arg], env=dict(env, PROJMODEL_NO_DAEMON='1'),
                               capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               timeout=600)
        if local.returncode != 0 or local.stdout.splitlines()[-1:] != p.stdout.splitlines()[-1:]:
            failures.append('discover in process and through the daemon differ: %r / %r'
                            % (local.stdout[-300:], p.stdout[-300:]))
        for r in last.get('project', {}).get('runnables', []):
            if r.get('program') != exe:
                failures.append('runnable %s runs %r, not %s' % (r.get('kind'), r.get('program'),
                                                                  exe))
        setup = subprocess.run([exe, 'setup', '--root', repo, '--print', 'helix'],
                               env=env, capture_output=True, text=True,
                               stdin=subprocess.DEVNULL)
        if setup.returncode != 0 or exe not in setup.stdout or exe + '-full' in setup.stdout:
            failures.append('setup does not name %s (%d): %r %r' % (exe, setup.returncode,
                                                                     setup.stdout[-500:],
                                                                     setup.stderr[-500:]))
        subprocess.run([exe, 'stop', '--root', repo], env=env, capture_output=True)

        alone = os.path.join(tmp, 'bin', 'projmodel')
        os.makedirs(os.path.dirname(alone))
        shutil.copy(exe, alone)
        p = subprocess.run([alone, 'discover', arg], env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL)
        msg = json.loads(p.stdout.splitlines()[-1]) if p.stdout.strip() else {}
        if p.returncode != 1 or p.stderr or msg.get('kind') != 'error' or \
                'full projmodel binary' not in msg.get('error', ''):
            failures.append('discover without the full binary (%d): %r %r' % (p.returncode,
                                                                             p.stdout, p.stderr))
        p = subprocess.run([alone, '--version'], env=env, capture_output=True, text=True)
        if p.returncode != 1 or 'full projmodel binary' not in p.stderr:
            failures.append('--version without the full binary (%d): %r %r' % (p.returncode,
                                                                              p.stdout, p.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print('FAIL: ' + f)
    print('ok' if not failures else '%d failures' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
