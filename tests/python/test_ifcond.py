# SPDX-License-Identifier: MIT
"""Tests of conditions (docs/spec/qapi-language.md §5): C printing by
qapi.common.cgen_ifcond, and conditions through the whole front end
(qapi.schema.QAPISchema), including the errors of §5/2.

    PYTHONPATH=scripts python3 -m unittest -v tests/python/test_ifcond.py
"""

import os
import sys
import tempfile
import textwrap
import unittest
from typing import Any, Tuple

_SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, 'scripts')
if os.path.normpath(_SCRIPTS) not in map(os.path.normpath, sys.path):
    sys.path.insert(0, os.path.normpath(_SCRIPTS))

from qapi.common import cgen_ifcond  # noqa: E402
from qapi.error import QAPIError  # noqa: E402
from qapi.schema import (  # noqa: E402
    AlternateType, ArrayType, Command, EnumType, Event, IfCond, ObjectType,
    QAPISchema, UnionType)


class CgenIfcondTest(unittest.TestCase):
    """§5/3."""

    def check(self, cond: Any, expected: str) -> None:
        self.assertEqual(cgen_ifcond(cond), expected)

    def test_none(self) -> None:
        self.check(None, '')

    def test_ident(self) -> None:
        self.check('A', 'defined(A)')
        self.check('CONFIG_VMDK', 'defined(CONFIG_VMDK)')
        self.check('X86_64', 'defined(X86_64)')

    def test_not(self) -> None:
        self.check({'not': 'A'}, '!defined(A)')

    def test_not_not(self) -> None:
        self.check({'not': {'not': 'A'}}, '!!defined(A)')

    def test_all(self) -> None:
        self.check({'all': ['A', 'B']}, 'defined(A) && defined(B)')
        self.check({'all': ['A', 'B', 'C']},
                   'defined(A) && defined(B) && defined(C)')

    def test_any(self) -> None:
        self.check({'any': ['A', 'B']}, 'defined(A) || defined(B)')
        self.check({'any': ['A', 'B', 'C']},
                   'defined(A) || defined(B) || defined(C)')

    def test_single_operand(self) -> None:
        self.check({'all': ['A']}, 'defined(A)')
        self.check({'any': ['A']}, 'defined(A)')

    def test_single_operand_inner_parenthesized(self) -> None:
        self.check({'not': {'all': ['A']}}, '!(defined(A))')
        self.check({'all': ['A', {'any': ['B']}]},
                   'defined(A) && (defined(B))')

    def test_spec_example(self) -> None:
        self.check({'all': ['A', {'any': ['B', {'not': 'C'}]}]},
                   'defined(A) && (defined(B) || !defined(C))')

    def test_not_of_all(self) -> None:
        self.check({'not': {'all': ['A', 'B']}},
                   '!(defined(A) && defined(B))')

    def test_not_of_any(self) -> None:
        self.check({'not': {'any': ['A', 'B']}},
                   '!(defined(A) || defined(B))')

    def test_not_operands(self) -> None:
        self.check({'all': [{'not': 'A'}, {'not': 'B'}]},
                   '!defined(A) && !defined(B)')

    def test_inner_same_operator_parenthesized(self) -> None:
        # "An all or any used as an operand is parenthesized", even when
        # the operator is the same.
        self.check({'all': [{'all': ['A', 'B']}, 'C']},
                   '(defined(A) && defined(B)) && defined(C)')
        self.check({'any': ['A', {'any': ['B', 'C']}]},
                   'defined(A) || (defined(B) || defined(C))')

    def test_any_of_alls(self) -> None:
        self.check({'any': [{'all': ['A', 'B']}, {'all': ['C', 'D']}]},
                   '(defined(A) && defined(B)) || (defined(C) && defined(D))')

    def test_deep_nesting(self) -> None:
        self.check(
            {'any': ['A',
                     {'not': {'all': ['B', {'any': ['C', {'not': 'D'}]}]}}]},
            'defined(A) || !(defined(B) && (defined(C) || !defined(D)))')

    def test_ifcond_class(self) -> None:
        self.assertEqual(IfCond().cgen(), '')
        self.assertFalse(IfCond().is_present())
        cond = IfCond({'not': {'all': ['A', 'B']}})
        self.assertTrue(cond.is_present())
        self.assertEqual(cond.cgen(), '!(defined(A) && defined(B))')


