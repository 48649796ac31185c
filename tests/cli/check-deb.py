#!/usr/bin/env python3
# The Debian package (debian/) end to end: dpkg-buildpackage -us -uc -b on a clean copy of the
# tree, dpkg-deb -c lists every file debian/install ships, dpkg installs the .deb into a
# temporary root, and the installed projmodel runs: --version, export on a copy of
# examples/gn-monorepo, its man page, bash completion and systemd user units; the installed VS
# Code extension is self-contained: its daemon client, run by node from the installed folder
# alone, loads its own vscode-jsonrpc and talks to a daemon the installed projmodel starts.
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import checklib

# What the package must ship (debian/install), as dpkg-deb -c names it.
SHIPPED = [
    'usr/bin/projmodel',
    'usr/libexec/projmodel/projmodel-full',
    'usr/share/man/man1/projmodel.1.gz',
    'usr/share/bash-completion/completions/projmodel',
    'usr/share/zsh/vendor-completions/_projmodel',
    'usr/share/fish/vendor_completions.d/projmodel.fish',
    'usr/lib/systemd/user/projmodel@.service',
    'usr/lib/systemd/user/projmodel@.socket',
    'usr/share/emacs/site-lisp/projmodel.el',
    'usr/share/projmodel/vscode/package.json',
    'usr/share/projmodel/vscode/extension.js',
    'usr/share/projmodel/vscode/discover.js',
    'usr/share/projmodel/vscode/daemon.js',
    'usr/share/projmodel/vscode/graph.js',
    'usr/share/projmodel/vscode/vendor/vscode-jsonrpc/node.js',
    'usr/share/projmodel/vscode/vendor/vscode-jsonrpc/lib/node/main.js',
    'usr/share/projmodel/vscode/vendor/vscode-jsonrpc/lib/common/connection.js',
    'usr/share/projmodel/vscode/vendor/vscode-jsonrpc/License.txt',
    'usr/share/doc/projmodel/copyright',
]
# The shared libraries projmodel links: dh_shlibdeps must have put them in Depends.
DEPENDS = ['libc6', 'libuv1', 'libcjson1', 'libsqlite3-0', 'libinotifytools0']


class Failed(Exception):
    pass


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise Failed('%s exited %d:\n%s%s' % (' '.join(argv), p.returncode, p.stdout[-3000:],
                                              p.stderr[-3000:]))
    return p.stdout


def clean_copy(src, dst):
    # The files git tracks or would track (.gitignore drops build*/ and the examples' outputs),
    # as they are in the working tree, so uncommitted edits to debian/ are what gets built.
    p = subprocess.run(['git', '-c', 'safe.directory=*', '-C', src, 'ls-files', '-z',
                        '--cached', '--others', '--exclude-standard'], capture_output=True)
    if p.returncode != 0:
        raise Failed('%s: not a git checkout (the package is built from the files git tracks): %s'
                     % (src, p.stderr.decode(errors='replace').strip()))
    for rel in p.stdout.decode().split('\0'):
        s = os.path.join(src, rel)
        if not rel or not os.path.lexists(s):
            continue  # deleted in the working tree
        d = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(s):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d)  # keeps debian/rules executable


def build_deb(src, tmp):
    tree = os.path.join(tmp, 'projmodel')
    clean_copy(src, tree)
    # nocheck: debian/rules runs no tests anyway (CI runs them, scripts/test.sh); noddebs: no
    # -dbgsym package, nothing here needs it.
    env = dict(os.environ, DEB_BUILD_OPTIONS='nocheck noddebs parallel=2')
    log = os.path.join(tmp, 'dpkg-buildpackage.log')
    with open(log, 'w') as fh:
        rc = subprocess.run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=tree, env=env,
                            stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if rc != 0:
        raise Failed('dpkg-buildpackage -us -uc -b exited %d:\n%s' % (rc, open(log).read()[-6000:]))
    debs = glob.glob(os.path.join(tmp, 'projmodel_*.deb'))
    if len(debs) != 1:
        raise Failed('dpkg-buildpackage made %r, expected one projmodel_*.deb' % debs)
    return debs[0]


