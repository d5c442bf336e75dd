#!/usr/bin/env python3
"""Writes stub shared libraries (assembly + version script) defining exactly the symbols that
the carried libraries import from libraries we do not carry. Usage: stubs.py OUTDIR REAL_LIB... -- STUB_LIB..."""
import subprocess, sys, os, re
out = sys.argv[1]
sep = sys.argv.index('--')
reals, stubs = sys.argv[2:sep], sys.argv[sep + 1:]
def nm(args, path):
    return subprocess.run(['nm', '-D'] + args + [path], capture_output=True, text=True, check=True).stdout
undefined = set()
for r in reals:
    for line in nm(['--undefined-only'], r).splitlines():
        name = line.split()[-1]
        undefined.add(name.split('@')[0])
for s in stubs:
    real = os.path.realpath(s)
    soname = re.search(r'SONAME.*\[(.*)\]', subprocess.run(['readelf', '-d', real], capture_output=True, text=True).stdout).group(1)
    asm, versions = [], {}
    for line in nm(['--defined-only', '-S'], real).splitlines():
        parts = line.split()
        if len(parts) == 4: _, size, kind, name = parts
        elif len(parts) == 3: _, kind, name = parts; size = '0'
        else: continue
        base, _, ver = name.partition('@')
        ver = ver.lstrip('@')
        if base not in undefined: continue
        if ver and ver == base: continue
        if ver: versions.setdefault(ver, set()).add(base)
        if kind in 'TtWiI':
            asm.append(f'.text\n.globl {base}\n.type {base},@function\n{base}:\n  xor %eax, %eax\n  ret\n')
        else:
            n = max(int(size, 16), 8)
            asm.append(f'.data\n.globl {base}\n.type {base},@object\n.size {base},{n}\n{base}:\n  .zero {n}\n')
    path = os.path.join(out, soname)
    with open(path + '.s', 'w') as f: f.write(''.join(asm))
    cmd = ['gcc', '-shared', '-nostdlib', '-Wl,-soname,' + soname, '-o', path, path + '.s']
    if versions:
        with open(path + '.map', 'w') as f:
            for v, names in versions.items():
                f.write(v + ' { global: ' + '; '.join(sorted(names)) + '; };\n')
        cmd.insert(2, '-Wl,--version-script=' + path + '.map')
    subprocess.run(cmd, check=True)
    os.remove(path + '.s')
    print(f'{soname}: {len(asm)} symbols, versions {sorted(versions)}')