GOOD_SCHEMA = """\
# A schema using conditions everywhere §5/1 allows them.

{ 'enum': 'ImageFormat',
  'data': [ 'raw',
            { 'name': 'vmdk', 'if': 'CONFIG_VMDK' },
            { 'name': 'qcow2',
              'if': { 'all': [ 'A',
                               { 'any': [ 'B', { 'not': 'C' } ] } ] } } ] }

{ 'enum': 'OnlyLinux', 'data': [ 'x' ], 'if': 'CONFIG_LINUX' }

{ 'struct': 'SnapshotDev',
  'data': { 'file': 'str',
            '*format': { 'type': 'ImageFormat', 'if': { 'not': 'NO_FORMAT' } },
            'tag': { 'type': 'str',
                     'features': [ { 'name': 'unstable',
                                     'if': { 'any': [ 'X', 'Y' ] } } ] } },
  'features': [ { 'name': 'fancy', 'if': 'OLD' }, 'plain' ],
  'if': { 'not': { 'all': [ 'A', 'B' ] } } }

{ 'struct': 'Plain', 'data': { 'a': 'int' } }

{ 'union': 'Shape', 'base': { 'kind': 'ImageFormat' },
  'discriminator': 'kind',
  'data': { 'raw': 'Plain',
            'vmdk': { 'type': 'Plain', 'if': 'CONFIG_VMDK' } },
  'if': 'CONFIG_SHAPE' }

{ 'alternate': 'StrOrPlain',
  'data': { 's': 'str', 'p': { 'type': 'Plain', 'if': 'HAVE_P' } } }

{ 'command': 'blockdev-snapshot-sync',
  'data': { 'device': 'str', 'dev': 'SnapshotDev' },
  'if': { 'any': [ 'A', 'B' ] } }

{ 'command': 'boxed-cmd', 'data': 'SnapshotDev', 'boxed': true }

{ 'event': 'BLOCK_JOB_COMPLETED', 'data': { 'device': 'str' },
  'if': { 'all': [ 'A', { 'not': 'B' } ] } }

{ 'command': 'list-formats', 'returns': [ 'Plain' ],
  'if': 'CONFIG_LIST' }
"""


class FrontEndTest(unittest.TestCase):
    """Conditions read from a schema file end up in the model."""

    def setUp(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'good.json')
            with open(path, 'w', encoding='utf-8') as file:
                file.write(GOOD_SCHEMA)
            self.schema = QAPISchema(path)

    def entity(self, name: str, kind: type) -> Any:
        entity = self.schema.lookup_entity(name)
        self.assertIsInstance(entity, kind)
        return entity

    def test_enum_values(self) -> None:
        enum = self.entity('ImageFormat', EnumType)
        conds = {m.name: m.ifcond.cgen() for m in enum.members}
        self.assertEqual(conds, {
            'raw': '',
            'vmdk': 'defined(CONFIG_VMDK)',
            'qcow2': 'defined(A) && (defined(B) || !defined(C))',
        })
        self.assertFalse(enum.members[0].ifcond.is_present())
        self.assertEqual(enum.ifcond.cgen(), '')

    def test_enum_itself(self) -> None:
        enum = self.entity('OnlyLinux', EnumType)
        self.assertEqual(enum.ifcond.cgen(), 'defined(CONFIG_LINUX)')
        self.assertEqual(enum.members[0].ifcond.cgen(), '')

    def test_struct_and_members(self) -> None:
        struct = self.entity('SnapshotDev', ObjectType)
        self.assertEqual(struct.ifcond.cgen(), '!(defined(A) && defined(B))')
        conds = {m.name: m.ifcond.cgen() for m in struct.local_members}
        self.assertEqual(conds, {
            'file': '',
            'format': '!defined(NO_FORMAT)',
            'tag': '',
        })

    def test_features(self) -> None:
        struct = self.entity('SnapshotDev', ObjectType)
        feats = {f.name: f.ifcond.cgen() for f in struct.features}
        self.assertEqual(feats, {'fancy': 'defined(OLD)', 'plain': ''})
        tag = [m for m in struct.local_members if m.name == 'tag'][0]
        self.assertEqual([(f.name, f.ifcond.cgen()) for f in tag.features],
                         [('unstable', 'defined(X) || defined(Y)')])

    def test_union_branches(self) -> None:
        union = self.entity('Shape', UnionType)
        self.assertEqual(union.ifcond.cgen(), 'defined(CONFIG_SHAPE)')
        conds = {v.name: v.ifcond.cgen() for v in union.variants
                 if not v.implicit}
        self.assertEqual(conds, {'raw': '', 'vmdk': 'defined(CONFIG_VMDK)'})

    def test_union_implicit_branch_takes_value_condition(self) -> None:
        # §3.3/4: 'qcow2' has no branch, so it gets an implicit empty
        # one, which exists exactly when the enum value does.
        union = self.entity('Shape', UnionType)
        implicit = {v.name: v.ifcond.cgen() for v in union.variants
                    if v.implicit}
        self.assertEqual(implicit, {
            'qcow2': 'defined(A) && (defined(B) || !defined(C))'})

    def test_union_implicit_base_takes_condition(self) -> None:
        # §5/5: implicit types take their origin's condition.
        base = self.entity('q_obj_Shape-base', ObjectType)
        self.assertEqual(base.ifcond.cgen(), 'defined(CONFIG_SHAPE)')

    def test_alternate_branches(self) -> None:
        alt = self.entity('StrOrPlain', AlternateType)
        self.assertEqual(alt.ifcond.cgen(), '')
        conds = {v.name: v.ifcond.cgen() for v in alt.variants}
        self.assertEqual(conds, {'s': '', 'p': 'defined(HAVE_P)'})

    def test_command(self) -> None:
        cmd = self.entity('blockdev-snapshot-sync', Command)
        self.assertEqual(cmd.ifcond.cgen(), 'defined(A) || defined(B)')
        unconditional = self.entity('boxed-cmd', Command)
        self.assertEqual(unconditional.ifcond.cgen(), '')

    def test_command_implicit_arg_type_takes_condition(self) -> None:
        arg = self.entity('q_obj_blockdev-snapshot-sync-arg', ObjectType)
        self.assertEqual(arg.ifcond.cgen(), 'defined(A) || defined(B)')

    def test_event(self) -> None:
        event = self.entity('BLOCK_JOB_COMPLETED', Event)
        self.assertEqual(event.ifcond.cgen(), 'defined(A) && !defined(B)')
        arg = self.entity('q_obj_BLOCK_JOB_COMPLETED-arg', ObjectType)
        self.assertEqual(arg.ifcond.cgen(), 'defined(A) && !defined(B)')

    def test_array_of_unconditional_type(self) -> None:
        # §5/5: TList takes T's condition, not its user's.
        plain_list = self.entity('PlainList', ArrayType)
        self.assertEqual(plain_list.ifcond.cgen(), '')
        user = self.entity('list-formats', Command)
        self.assertEqual(user.ifcond.cgen(), 'defined(CONFIG_LIST)')