def check_contents(deb, failures):
    listing = run(['dpkg-deb', '-c', deb])
    modes = {}
    for line in listing.splitlines():
        fields = line.split(None, 5)
        path = fields[5].split(' -> ')[0]
        modes[path[2:] if path.startswith('./') else path] = fields[0]
    for f in SHIPPED:
        if f not in modes:
            failures.append('dpkg-deb -c does not list ' + f)
    if not modes.get('usr/bin/projmodel', '').startswith('-rwxr-xr-x'):
        failures.append('usr/bin/projmodel is not -rwxr-xr-x: %r' % modes.get('usr/bin/projmodel'))
    for f in modes:
        if f and f != '/' and not f.startswith('usr/'):
            failures.append('the package ships a file outside /usr: ' + f)
        if '/test' in f or 'node_modules' in f or f.startswith('usr/local'):
            failures.append('the package ships ' + f)
    depends = run(['dpkg-deb', '-f', deb, 'Depends'])
    for lib in DEPENDS:
        if not re.search(r'(^|[ ,])%s([ (,:]|$)' % re.escape(lib), depends):
            failures.append('Depends lacks %s: %s' % (lib, depends.strip()))


def install(deb, tmp):
    # dpkg itself installs the package, into a temporary root: its own admin directory seeded
    # with this machine's package status, so Depends are checked against what is installed.
    # --force-not-root lets it run without root; as root it leaves the system's /usr and dpkg
    # database alone all the same. The package has no maintainer scripts (dpkg would have to
    # chroot into the root to run them). --path-include undoes a dpkg.cfg.d that drops
    # /usr/share/man or /usr/share/doc (container images do).
    root = os.path.join(tmp, 'root')
    admin = os.path.join(tmp, 'dpkg')
    for d in ['info', 'updates', 'triggers']:
        os.makedirs(os.path.join(admin, d))
    os.makedirs(root)
    shutil.copy('/var/lib/dpkg/status', os.path.join(admin, 'status'))
    run(['dpkg', '--admindir', admin, '--instdir', root, '--force-not-root',
         '--path-include=/*', '--install', deb])
    status = run(['dpkg-query', '--admindir', admin, '-W', '-f', '${Status}', 'projmodel'])
    if status != 'install ok installed':
        raise Failed('dpkg-query says projmodel is %r after dpkg --install' % status)
    return root


def check_runs(root, tmp, failures):
    exe = os.path.join(root, 'usr', 'bin', 'projmodel')
    want = run([os.environ['PM_PROJMODEL'], '--version'])
    got = run([exe, '--version'])
    if got != want or not got.startswith('projmodel '):
        failures.append('installed projmodel --version printed %r, the build tree %r' % (got, want))

    repo = os.path.join(tmp, 'repo')
    shutil.copytree(os.path.join(os.environ['PM_SOURCE_ROOT'], 'examples', 'gn-monorepo'), repo,
                    ignore=shutil.ignore_patterns('out', 'rust-project.json', '*.db*'))
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
    p = subprocess.run([exe, 'export', '--root', repo, '--db', os.path.join(tmp, 'model.db')],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if p.returncode != 0 or p.stderr:
        raise Failed('installed projmodel export exited %d: %s' % (p.returncode, p.stderr))
    project = json.loads(p.stdout)
    crates = project.get('crates') or []
    names = {c.get('display_name') for c in crates}
    for n in ['engine', 'server', 'describe_derive']:
        if n not in names:
            failures.append('export has no crate %s: %r' % (n, sorted(map(str, names))))
    for c in crates:
        if not os.path.isfile(c.get('root_module', '')):
            failures.append('crate %s: root_module %r is not a file' % (c.get('display_name'),
                                                                        c.get('root_module')))
        if c.get('is_proc_macro') and not os.path.isfile(c.get('proc_macro_dylib_path', '')):
            failures.append('proc macro %s: dylib %r was not built' % (c.get('display_name'),
                                                                        c.get('proc_macro_dylib_path')))
    # The runnables call back into the binary that wrote them: the installed one.
    for r in project.get('runnables', []):
        if r.get('program') != exe:
            failures.append('runnable %s runs %r, not %s' % (r.get('kind'), r.get('program'), exe))

    man = run(['man', '-l', os.path.join(root, 'usr/share/man/man1/projmodel.1.gz')],
              env=dict(os.environ, MANWIDTH='100'))
    if 'projmodel export' not in man:
        failures.append('installed projmodel(1) does not render the export command')
    got = run(['bash', '-c', 'source "$1"; COMP_WORDS=(projmodel ex); COMP_CWORD=1; _projmodel; '
               'printf "%s\\n" "${COMPREPLY[@]}"', 'x',
               os.path.join(root, 'usr/share/bash-completion/completions/projmodel')]).split()
    if got != ['export']:
        failures.append('installed bash completion completes "projmodel ex" to %r' % got)
    run(['zsh', '-n', os.path.join(root, 'usr/share/zsh/vendor-completions/_projmodel')])
    run(['fish', '-n', os.path.join(root, 'usr/share/fish/vendor_completions.d/projmodel.fish')])


# Run by node with the installed extension's folder, the repo and the installed projmodel: the
# extension's own daemon client starts the daemon, waits for its first model, prints the status
# and which vscode-jsonrpc files it loaded, and stops the daemon. The client may report idle
# more than once (its first status, then each refresh's end: editors/vscode/daemon.js): only the
# first one stops the daemon, or a later one's request met the daemon after its 'shutdown'.
CLIENT = r'''
const [ext, repo, exe] = process.argv.slice(1);
const { DaemonClient } = require(ext + '/daemon.js');
const c = new DaemonClient({ root: repo, projmodel: exe, reconnect: false });
const fail = (e) => { console.error(e && e.stack || String(e)); process.exit(1); };
let stopping = false;
setTimeout(() => fail(new Error('no idle state within 150 s: ' + JSON.stringify(c.state))), 150000).unref();
c.on('state', async (s) => {
  if (s.state === 'error') fail(new Error(s.message));
  if (s.state !== 'idle' || stopping) return;
  stopping = true;
  try {
    const st = await c.request('projmodel/status');
    await c.stopDaemon();
    c.dispose();
    const rpc = Object.keys(require.cache).filter((f) => f.includes('vscode-jsonrpc'));
    console.log(JSON.stringify({ crates: st.crates, root: st.root, rpc }));
  } catch (e) { fail(e); }
});
c.start().catch(fail);
'''


def check_vscode(root, tmp, failures):
    node = shutil.which('node')
    if not node:
        raise Failed('node is not installed (scripts/setup.sh installs it): cannot run the installed extension')
    ext = os.path.join(root, 'usr', 'share', 'projmodel', 'vscode')
    repo = os.path.join(tmp, 'repo')
    runtime = os.path.join(tmp, 'run-vscode')
    os.makedirs(runtime, mode=0o700)
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime, XDG_CACHE_HOME=os.path.join(tmp, 'cache-vscode'))
    env.pop('NODE_PATH', None)
    p = subprocess.run([node, '-e', CLIENT, ext, repo, os.path.join(root, 'usr', 'bin', 'projmodel')],
                       capture_output=True, text=True, env=env, cwd=tmp, stdin=subprocess.DEVNULL,
                       timeout=200)
    if p.returncode != 0:
        raise Failed('the installed extension\'s daemon client failed (%d): %s%s'
                     % (p.returncode, p.stdout[-2000:], p.stderr[-3000:]))
    got = json.loads(p.stdout.strip().splitlines()[-1])
    if got['root'] != repo or got['crates'] < 10:
        failures.append('the installed extension saw %r, expected the root %s with its crates'
                        % (got, repo))
    vendored = os.path.join(ext, 'vendor', 'vscode-jsonrpc') + os.sep
    if not got['rpc'] or not all(f.startswith(vendored) for f in got['rpc']):
        failures.append('the installed extension loaded vscode-jsonrpc from %r, not only %s'
                        % (got['rpc'], vendored))


