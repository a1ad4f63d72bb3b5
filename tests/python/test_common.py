# SPDX-License-Identifier: MIT
"""Unit tests of qapi.common: C names, enum constants, C conditions.

The expected values come from docs/spec/qapi-language.md §7.4 (C names), §7.5
(enum constants) and §5/3 (conditions).  Run as

    PYTHONPATH=scripts python3 -m unittest -v tests/python/test_common.py
"""

import os
import sys
import unittest
from typing import Tuple

_SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, 'scripts')
if os.path.normpath(_SCRIPTS) not in map(os.path.normpath, sys.path):
    sys.path.insert(0, os.path.normpath(_SCRIPTS))

from qapi.common import (  # noqa: E402
    c_enum_const, c_name, camel_to_upper, cgen_ifcond)

# The reserved words of §7.4/1, copied from the spec verbatim.
SPEC_RESERVED_TEXT = '''
_Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert
_Thread_local and and_eq asm auto bitand bitor bool break case catch char class compl const
const_cast continue default delete do double dynamic_cast else enum errno explicit extern false
float for friend goto i386 if inline int linux long mips mutable namespace new not not_eq
operator or or_eq private protected public register reinterpret_cast restrict return short
signed sizeof sparc static static_cast struct switch template this throw true try typedef
typeid typename typeof union unix unsigned using virtual void volatile wchar_t while xor xor_eq
'''
SPEC_RESERVED: Tuple[str, ...] = tuple(SPEC_RESERVED_TEXT.split())


