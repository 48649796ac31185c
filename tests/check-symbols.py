#!/usr/bin/env python3
# Every global symbol defined by the built static libraries is pm_/pm__ prefixed (public names pm_,
# internal pm__). Usage: check-symbols.py NM CC LIB.a...; it first proves itself
# on an object with a planted unprefixed symbol, then checks the libraries.
import os
import subprocess
import sys
import tempfile

# AddressSanitizer's one-definition-rule indicators: one per instrumented global, named after it
# ("__odr_asan.pm__methods"); the global itself is what is checked.
SANITIZER_ALIAS = ('__odr_asan.', '__odr_asan_gen_')


def bad_symbols(nm, paths):
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
        if not name.startswith('pm_'):
            bad.append('%s: %s' % (where or paths[0], name))
    return bad


def self_test(nm, cc):
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'planted.c')
        obj = os.path.join(tmp, 'planted.o')
        with open(src, 'w') as f:
            f.write('int planted_bad_symbol(void);\nint pm_good_symbol(void);\n'
                    'static int local_is_fine(void) { return 2; }\n'
                    'int planted_bad_symbol(void) { return local_is_fine(); }\n'
                    'int pm_good_symbol(void) { return 0; }\n')
        subprocess.run([cc, '-c', '-o', obj, src], check=True)
        bad = bad_symbols(nm, [obj])
        if len(bad) != 1 or not bad[0].endswith('planted_bad_symbol'):
            print('self-test: the check missed the planted symbol or flagged a good one: %r' % bad)
            return False
    return True


def main():
    nm, cc, libs = sys.argv[1], sys.argv[2], sys.argv[3:]
    if not libs:
        print('usage: check-symbols.py NM CC LIB.a...')
        return 2
    if not self_test(nm, cc):
        return 1
    bad = bad_symbols(nm, libs)
    for b in bad:
        print('global symbol without the pm_ prefix: %s' % b)
    if bad:
        return 1
    print('%d libraries: every global symbol is pm_-prefixed' % len(libs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