def check_units(root, tmp, failures):
    units = os.path.join(root, 'usr', 'lib', 'systemd', 'user')
    service = open(os.path.join(units, 'projmodel@.service')).read()
    if not re.search(r'^ExecStart=/usr/bin/projmodel ', service, re.M):
        failures.append('projmodel@.service does not start /usr/bin/projmodel')
    # verify checks that ExecStart's binary exists: point it at the installed one.
    copy = os.path.join(tmp, 'units')
    runtime = os.path.join(tmp, 'run')
    os.makedirs(copy)
    os.makedirs(runtime, mode=0o700)
    shutil.copy(os.path.join(units, 'projmodel@.socket'), copy)
    with open(os.path.join(copy, 'projmodel@.service'), 'w') as fh:
        fh.write(service.replace('ExecStart=/usr/bin/projmodel ',
                                 'ExecStart=%s ' % os.path.join(root, 'usr/bin/projmodel')))
    p = subprocess.run(['systemd-analyze', '--user', 'verify',
                        os.path.join(copy, 'projmodel@home-me-src-mono.socket'),
                        os.path.join(copy, 'projmodel@home-me-src-mono.service')],
                       capture_output=True, text=True, cwd=copy,
                       env=dict(os.environ, XDG_RUNTIME_DIR=runtime))
    if p.returncode != 0 or (p.stdout + p.stderr).strip():
        failures.append('systemd-analyze verify of the packaged units (%d): %s'
                        % (p.returncode, p.stdout + p.stderr))


def main():
    tmp = tempfile.mkdtemp(prefix='pm-deb-')
    failures = []
    try:
        deb = build_deb(os.environ['PM_SOURCE_ROOT'], tmp)
        check_contents(deb, failures)
        root = install(deb, tmp)
        check_runs(root, tmp, failures)
        check_vscode(root, tmp, failures)
        check_units(root, tmp, failures)
    except Failed as e:
        failures.append(str(e))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
