#!/usr/bin/env python3
# Progress on a terminal (docs/cli.md "Progress"): `projmodel export` and `dump` on a copy of
# examples/gn-monorepo that was never built, with stderr a real pseudo-terminal (pty), print the
# build tool's phase, the crates parsed, the proc macro built and what was written; with stderr
# a pipe the same runs print nothing there.
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

import checklib


def copy_example(src, dst):
    shutil.copytree(os.path.join(src, 'examples', 'gn-monorepo'), dst,
                    ignore=shutil.ignore_patterns('out', 'rust-project.json'))


def run_tty(argv, env, cwd):
    """Run @argv with stderr on a new pty; return (status, what the terminal received)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: every writer of the terminal closed it
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return p.wait(), b''.join(chunks).decode('utf-8', 'replace').replace('\r\n', '\n')


def run_pipe(argv, env, cwd):
    p = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode('utf-8', 'replace')


def same_json(path, repo):
    """@path's project with @repo spelled R and the dylib paths (content hashes of two
    separate builds) left out, for comparing two exports."""
    p = json.loads(open(path).read().replace(repo, 'R'))
    for c in p.get('crates', []):
        c.pop('proc_macro_dylib_path', None)
    return p


def in_order(text, needles):
    """The needles that are missing or out of order in @text, as one message, or ''."""
    at = 0
    for n in needles:
        i = text.find(n, at)
        if i < 0:
            return 'missing or out of order: %r' % n
        at = i + len(n)
    return ''


def main():
    src, exe = os.environ['PM_SOURCE_ROOT'], os.environ['PM_PROJMODEL']
    tmp = tempfile.mkdtemp(prefix='pm-tty-')
    failures = []
    try:
        env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, 'cache'))
        env.pop('PROJMODEL_TRACE', None)
        tty_repo, pipe_repo = os.path.join(tmp, 'tty'), os.path.join(tmp, 'pipe')
        copy_example(src, tty_repo)
        copy_example(src, pipe_repo)

        # A first export on a terminal: every phase, in order.
        out = os.path.join(tmp, 'tty.json')
        argv = [exe, 'export', '--root', tty_repo, '--db', os.path.join(tmp, 'tty.db'), '-o', out]
        code, text = run_tty(argv, env, tty_repo)
        if code != 0:
            failures.append('export on a tty exited %d: %s' % (code, text))
        why = in_order(text, [
            'projmodel export: running gn gen ',
            'projmodel export: gn: parsed 10 crates\n',
            "projmodel export: building 1 proc macro in '%s/out'\n" % tty_repo,
            'projmodel export: built 1 proc macro\n',
            "projmodel export: wrote 10 crates to '%s'\n" % out,
        ])
        if why:
            failures.append('first export on a tty: %s in:\n%s' % (why, text))
        # Again: nothing to build or write, and it says so.
        code, text = run_tty(argv, env, tty_repo)
        why = in_order(text, [
            'projmodel export: running gn gen ',
            "projmodel export: '%s' is up to date (10 crates)\n" % out,
        ])
        if code != 0 or why or 'proc macro' in text:
            failures.append('second export on a tty (%d): %s in:\n%s' % (code, why, text))
        # dump's first refresh on a terminal: the phase and the crates parsed.
        code, text = run_tty([exe, 'dump', '--root', tty_repo, '--db',
                              os.path.join(tmp, 'dump.db')], env, tty_repo)
        why = in_order(text, ['projmodel dump: running gn gen ',
                              'projmodel dump: gn: parsed 10 crates\n'])
        if code != 0 or why:
            failures.append('dump on a tty (%d): %s in:\n%s' % (code, why, text))

        # The same on a pipe, on a tree never built either: stderr stays empty.
        pout = os.path.join(tmp, 'pipe.json')
        for argv in ([exe, 'export', '--root', pipe_repo, '--db', os.path.join(tmp, 'p.db'),
                      '-o', pout],
                     [exe, 'export', '--root', pipe_repo, '--db', os.path.join(tmp, 'p.db'),
                      '-o', pout],
                     [exe, 'dump', '--root', pipe_repo, '--db', os.path.join(tmp, 'pd.db')]):
            code, err = run_pipe(argv, env, pipe_repo)
            if code != 0 or err != '':
                failures.append('%s on a pipe exited %d with stderr %r' % (argv[1], code, err))
        if not os.path.isfile(pout) or not os.path.isfile(out):
            failures.append('export wrote no file')
        elif same_json(pout, pipe_repo) != same_json(out, tty_repo):
            failures.append('the terminal changed what export wrote')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
