#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test pkgconfig-uninstalled: code built against the build tree through
BUILD/meson-uninstalled/qapikit-uninstalled.pc.

    check-uninstalled.py --pkg-config PKG_CONFIG --cc CC \\
        [--sanitize SANITIZE] SOURCE_ROOT BUILD_ROOT

`PKG_CONFIG_PATH=BUILD/meson-uninstalled pkg-config --cflags --libs
qapikit` must give -I for both qapi/include of the source tree (the
hand-written headers) and of the build tree (the generated ones) and
-L for the built library; then CC compiles and links a small program
including <qapikit/visitor.h> and <qapikit/error.h> (which include
generated headers) with exactly those flags, and runs it.
"""

import argparse
import os
import subprocess
import sys
import tempfile

PROGRAM = r'''
#include <stdio.h>
#include <qapikit/visitor.h>
#include <qapikit/error.h>

int main(void)
{
    g_autoptr(GError) err = NULL;
    int val = qapi_enum_parse(&QapiErrorClass_lookup, "DeviceNotFound", -1,
                              &err);
    printf("%s %s\n", QType_str(QTYPE_QDICT), QapiErrorClass_str(val));
    return val == QAPI_ERROR_CLASS_DEVICENOTFOUND ? 0 : 1;
}
'''


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--pkg-config', required=True)
    parser.add_argument('--cc', required=True)
    parser.add_argument('--sanitize', default='none',
                        help="the build's b_sanitize: the program gets "
                        "-fsanitize=SANITIZE too")
    parser.add_argument('source_root')
    parser.add_argument('build_root')
    args = parser.parse_args()

    env = dict(os.environ)
    env['PKG_CONFIG_PATH'] = os.path.join(args.build_root,
                                          'meson-uninstalled')
    out = subprocess.run([args.pkg_config, '--cflags', '--libs', 'qapikit'],
                         env=env, stdout=subprocess.PIPE,
                         universal_newlines=True)
    if out.returncode != 0:
        print('FAIL: pkg-config found no qapikit-uninstalled.pc')
        return 1
    flags = out.stdout.split()
    print('pkg-config --cflags --libs qapikit: ' + ' '.join(flags))
    includes = {os.path.realpath(f[2:]) for f in flags if f.startswith('-I')}
    ok = True
    for root, what in [(args.source_root, 'hand-written headers'),
                       (args.build_root, 'generated headers')]:
        wanted = os.path.realpath(os.path.join(root, 'qapi', 'include'))
        if wanted not in includes:
            print('FAIL: no -I%s (%s)' % (wanted, what))
            ok = False
    if not ok:
        return 1

    with tempfile.TemporaryDirectory(prefix='qapikit-uninstalled-') as tmp:
        source = os.path.join(tmp, 'program.c')
        program = os.path.join(tmp, 'program')
        with open(source, 'w', encoding='utf-8') as f:
            f.write(PROGRAM)
        libdirs = [f[2:] for f in flags if f.startswith('-L')]
        cmd = ([args.cc, '-Wall', '-Wextra', '-Werror', source, '-o',
                program] + flags +
               ['-Wl,-rpath,' + d for d in libdirs])
        if args.sanitize != 'none':
            cmd.append('-fsanitize=' + args.sanitize)
        print('$ ' + ' '.join(cmd))
        if subprocess.run(cmd).returncode != 0:
            print('FAIL: the program does not build')
            return 1
        if subprocess.run([program]).returncode != 0:
            print('FAIL: the program failed')
            return 1
    print('pkgconfig-uninstalled: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
