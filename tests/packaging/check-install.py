#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test install: `meson install` into a DESTDIR, then use what it put
there, and nothing else, the way a user of the installed qapikit would.

  1. meson install -C BUILD --no-rebuild --destdir TMP/dest (the main
     build directory is only read: install.dat names what goes where);
  2. the tree: the library (soname links), the public and the generated
     runtime headers under include/qapikit/, qapikit.pc, bin/qapi-gen,
     bin/qapi-compat,
     the generator package under share/qapikit/qapi/ (modules, gen/,
     templates/, no __pycache__); every file `meson introspect
     --installed` names is there; the launcher does not point into the
     source tree;
  3. the installed qapi-gen runs from the installed package (checked by
     the path its `qapi` module was imported from) and compiles
     tests/packaging/qemu-style.json; the installed qapi-compat runs from
     it too and finds no change between that schema and itself;
  4. each compiler (gcc, and clang when there is one; in a sanitized
     build only the build's compiler, with -fsanitize) compiles every
     generated .c with -Wall -Wextra -Werror (and the prototype warnings
     generated/ uses), using only `pkg-config --cflags --libs qapikit`
     on a copy of the installed qapikit.pc whose prefix is DESTDIR's,
     once with none of the schema's 'if' conditions defined and once
     with all of them; it links them with qemu-style-main.c (handlers and
     a driver) against the installed libqapikit and runs the program.

Exit status 0 when all of it holds; every failure is printed.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

# Every 'if' condition of qemu-style*.json.
CONDITIONS = ['CONFIG_LINUX', 'CONFIG_LINUX_IO_URING', 'CONFIG_POSIX',
              'CONFIG_VMDK', 'CONFIG_WIN32', 'HAVE_IPPROTO_MPTCP',
              'TARGET_ALPHA', 'TARGET_ARM', 'TARGET_I386', 'TARGET_S390X']

# The programs of the schema compiler package, installed into BINDIR.
PROGRAMS = ['qapi-gen', 'qapi-compat']

WARNINGS = ['-Wall', '-Wextra', '-Werror', '-Wmissing-prototypes',
            '-Wstrict-prototypes']

failures: List[str] = []


def fail(message: str) -> None:
    failures.append(message)
    print('FAIL: ' + message)


def run(cmd: List[str], env: Optional[Dict[str, str]] = None,
        cwd: Optional[str] = None,
        show: Optional[str] = None) -> Optional[str]:
    """Run CMD (printed, or SHOW instead); its stdout, or None (and a
    failure) when it fails."""
    print('$ ' + (show or ' '.join(cmd)))
    proc = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        fail('%s exited with %d:\n%s' % (cmd[0], proc.returncode,
                                          proc.stdout))
        return None
    return proc.stdout


def under(destdir: str, path: str) -> str:
    """PATH (absolute, as installed) inside DESTDIR."""
    return os.path.join(destdir, os.path.relpath(path, '/'))


def check_tree(args: argparse.Namespace, dest: str) -> None:
    libdir = under(dest, args.libdir)
    incdir = under(dest, os.path.join(args.includedir, 'qapikit'))
    expected = [
        os.path.join(libdir, 'libqapikit.so'),
        os.path.join(libdir, 'libqapikit.so.0'),
        os.path.join(libdir, 'pkgconfig', 'qapikit.pc'),
    ]
    expected += [under(dest, os.path.join(args.bindir, program))
                 for program in PROGRAMS]
    expected += [os.path.join(incdir, os.path.basename(h))
                 for h in args.public_header + args.generated_header]
    pkg = under(dest, os.path.join(args.datadir, 'qapikit', 'qapi'))
    expected += [os.path.join(pkg, f) for f in
                 ['__init__.py', 'main.py', 'schema.py', 'gen/__init__.py',
                  'templates/types.h.j2', 'templates/commands.c.j2']]
    for path in expected:
        if not os.path.exists(path):
            fail('not installed: ' + os.path.relpath(path, dest))
    for program in PROGRAMS:
        if not os.access(under(dest, os.path.join(args.bindir, program)),
                         os.X_OK):
            fail('bin/%s is not executable' % program)
    for root, dirs, files in os.walk(pkg):
        if '__pycache__' in dirs or any(f.endswith('.pyc') for f in files):
            fail('compiled Python installed under ' + root)
    # The sources' own list of the package against what was installed.
    source_pkg = os.path.join(args.source_root, 'scripts', 'qapi')
    for root, dirs, files in os.walk(source_pkg):
        dirs[:] = [d for d in dirs if d != '__pycache__']
        for name in files:
            if name.endswith(('.py', '.j2')):
                rel = os.path.relpath(os.path.join(root, name), source_pkg)
                if not os.path.exists(os.path.join(pkg, rel)):
                    fail('generator file not installed: scripts/qapi/' + rel)

    # Whatever meson says it installs is there.
    out = run([args.meson, 'introspect', '--installed', args.build_root])
    if out is not None:
        import json
        for target in json.loads(out).values():
            if not os.path.lexists(under(dest, target)):
                fail('meson introspect --installed lists %s, not in DESTDIR'
                     % target)

    # The installed headers are all there is: no stray generated header
    # of the build tree (only the custom_target's outputs are installed).
    names = set(os.listdir(incdir)) if os.path.isdir(incdir) else set()
    wanted = {os.path.basename(h)
              for h in args.public_header + args.generated_header}
    if names != wanted:
        fail('include/qapikit/ holds %s, expected %s'
             % (sorted(names), sorted(wanted)))

    for program in PROGRAMS:
        launcher = under(dest, os.path.join(args.bindir, program))
        if not os.path.exists(launcher):
            continue
        with open(launcher, encoding='utf-8') as f:
            text = f.read()
        if args.source_root in text or args.build_root in text:
            fail('the installed %s refers to the source or build tree'
                 % program)

    pc = os.path.join(libdir, 'pkgconfig', 'qapikit.pc')
    if os.path.exists(pc):
        with open(pc, encoding='utf-8') as f:
            text = f.read()
        requires = re.search(r'^Requires:(.*)$', text, re.M)
        if not requires or not {'glib-2.0', 'json-c'} <= set(
                re.findall(r'[\w.+-]+', requires.group(1))):
            fail('qapikit.pc: Requires lacks glib-2.0 or json-c:\n' + text)
        if not re.search(r'^Cflags:.*-I\$\{includedir\}(\s|$)', text, re.M):
            fail('qapikit.pc: Cflags is not -I${includedir}:\n' + text)


def launcher_env() -> Dict[str, str]:
    """The environment the installed programs run in: no PYTHONPATH."""
    env = dict(os.environ)
    env.pop('PYTHONPATH', None)
    env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def check_origin(launcher: str, dest: str, tmp: str, python: str) -> None:
    """LAUNCHER imports its package `qapi` from DEST."""
    # Where does the launcher take its package from?
    probe = ('import runpy, sys\n'
             'sys.argv = [sys.argv[1], "--version"]\n'
             'try:\n'
             '    runpy.run_path(sys.argv[0], run_name="__main__")\n'
             'except SystemExit:\n'
             '    pass\n'
             'print(sys.modules["qapi"].__file__)\n')
    out = run([python, '-c', probe, launcher], env=launcher_env(),
              cwd=tmp, show='(where does %s import qapi from?)' % launcher)
    if out is not None:
        origin = os.path.realpath(out.strip().splitlines()[-1])
        print('  ' + origin)
        if not origin.startswith(os.path.realpath(dest) + os.sep):
            fail('the installed %s imported qapi from %s, outside '
                 'DESTDIR' % (os.path.basename(launcher), origin))


def check_generator(args: argparse.Namespace, dest: str, tmp: str,
                    python: str) -> Optional[str]:
    """Run the installed qapi-gen; the output directory, or None."""
    launcher = under(dest, os.path.join(args.bindir, 'qapi-gen'))
    env = launcher_env()
    check_origin(launcher, dest, tmp, python)
    if run([launcher, '--version'], env=env, cwd=tmp) is None:
        return None
    gen = os.path.join(tmp, 'gen')
    if run([launcher, '-o', gen, args.schema], env=env, cwd=tmp) is None:
        return None
    return gen


def check_compat(args: argparse.Namespace, dest: str, tmp: str,
                 python: str) -> None:
    """Run the installed qapi-compat on the schema against itself."""
    launcher = under(dest, os.path.join(args.bindir, 'qapi-compat'))
    check_origin(launcher, dest, tmp, python)
    out = run([launcher, args.schema, args.schema], env=launcher_env(),
              cwd=tmp)
    # Notes (what is deprecated) may be there; breaks and warnings not.
    if out is not None and not out.splitlines()[-1].startswith(
            '0 breaks, 0 warnings,'):
        fail('qapi-compat found changes between a schema and itself:\n'
             + out)


def pkg_config_flags(args: argparse.Namespace, dest: str,
                     tmp: str) -> Optional[List[str]]:
    """pkg-config --cflags --libs qapikit, on the installed .pc file whose
    prefix is moved into DESTDIR."""
    pc = under(dest, os.path.join(args.libdir, 'pkgconfig', 'qapikit.pc'))
    pcdir = os.path.join(tmp, 'pkgconfig')
    os.makedirs(pcdir)
    with open(pc, encoding='utf-8') as f:
        text = f.read()
    text, count = re.subn(r'^prefix=.*$',
                          'prefix=' + under(dest, args.prefix), text,
                          count=1, flags=re.M)
    if count != 1:
        fail('qapikit.pc has no prefix= line')
        return None
    with open(os.path.join(pcdir, 'qapikit.pc'), 'w', encoding='utf-8') as f:
        f.write(text)
    env = dict(os.environ)
    env['PKG_CONFIG_PATH'] = pcdir
    env.pop('PKG_CONFIG_LIBDIR', None)
    out = run([args.pkg_config, '--cflags', '--libs', 'qapikit'], env=env)
    if out is None:
        return None
    flags = out.split()
    for flag in flags:
        if args.source_root in flag or args.build_root in flag:
            fail('pkg-config qapikit refers to the source or build tree: '
                 + flag)
    if '-I' + under(dest, args.includedir) not in flags:
        fail('pkg-config --cflags qapikit lacks -I' +
             under(dest, args.includedir))
    return flags


def check_compile(args: argparse.Namespace, dest: str, tmp: str, gen: str,
                  flags: List[str]) -> None:
    sources = sorted(os.path.join(gen, f) for f in os.listdir(gen)
                     if f.endswith('.c'))
    if len(sources) < 10:
        fail('qapi-gen wrote only %d .c files' % len(sources))
    cflags = [f for f in flags if not f.startswith(('-l', '-L'))]
    libs = [f for f in flags if f.startswith(('-l', '-L'))]
    rpath = '-Wl,-rpath,' + under(dest, args.libdir)
    if args.sanitize != 'none':
        cflags = cflags + ['-fsanitize=' + args.sanitize]
        libs = libs + ['-fsanitize=' + args.sanitize]
    for cc in args.cc:
        for variant, defines in [('none', []),
                                 ('all', ['-D' + c for c in CONDITIONS])]:
            objdir = os.path.join(tmp, 'obj-%s-%s' % (os.path.basename(cc),
                                                      variant))
            os.makedirs(objdir)
            objects = []
            ok = True
            for src in sources + [args.main]:
                obj = os.path.join(objdir,
                                   os.path.basename(src)[:-2] + '.o')
                # -I gen for the main program's "qapi-commands.h" etc.
                if run([cc] + WARNINGS + defines + cflags +
                       ['-I', gen, '-c', src, '-o', obj]) is None:
                    ok = False
                objects.append(obj)
            if not ok:
                continue
            program = os.path.join(objdir, 'qemu-style')
            if run([cc] + objects + ['-o', program, rpath] + libs) is None:
                continue
            check_loads_installed(args, dest, program)
            out = run([program])
            if out is not None:
                print(out, end='')


def check_loads_installed(args: argparse.Namespace, dest: str,
                          program: str) -> None:
    """PROGRAM loads the installed libqapikit, not the build tree's."""
    ldd = shutil.which('ldd')
    if not ldd:
        return
    out = run([ldd, program])
    if out is None:
        return
    for line in out.splitlines():
        if 'libqapikit' in line:
            print('  ' + line.strip())
            path = line.split('=>')[-1].split('(')[0].strip()
            if not os.path.realpath(path).startswith(
                    os.path.realpath(under(dest, args.libdir)) + os.sep):
                fail('%s loads %s, not the installed libqapikit'
                     % (program, path))
            return
    fail('%s does not load libqapikit' % program)


def list_tree(dest: str) -> None:
    print('installed:')
    for root, dirs, files in os.walk(dest):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            link = (' -> ' + os.readlink(path)) if os.path.islink(path) else ''
            print('  /' + os.path.relpath(path, dest) + link)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--meson', required=True)
    parser.add_argument('--pkg-config', required=True)
    parser.add_argument('--cc', action='append', required=True)
    parser.add_argument('--build-root', required=True)
    parser.add_argument('--source-root', required=True)
    parser.add_argument('--prefix', required=True)
    parser.add_argument('--bindir', required=True)
    parser.add_argument('--libdir', required=True)
    parser.add_argument('--includedir', required=True)
    parser.add_argument('--datadir', required=True)
    parser.add_argument('--schema', required=True)
    parser.add_argument('--main', required=True)
    parser.add_argument('--public-header', action='append', default=[])
    parser.add_argument('--generated-header', action='append', default=[])
    parser.add_argument('--sanitize', default='none',
                        help="the build's b_sanitize: programs get "
                        "-fsanitize=SANITIZE too")
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory')
    args = parser.parse_args()
    # meson test points LD_LIBRARY_PATH at the build tree's library: the
    # program built here must find the installed one, by its rpath.
    os.environ.pop('LD_LIBRARY_PATH', None)
    for name in ['bindir', 'libdir', 'includedir', 'datadir']:
        setattr(args, name, os.path.join(args.prefix, getattr(args, name)))

    tmp = tempfile.mkdtemp(prefix='qapikit-install-')
    try:
        dest = os.path.join(tmp, 'dest')
        # --no-rebuild: meson test built everything already, and a
        # second ninja in the main build directory is not ours to start.
        if run([args.meson, 'install', '-C', args.build_root,
                '--no-rebuild', '--destdir', dest]) is None:
            return 1
        list_tree(dest)
        check_tree(args, dest)
        gen = check_generator(args, dest, tmp, sys.executable)
        check_compat(args, dest, tmp, sys.executable)
        flags = pkg_config_flags(args, dest, tmp)
        if gen is not None and flags is not None:
            check_compile(args, dest, tmp, gen, flags)
    finally:
        if args.keep:
            print('kept ' + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print('install: %d failure(s)' % len(failures))
        return 1
    print('install: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