class ArrayConditionTest(unittest.TestCase):
    """§5/5: an implicit array type takes its element's condition."""

    def test_array_of_conditional_type(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'arr.json')
            with open(path, 'w', encoding='utf-8') as file:
                file.write(textwrap.dedent("""\
                    { 'struct': 'Thing', 'data': { 'a': 'int' },
                      'if': { 'not': 'NO_THING' } }
                    { 'struct': 'Holder', 'data': { 'things': [ 'Thing' ] },
                      'if': { 'not': 'NO_THING' } }
                    """))
            schema = QAPISchema(path)
        array = schema.lookup_entity('ThingList')
        self.assertIsInstance(array, ArrayType)
        assert array is not None
        self.assertEqual(array.ifcond.cgen(), '!defined(NO_THING)')


# Bad conditions of §5/2.  Each is written as schema text.
BAD_CONDS: Tuple[Tuple[str, str], ...] = (
    ('boolean', 'true'),
    ('boolean false', 'false'),
    ('bare list', "[ 'A' ]"),
    ('empty list', '[]'),
    ('empty string', "''"),
    ('lower-case string', "'config_foo'"),
    ('mixed-case string', "'Config'"),
    ('leading digit', "'1A'"),
    ('leading underscore', "'_A'"),
    ('dash', "'A-B'"),
    ('two keys', "{ 'all': [ 'A' ], 'any': [ 'B' ] }"),
    ('no key', '{}'),
    ('unknown key', "{ 'and': [ 'A', 'B' ] }"),
    ('unknown key if', "{ 'if': 'A' }"),
    ('empty all list', "{ 'all': [] }"),
    ('empty any list', "{ 'any': [] }"),
    ('all not a list', "{ 'all': 'A' }"),
    ('any of object', "{ 'any': { 'not': 'A' } }"),
    ('not of list', "{ 'not': [ 'A' ] }"),
    ('not of empty string', "{ 'not': '' }"),
    ('nested lower case', "{ 'all': [ 'A', { 'any': [ 'b' ] } ] }"),
    ('nested empty all', "{ 'not': { 'all': [] } }"),
    ('nested boolean', "{ 'any': [ 'A', true ] }"),
    ('nested two keys', "{ 'not': { 'not': 'A', 'all': [ 'B' ] } }"),
)

# Places where a condition may stand (§5/1), as a template for a
# definition; the definition's '{' is on the line given.  {c} is the
# condition.  Preceded by PREAMBLE (lines 1-4), so the definition starts
# on line 5.
PREAMBLE = """\
# Preamble: a comment and a good definition first.
{ 'struct': 'Plain',
  'data': { 'a': 'int' } }

"""
DEFN_LINE = 5

