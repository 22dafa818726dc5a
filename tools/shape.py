#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""shape.py - the house rules on size (HACKING.md): no function in the
library over FUNC_MAX lines, no file over FILE_MAX lines. A function is
found by its opening brace alone on a line (the project's style), at any
indentation (C++ methods too); its length runs from the first line of its
signature to its closing brace. Prints each breach; exits 1 if any."""
import re
import sys

FUNC_MAX = 120
FILE_MAX = 800
CONTROL = re.compile(r'^\s*(if|for|while|switch|do|else|struct|union|enum|class|namespace|extern|typedef)\b')


def functions(lines):
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == '{':
            indent = line[:len(line) - len(line.lstrip())]
            j = i - 1
            while j >= 0 and lines[j].strip() and not lines[j].rstrip().endswith((';', '}', '*/')) \
                    and not lines[j].lstrip().startswith(('#', '//', '/*', '*')):
                j -= 1
            sig = ' '.join(x.strip() for x in lines[j + 1:i])
            k = i + 1
            while k < len(lines) and lines[k] != indent + '}' and not lines[k].startswith(indent + '};'):
                k += 1
            m = re.search(r'([A-Za-z_][A-Za-z0-9_:~]*)\s*\(', sig)
            if m and not CONTROL.match(sig) and '=' not in sig.split('(')[0]:
                yield m.group(1), j + 2, k - j
            if m and not CONTROL.match(sig):
                i = k
        i += 1


def main(paths):
    bad = 0
    for p in paths:
        lines = open(p, encoding='utf-8', errors='replace').read().split('\n')
        if len(lines) - 1 > FILE_MAX:
            print(f'{p}: {len(lines) - 1} lines (at most {FILE_MAX})')
            bad += 1
        for name, line, n in functions(lines):
            if n > FUNC_MAX:
                print(f'{p}:{line}: {name}() is {n} lines (at most {FUNC_MAX})')
                bad += 1
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
