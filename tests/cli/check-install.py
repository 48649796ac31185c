#!/usr/bin/env python3
# meson install into a temporary root: the binary, projmodel(1) and the bash/zsh/fish
# completions must list every option each command's --help lists (one source: cli/options.c),
# and the completions must actually complete in the real shells.
import os
import re
import shutil
import sys
import tempfile

import checklib
from checklib import run


def main():
    build = os.environ['PM_BUILD_ROOT']
    tmp = tempfile.mkdtemp(prefix='pm-install-')
    failures = []
    try:
        run(['meson', 'install', '-C', build, '--no-rebuild', '--quiet', '--destdir', tmp])
        prefix = next(os.path.join(dp) for dp, dn, fn in os.walk(tmp) if 'bin' in dn)
        exe = os.path.join(prefix, 'bin', 'projmodel')
        share = os.path.join(prefix, 'share')
        version = run([exe, '--version'])
        if not version.startswith('projmodel '):
            failures.append('installed projmodel --version printed %r' % version)
        man = open(os.path.join(share, 'man', 'man1', 'projmodel.1')).read()
        bash = os.path.join(share, 'bash-completion', 'completions', 'projmodel')
        zsh = os.path.join(share, 'zsh', 'vendor-completions', '_projmodel')
        fish = os.path.join(share, 'fish', 'vendor_completions.d', 'projmodel.fish')
        zsh_text = open(zsh).read()
        run(['zsh', '-n', zsh])
        rendered = run(['man', '-l', os.path.join(share, 'man', 'man1', 'projmodel.1')],
                       env=dict(os.environ, MANWIDTH='200', MAN_KEEP_FORMATTING='0'))
        for f in ['emacs/site-lisp/projmodel.el', 'projmodel/vscode/package.json',
                  'projmodel/vscode/extension.js']:
            if not os.path.isfile(os.path.join(share, f)):
                failures.append('not installed: share/' + f)

        top = run([exe, '--help'])
        commands = re.findall(r'^  (\w+)', top.split('commands:')[1], re.M)
        if len(commands) < 5:
            failures.append('projmodel --help lists too few commands: %r' % commands)
        # The runnables rust-analyzer runs are commands like the others (docs/cli.md).
        for cmd in ('check', 'test', 'run'):
            if cmd not in commands:
                failures.append('projmodel --help does not list %s' % cmd)
        top_bash = run(['bash', '-c', 'source "$1"; COMP_WORDS=(projmodel ""); COMP_CWORD=1; '
                        '_projmodel; printf "%s\\n" "${COMPREPLY[@]}"', 'x', bash]).split()
        for cmd in commands:
            if cmd not in top_bash:
                failures.append('bash does not complete the command %s' % cmd)
            if '.SS %s\n' % cmd not in man:
                failures.append('man page has no section for %s' % cmd)
            helptext = run([exe, cmd, '--help'])
            opts = re.findall(r'^  --([a-z][a-z0-9-]*)', helptext, re.M)
            if not opts:
                failures.append('%s --help lists no options' % cmd)
            section = man.split('.SS %s\n' % cmd, 1)[-1].split('.SS ', 1)[0]
            got_bash = run(['bash', '-c', 'source "$1"; COMP_WORDS=(projmodel "$2" --); '
                            'COMP_CWORD=2; _projmodel; printf "%s\\n" "${COMPREPLY[@]}"',
                            'x', bash, cmd]).split()
            got_fish = [line.split('\t')[0] for line in run(
                ['fish', '-N', '-c', 'source $argv[1]; complete -C "projmodel $argv[2] --"',
                 fish, cmd]).splitlines()]
            for o in opts:
                if not re.search(r'^\.B \\-\\-%s( |$)' % re.escape(o.replace('-', '\\-')),
                                 section, re.M):
                    failures.append('man page lacks %s --%s' % (cmd, o))
                if '--' + o not in rendered:
                    failures.append('rendered man page lacks --%s' % o)
                if '--' + o not in got_bash:
                    failures.append('bash does not complete %s --%s' % (cmd, o))
                if '--' + o not in got_fish:
                    failures.append('fish does not complete %s --%s' % (cmd, o))
                if "'--%s[" % o not in zsh_text.split('        %s) ' % cmd, 1)[-1].split('\n')[0]:
                    failures.append('zsh completion lacks %s --%s' % (cmd, o))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return checklib.report(failures)


if __name__ == '__main__':
    sys.exit(main())
