# What the Python checks in tests/cli share: how they run a command and how they report. meson
# runs each as `python3 tests/cli/check-NAME.py`, so this folder is first on sys.path and
# `import checklib` finds this file (tests/meson.build's PYTHONDONTWRITEBYTECODE keeps
# __pycache__ out of the tree).

import subprocess


def run(argv, **kw):
    """Run argv (subprocess.run's keywords in kw); its stdout as text. Raises on a failure."""
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw).stdout


def report(failures):
    """Print one 'FAIL: ' line per failure, then 'ok' or their count; the exit status."""
    for f in failures:
        print('FAIL: ' + f)
    print('ok' if not failures else '%d failures' % len(failures))
    return 1 if failures else 0
