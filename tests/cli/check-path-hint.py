#!/usr/bin/env python3
# The README's first command (scripts/demo.sh) ends with scripts/path-hint.sh: with PATH lacking
# projmodel it must print the one line that makes `projmodel` runnable by name, and that line,
# run as printed in a shell, must do it. Runs on a fresh build directory of its own (the line
# reconfigures the prefix of the build it names; the test's own build is not to be touched),
# with HOME in a temporary directory, so ~/.local is the test's.
import os
import re
import shutil
import subprocess
import sys
import tempfile

import checklib
from checklib import run

EXPECTED = ('meson configure build -Dprefix="$HOME/.local" && meson install -C build && '
            'export PATH="$HOME/.local/bin:$PATH"')


def main():
    src = os.environ['PM_SOURCE_ROOT']
    hint = os.path.join(src, 'scripts', 'path-hint.sh')
    failures = []
    tmp = tempfile.mkdtemp(prefix='pm-path-hint-')
    try:
        home = os.path.join(tmp, 'home')
        os.mkdir(home)
        # PATH without any directory that holds a projmodel (meson test's own, a user's install).
        path = os.pathsep.join(d for d in os.environ.get('PATH', '').split(os.pathsep)
                               if d and not os.access(os.path.join(d, 'projmodel'), os.X_OK))
        env = dict(os.environ, HOME=home, PATH=path)
        if shutil.which('projmodel', path=path):
            failures.append('PATH still finds projmodel')

        demo = open(os.path.join(src, 'scripts', 'demo.sh')).read()
        calls = [line for line in demo.splitlines()
                 if not line.lstrip().startswith('#') and 'scripts/path-hint.sh' in line]
        if not calls:
            failures.append('scripts/demo.sh does not run scripts/path-hint.sh')

        # The build directory as demo.sh leaves it, named `build` relative to the shell's cwd.
        run(['meson', 'setup', os.path.join(tmp, 'build'), src, '--buildtype=plain',
             '-Dtests=false', '-Dbench=false'], env=env)
        out = run(['bash', hint, 'build'], cwd=tmp, env=env)
        lines = [line.strip() for line in out.splitlines()]
        if EXPECTED not in lines:
            failures.append('path-hint.sh did not print the line %r; it printed:\n%s'
                            % (EXPECTED, out))
        commands = [line for line in lines if line.startswith('meson ')]
        if len(commands) != 1:
            failures.append('path-hint.sh printed %d command lines, not one' % len(commands))
        else:
            # The line as printed, in one shell, then projmodel by name in that shell.
            got = subprocess.run(['bash', '-c', commands[0] + '\ncommand -v projmodel\n'
                                  'projmodel --version\n'], cwd=tmp, env=env,
                                 capture_output=True, text=True)
            printed = got.stdout.splitlines()
            want = os.path.join(home, '.local', 'bin', 'projmodel')
            if got.returncode != 0:
                failures.append('the printed line, then projmodel --version, exited %d:\n%s%s'
                                % (got.returncode, got.stdout[-2000:], got.stderr[-2000:]))
            elif want not in printed or not printed[-1].startswith('projmodel '):
                failures.append('after the printed line, projmodel is not %s running --version: %r'
                                % (want, printed[-3:]))
            for f in ['share/man/man1/projmodel.1', 'share/bash-completion/completions/projmodel']:
                if not os.path.isfile(os.path.join(home, '.local', f)):
                    failures.append('the printed line did not install ~/.local/' + f)

        # Once projmodel is on PATH, nothing to say.
        on_path = dict(env, PATH=os.path.join(home, '.local', 'bin') + os.pathsep + path)
        again = run(['bash', hint, 'build'], cwd=tmp, env=on_path)
        if again:
            failures.append('path-hint.sh printed %r with projmodel on PATH' % again)
        if not re.search(r'usage', subprocess.run(['bash', hint], capture_output=True,
                                                  text=True, env=env).stderr):
            failures.append('path-hint.sh without BUILD_DIR printed no usage')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
