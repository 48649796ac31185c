#!/usr/bin/env python3
# Every global symbol defined by the built static libraries is pm_/pm__ prefixed (public names pm_,
# internal pm__). The command's objects (cli/, built as a library for this check) are a program,
# not a library: no other module links them and include/projmodel/ declares none of them, so
# every global there is internal (pm__), and its one other global is the entry point, main.
# Usage: check-symbols.py NM CC LIB.a... [--program LIB.a...]; it first proves itself on objects
# with planted bad symbols, then checks the libraries.
import os
import subprocess
import sys
import tempfile

# AddressSanitizer's one-definition-rule indicators: one per instrumented global, named after it
# ("__odr_asan.pm__methods"); the global itself is what is checked.
SANITIZER_ALIAS = ('__odr_asan.', '__odr_asan_gen_')


def bad_symbols(nm, paths, program=False):
    out = subprocess.run([nm, '-g', '--defined-only'] + paths, check=True,
                         capture_output=True, text=True).stdout
    bad, where = [], None
    for line in out.splitlines():
        if line.endswith(':') and ' ' not in line:
            where = line[:-1]
            continue
        parts = line.split()
        if len(parts) != 3:
            continue
        name = parts[2]
        for alias in SANITIZER_ALIAS:
            if name.startswith(alias):
                name = name[len(alias):]
        if program and name != 'main' and not name.startswith('pm__'):
            bad.append((where or paths[0], name, "a program's are internal: pm__"))
        elif not program and not name.startswith('pm_'):
            bad.append((where or paths[0], name, 'pm_ or pm__'))
    return bad


def planted(tmp, cc, name, source):
    src = os.path.join(tmp, name + '.c')
    obj = os.path.join(tmp, name + '.o')
    with open(src, 'w') as f:
        f.write(source)
    subprocess.run([cc, '-c', '-o', obj, src], check=True)
    return obj


def self_test(nm, cc):
    with tempfile.TemporaryDirectory() as tmp:
        lib = planted(tmp, cc, 'planted',
                      'int planted_bad_symbol(void);\nint pm_good_symbol(void);\n'
                      'static int local_is_fine(void) { return 2; }\n'
                      'int planted_bad_symbol(void) { return local_is_fine(); }\n'
                      'int pm_good_symbol(void) { return 0; }\n')
        bad = bad_symbols(nm, [lib])
        if [b[1] for b in bad] != ['planted_bad_symbol']:
            print('self-test: the check missed the planted symbol or flagged a good one: %r' % bad)
            return False
        # A program: main and pm__ names pass; a public pm_ name and an unprefixed one do not.
        prog = planted(tmp, cc, 'program',
                       'int pm__internal(void);\nint pm_public(void);\nint bad_global = 1;\n'
                       'int pm__internal(void) { return 0; }\n'
                       'int pm_public(void) { return 1; }\n'
                       'int main(void) { return pm__internal(); }\n')
        bad = sorted(b[1] for b in bad_symbols(nm, [prog], program=True))
        if bad != ['bad_global', 'pm_public']:
            print('self-test: in a program, the check flagged %r, not bad_global and pm_public'
                  % bad)
            return False
        # main is the program's alone: in a library it is unprefixed like any other name.
        if sorted(b[1] for b in bad_symbols(nm, [prog])) != ['bad_global', 'main']:
            print('self-test: the check let a library define main')
            return False
    return True


def main():
    nm, cc, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    libs = args[:args.index('--program')] if '--program' in args else args
    programs = args[len(libs) + 1:]
    if not libs and not programs:
        print('usage: check-symbols.py NM CC LIB.a... [--program LIB.a...]')
        return 2
    if not self_test(nm, cc):
        return 1
    bad = (bad_symbols(nm, libs) if libs else []) + \
        (bad_symbols(nm, programs, program=True) if programs else [])
    for b in bad:
        print('global symbol without its prefix: %s: %s (%s)' % b)
    if bad:
        return 1
    print('%d libraries, %d programs: every global symbol is prefixed' % (len(libs), len(programs)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