class CNameTest(unittest.TestCase):
    """§7.4: c_name(N) and its protected form."""

    def test_spec_table_members(self) -> None:
        self.assertEqual(c_name('snapshot-file'), 'snapshot_file')
        self.assertEqual(c_name('default'), 'q_default')
        # its presence flag
        self.assertEqual('has_' + c_name('default'), 'has_q_default')

    def test_spec_table_downstream_type(self) -> None:
        self.assertEqual(c_name('__com.example_x-Frob', False),
                         '__com_example_x_Frob')
        self.assertEqual(c_name('__com.example_x-Frob'),
                         '__com_example_x_Frob')

    def test_spec_table_command(self) -> None:
        name = 'blockdev-snapshot-sync'
        self.assertEqual('qmp_' + c_name(name, False),
                         'qmp_blockdev_snapshot_sync')
        self.assertEqual('qmp_marshal_' + c_name(name, False),
                         'qmp_marshal_blockdev_snapshot_sync')

    def test_spec_table_event(self) -> None:
        self.assertEqual(
            'qapi_event_send_' + c_name('BLOCK_JOB_COMPLETED', False).lower(),
            'qapi_event_send_block_job_completed')

    def test_spec_table_inline_arguments(self) -> None:
        self.assertEqual(c_name('q_obj_frob-it-arg', False),
                         'q_obj_frob_it_arg')

    def test_non_c_characters_become_underscore(self) -> None:
        cases = {
            'a.b': 'a_b',
            'a-b': 'a_b',
            'a_b': 'a_b',
            'x-poll': 'x_poll',
            'a.b-c.d': 'a_b_c_d',
            'abc123': 'abc123',
            'ABC_xyz': 'ABC_xyz',
            '--': '__',
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(c_name(name), expected)
                self.assertEqual(c_name(name, False), expected)
                self.assertEqual(c_name(name, protect=False), expected)

    def test_leading_digit_protected(self) -> None:
        cases = {
            '0': 'q_0',
            '1st': 'q_1st',
            '802-1x': 'q_802_1x',
            '9p': 'q_9p',
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(c_name(name), expected)
                self.assertEqual(c_name(name, protect=True), expected)

    def test_leading_digit_unprotected(self) -> None:
        self.assertEqual(c_name('1st', False), '1st')
        self.assertEqual(c_name('802-1x', protect=False), '802_1x')

    def test_digit_not_leading_is_not_protected(self) -> None:
        self.assertEqual(c_name('v3'), 'v3')
        self.assertEqual(c_name('qcow2'), 'qcow2')
        self.assertEqual(c_name('-1'), '_1')

    def test_spec_reserved_list_sanity(self) -> None:
        # Guard against a bad copy of the spec list.
        self.assertEqual(len(SPEC_RESERVED), len(set(SPEC_RESERVED)))
        self.assertEqual(len(SPEC_RESERVED), 91)
        for word in ('_Alignas', '_Thread_local', 'and', 'default', 'errno',
                     'i386', 'linux', 'unix', 'sparc', 'mips', 'typeof',
                     'wchar_t', 'xor_eq'):
            self.assertIn(word, SPEC_RESERVED)

    def test_every_reserved_word_protected(self) -> None:
        for word in SPEC_RESERVED:
            with self.subTest(word=word):
                self.assertEqual(c_name(word), 'q_' + word)
                self.assertEqual(c_name(word, True), 'q_' + word)
                self.assertEqual(c_name(word, protect=True), 'q_' + word)

    def test_every_reserved_word_unprotected(self) -> None:
        for word in SPEC_RESERVED:
            with self.subTest(word=word):
                self.assertEqual(c_name(word, False), word)
                self.assertEqual(c_name(word, protect=False), word)

    def test_reserved_after_mangling(self) -> None:
        # §7.4/1: the *result* of the replacement is compared with the
        # list, so 'and-eq' -> 'and_eq' is protected too.
        self.assertEqual(c_name('and-eq'), 'q_and_eq')
        self.assertEqual(c_name('xor-eq'), 'q_xor_eq')
        self.assertEqual(c_name('wchar-t'), 'q_wchar_t')
        self.assertEqual(c_name('not.eq'), 'q_not_eq')
        self.assertEqual(c_name('and-eq', False), 'and_eq')

    def test_near_reserved_words_not_protected(self) -> None:
        # Case matters, and only whole words are reserved.
        for name in ('Default', 'DEFAULT', 'defaults', 'ints', 'int8',
                     'unix-socket', 'linux-aio', 'i386-x', 'x-default',
                     'main', 'null', 'NULL', 'str', 'u', 'q', 'bool1',
                     'alignas', '_alignas', 'Bool', 'TRUE'):
            with self.subTest(name=name):
                self.assertFalse(c_name(name).startswith('q_'),
                                 c_name(name))

    def test_default_argument_is_protect(self) -> None:
        self.assertEqual(c_name('if'), c_name('if', True))


class CamelToUpperTest(unittest.TestCase):
    """§7.5/1: camel_to_upper(N)."""

    def test_spec_table(self) -> None:
        cases = {
            'ImageFormat': 'IMAGE_FORMAT',
            'IOThreadInfo': 'IO_THREAD_INFO',
            'X86CPURegister32': 'X86_CPU_REGISTER32',
            'BlockdevQcow2Version': 'BLOCKDEV_QCOW2_VERSION',
            'QCryptoTLSCredsEndpoint': 'Q_CRYPTOTLS_CREDS_ENDPOINT',
            'QType': 'Q_TYPE',
            '__com.example_x-Enum': 'COM_EXAMPLE_X_ENUM',
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(camel_to_upper(name), expected)

    def test_rule_derived_cases(self) -> None:
        # Worked out by hand from the rule of §7.5/1.
        cases = {
            'SnapshotDev': 'SNAPSHOT_DEV',
            'IOThread': 'IO_THREAD',
            # 'G' is followed by upper case, preceded by a letter: no '_'
            'DisplayGLMode': 'DISPLAYGL_MODE',
            'VirtioGPU': 'VIRTIOGPU',
            # predecessor a digit: '_' even before an upper-case run
            'Abc1D': 'ABC1_D',
            'Qcow2OverlapCheckMode': 'QCOW2_OVERLAP_CHECK_MODE',
            # predecessor '_': no second '_'
            'Foo_Bar': 'FOO_BAR',
            'x-Foo': 'X_FOO',
            # position 0 never gets '_'
            'Abc': 'ABC',
            'abc': 'ABC',
            'a1b': 'A1B',
            'aB': 'AB',
            'aBc': 'A_BC',
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(camel_to_upper(name), expected)

    def test_no_lower_case_is_plain_c_name(self) -> None:
        # §7.5/1: without a lower-case letter the result is c_name(N):
        # no '_' inserted, leading '_' kept, mangling applied.
        cases = {
            'QTYPE': 'QTYPE',
            'BLOCK_JOB': 'BLOCK_JOB',
            'X86': 'X86',
            'IO': 'IO',
            'A1B2C': 'A1B2C',
            'FOO-BAR': 'FOO_BAR',
            'QCRYPTO_TLS_CREDS_ENDPOINT': 'QCRYPTO_TLS_CREDS_ENDPOINT',
            '__COM.EXAMPLE_X-ENUM': '__COM_EXAMPLE_X_ENUM',
            '_FOO': '_FOO',
        }
        for name, expected in cases.items():
            with self.subTest(name=name):
                self.assertEqual(camel_to_upper(name), expected)
                self.assertEqual(camel_to_upper(name), c_name(name, False))

    def test_no_lower_case_reserved_not_protected(self) -> None:
        # The plain (unprotected) c_name is meant; no upper-case word is
        # reserved anyway, but a leading digit must not get 'q_'.
        self.assertEqual(camel_to_upper('9P'), '9P')

    def test_result_is_upper_case(self) -> None:
        for name in ('ImageFormat', 'IOThreadInfo', 'X86CPURegister32',
                     '__com.example_x-Enum', 'QType'):
            with self.subTest(name=name):
                result = camel_to_upper(name)
                self.assertEqual(result, result.upper())
                self.assertFalse(result.startswith('_'))


class CEnumConstTest(unittest.TestCase):
    """§7.5/2: enum constants."""

    def test_spec_table(self) -> None:
        cases = [
            ('ImageFormat', 'qcow2', None, 'IMAGE_FORMAT_QCOW2'),
            ('IOThreadInfo', 'x-poll', None, 'IO_THREAD_INFO_X_POLL'),
            ('X86CPURegister32', 'eax', None, 'X86_CPU_REGISTER32_EAX'),
            ('BlockdevQcow2Version', 'v3', None,
             'BLOCKDEV_QCOW2_VERSION_V3'),
            ('QCryptoTLSCredsEndpoint', 'client', None,
             'Q_CRYPTOTLS_CREDS_ENDPOINT_CLIENT'),
            ('QType', 'qnum', 'QTYPE', 'QTYPE_QNUM'),
            ('QType', 'qnum', None, 'Q_TYPE_QNUM'),
            ('__com.example_x-Enum', '__com.example_x-val', None,
             'COM_EXAMPLE_X_ENUM___COM_EXAMPLE_X_VAL'),
        ]
        for type_name, value, prefix, expected in cases:
            with self.subTest(type_name=type_name, value=value,
                              prefix=prefix):
                self.assertEqual(c_enum_const(type_name, value, prefix),
                                 expected)

    def test_prefix_keyword(self) -> None:
        self.assertEqual(c_enum_const('QType', 'qnum', prefix='QTYPE'),
                         'QTYPE_QNUM')
        self.assertEqual(c_enum_const('QType', 'qnull', prefix='QTYPE'),
                         'QTYPE_QNULL')
        self.assertEqual(c_enum_const('QCryptoTLSCredsEndpoint', 'client',
                                      prefix='QCRYPTO_TLS_CREDS_ENDPOINT'),
                         'QCRYPTO_TLS_CREDS_ENDPOINT_CLIENT')

    def test_prefix_goes_through_camel_to_upper(self) -> None:
        # "camel_to_upper(prefix or type name)"
        self.assertEqual(c_enum_const('Foo', 'bar', prefix='MyPrefix'),
                         'MY_PREFIX_BAR')

    def test_max_constant(self) -> None:
        self.assertEqual(c_enum_const('ImageFormat', '_MAX'),
                         'IMAGE_FORMAT__MAX')
        self.assertEqual(c_enum_const('QType', '_MAX', 'QTYPE'),
                         'QTYPE__MAX')

    def test_value_is_not_protected(self) -> None:
        # Enum constants use the plain c_name (§7.4/2).
        self.assertEqual(c_enum_const('ImageFormat', 'default'),
                         'IMAGE_FORMAT_DEFAULT')
        self.assertEqual(c_enum_const('ImageFormat', 'if'), 'IMAGE_FORMAT_IF')
        self.assertEqual(c_enum_const('ImageFormat', '1'), 'IMAGE_FORMAT_1')
        self.assertEqual(c_enum_const('ImageFormat', '9p'),
                         'IMAGE_FORMAT_9P')

    def test_value_mangled_and_upper_cased(self) -> None:
        self.assertEqual(c_enum_const('ImageFormat', 'a.b-c'),
                         'IMAGE_FORMAT_A_B_C')
        self.assertEqual(c_enum_const('ImageFormat', 'MixedCase'),
                         'IMAGE_FORMAT_MIXEDCASE')

    def test_equal_constants(self) -> None:
        # §7.5/3: 'a-b' and 'a_b' give the same constant (hence the clash
        # error); so do 'A' and 'a'.
        self.assertEqual(c_enum_const('Foo', 'a-b'),
                         c_enum_const('Foo', 'a_b'))
        self.assertEqual(c_enum_const('Foo', 'A'), c_enum_const('Foo', 'a'))


class CgenIfcondBasicsTest(unittest.TestCase):
    """§5/3 (more in test_ifcond.py)."""

    def test_none(self) -> None:
        self.assertEqual(cgen_ifcond(None), '')

    def test_ident(self) -> None:
        self.assertEqual(cgen_ifcond('CONFIG_VMDK'), 'defined(CONFIG_VMDK)')

    def test_spec_example(self) -> None:
        self.assertEqual(
            cgen_ifcond({'all': ['A', {'any': ['B', {'not': 'C'}]}]}),
            'defined(A) && (defined(B) || !defined(C))')


if __name__ == '__main__':
    unittest.main()