PLACES: Tuple[Tuple[str, str, str], ...] = (
    # (name, template, a word the message must contain for the place)
    ('enum',
     "{{ 'enum': 'ImageFormat',\n"
     "  'data': [ 'raw' ],\n"
     "  'if': {c} }}\n",
     'ImageFormat'),
    ('enum value',
     "{{ 'enum': 'ImageFormat',\n"
     "  'data': [ 'raw', {{ 'name': 'vmdk', 'if': {c} }} ] }}\n",
     'vmdk'),
    ('struct member',
     "{{ 'struct': 'SnapshotDev',\n"
     "  'data': {{ 'file': 'str',\n"
     "            'format': {{ 'type': 'str', 'if': {c} }} }} }}\n",
     'format'),
    ('command',
     "{{ 'command': 'do-it',\n"
     "  'data': {{ 'x': 'int' }},\n"
     "  'if': {c} }}\n",
     'do-it'),
    ('event',
     "{{ 'event': 'SOMETHING_HAPPENED',\n"
     "  'if': {c} }}\n",
     'SOMETHING_HAPPENED'),
    ('feature',
     "{{ 'struct': 'Feat', 'data': {{}},\n"
     "  'features': [ {{ 'name': 'fancy', 'if': {c} }} ] }}\n",
     'fancy'),
    ('union branch',
     "{{ 'union': 'Shape', 'base': {{ 'kind': 'Kind' }},\n"
     "  'discriminator': 'kind',\n"
     "  'data': {{ 'one': {{ 'type': 'Plain', 'if': {c} }} }} }}\n"
     "{{ 'enum': 'Kind', 'data': [ 'one' ] }}\n",
     'one'),
    ('alternate branch',
     "{{ 'alternate': 'Alt',\n"
     "  'data': {{ 's': 'str',\n"
     "            'p': {{ 'type': 'Plain', 'if': {c} }} }} }}\n",
     "'p'"),
)


class BadConditionTest(unittest.TestCase):
    """§5/2: each bad condition is an error naming the condition and its
    place, at the definition's first line (§9.2/2)."""

    def compile_error(self, text: str) -> QAPIError:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bad-cond.json')
            with open(path, 'w', encoding='utf-8') as file:
                file.write(text)
            with self.assertRaises(QAPIError) as ctx:
                QAPISchema(path)
        err = ctx.exception
        self.assertIsNotNone(err.info)
        assert err.info is not None
        self.assertEqual(err.info.fname, path)
        self.assertIn('%s:%d' % (path, DEFN_LINE), str(err))
        return err

    def test_bad_conditions_on_definition(self) -> None:
        template = ("{{ 'struct': 'SnapshotDev',\n"
                    "  'data': {{ 'file': 'str' }},\n"
                    "  'if': {c} }}\n")
        for what, cond in BAD_CONDS:
            with self.subTest(what=what, cond=cond):
                err = self.compile_error(PREAMBLE + template.format(c=cond))
                self.assertEqual(err.info.line, DEFN_LINE)  # type: ignore
                self.assertIn("'if'", str(err))

    def test_bad_conditions_everywhere(self) -> None:
        for place, template, word in PLACES:
            for what, cond in BAD_CONDS:
                with self.subTest(place=place, what=what, cond=cond):
                    err = self.compile_error(PREAMBLE
                                             + template.format(c=cond))
                    self.assertEqual(err.info.line,  # type: ignore
                                     DEFN_LINE)
                    self.assertIn(word, str(err))

    def test_message_names_the_condition(self) -> None:
        template = ("{{ 'enum': 'ImageFormat',\n"
                    "  'data': [ {{ 'name': 'vmdk', 'if': {c} }} ] }}\n")
        cases = {
            "'config_vmdk'": 'config_vmdk',
            "{ 'and': [ 'A' ] }": 'and',
            "{ 'all': [] }": 'all',
        }
        for cond, shown in cases.items():
            with self.subTest(cond=cond):
                err = self.compile_error(PREAMBLE + template.format(c=cond))
                self.assertIn(shown, err.msg)

    def test_good_conditions_accepted(self) -> None:
        # The counterpart: every valid form in every place compiles.
        good = ["'A'", "'CONFIG_X86_64'", "{ 'not': 'A' }",
                "{ 'all': [ 'A' ] }", "{ 'any': [ 'A', { 'not': 'B' } ] }",
                "{ 'all': [ 'A', { 'any': [ 'B', { 'not': 'C' } ] } ] }"]
        for place, template, _ in PLACES:
            for cond in good:
                with self.subTest(place=place, cond=cond):
                    with tempfile.TemporaryDirectory() as tmp:
                        path = os.path.join(tmp, 'good-cond.json')
                        with open(path, 'w', encoding='utf-8') as file:
                            file.write(PREAMBLE + template.format(c=cond))
                        QAPISchema(path)


if __name__ == '__main__':
    unittest.main()
