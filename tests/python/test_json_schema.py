# SPDX-License-Identifier: MIT
"""qapi-gen.py --json-schema (docs/spec/qapi-language.md §12.3), checked
with Debian's python3-jsonschema (Draft202012Validator): the document is
a valid schema; validating each document of the kitchen sink's corpora
against its type agrees with the generated input visitor, which the C
tests hold to the same corpora (round trip: accepted; bad input:
refused), but for the differences §12.3/6 lists; the root accepts the
requests of the schema's commands and nothing else; the 2012 form works
too."""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Dict

from jsonschema import Draft202012Validator

from qapi.jsonschema import json_schema
from qapi.schema import Command, QAPISchema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(ROOT, 'scripts', 'qapi-gen.py')
KITCHEN_SINK = os.path.join(ROOT, 'tests', 'qapi-schema',
                            'qapi-schema-test.json')
CORPUS = os.path.join(ROOT, 'tests', 'unit', 'corpus')
COMPAT_2012 = os.path.join(ROOT, 'tests', 'compat-2012', 'disks-2012.json')

# Bad input the input visitor refuses and the document accepts
# (§12.3/6), each with why.
DELIBERATE = {
    'alt-obj-null.json': 'a branch compiled out',
    'enum-compiled-out.json': 'an enum value compiled out',
    'union-tag-compiled-out.json': 'a union branch compiled out',
    'unknown-conditional-member.json': 'a member compiled out',
    'type-int-double.json': '1.0 is an integer to JSON Schema',
    'number-infinite.json': '1e999 is beyond a double',
    'number-infinite-list.json': '1e999 is beyond a double',
}


SMALL = """
{ 'enum': 'Plain', 'data': [ 'a', 'b' ] }
{ 'enum': 'Accel',
  'data': [ 'tcg', { 'name': 'kvm', 'if': 'CONFIG_KVM' },
            { 'name': 'old', 'features': [ 'deprecated' ] } ] }
{ 'command': 'set-accel', 'data': { '*accel': 'Accel', '*p': 'Plain' } }
{ 'event': 'IMAGE_CHANGED', 'data': { '*size': 'size' } }
{ 'event': 'IMAGE_RESIZED', 'data': { 'device': 'str', '*size': 'size' } }
{ 'struct': 'Chain', 'data': { 'file': 'str', '*backing': 'Chain' } }
{ 'command': 'query-chain', 'returns': 'Chain' }
"""


def generate(schema: str, *options: str) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, GEN, '--json-schema', *options,
                        '-o', out, schema], check=True)
        with open(os.path.join(out, 'qapi-schema.json'),
                  encoding='utf-8') as f:
            document: Dict[str, Any] = json.load(f)
    return document


class JSONSchemaTest(unittest.TestCase):
    document: Dict[str, Any]

    @classmethod
    def setUpClass(cls) -> None:
        cls.document = generate(KITCHEN_SINK)

    def validator(self, ref: str) -> Draft202012Validator:
        """A validator of the document's entry REF."""
        return Draft202012Validator({
            '$schema': self.document['$schema'],
            '$defs': self.document['$defs'],
            '$ref': '#/$defs/%s' % ref,
        })

    def type_validator(self, name: str) -> Draft202012Validator:
        """NAME as the corpora spell types: a type, or [ELEMENT]."""
        if name.startswith('['):
            return Draft202012Validator({
                '$schema': self.document['$schema'],
                '$defs': self.document['$defs'],
                'type': 'array',
                'items': {'$ref': '#/$defs/%s' % name[1:-1]},
            })
        return self.validator(name)

    def test_document_is_a_schema(self) -> None:
        Draft202012Validator.check_schema(self.document)
        self.assertEqual(self.document['$schema'],
                         'https://json-schema.org/draft/2020-12/schema')

    def test_corpora_agree_with_the_input_visitor(self) -> None:
        seen = set()
        for kind, accepted in (('roundtrip', True), ('bad-input', False)):
            files = sorted(glob.glob(os.path.join(CORPUS, kind, '*.json')))
            self.assertGreater(len(files), 20)
            for path in files:
                name = os.path.basename(path)
                with open(path, encoding='utf-8') as f:
                    case = json.load(f)
                valid = self.type_validator(case['type']).is_valid(
                    case['doc'])
                with self.subTest(corpus=kind, case=name):
                    if not accepted and name in DELIBERATE:
                        seen.add(name)
                        self.assertTrue(valid, DELIBERATE[name])
                    else:
                        self.assertEqual(valid, accepted, case.get('comment'))
        self.assertEqual(seen, set(DELIBERATE))

    def test_root_accepts_exactly_the_requests(self) -> None:
        root = Draft202012Validator(self.document)
        requests = [name[len('request:'):] for name in self.document['$defs']
                    if name.startswith('request:')]
        self.assertEqual(len(requests), len(self.document['oneOf']))
        self.assertIn('ks-no-args', requests)
        good = [
            {'execute': 'ks-no-args'},
            {'execute': 'ks-no-args', 'arguments': {}, 'id': 7},
            {'execute': 'ks-inline-args',
             'arguments': {'a': 1, 'colors': ['red']}, 'id': 'a'},
            {'execute': 'ks-inline-args',
             'arguments': {'a': -5, 'b': 'x', 'colors': [], 'alt': 'y'}},
            {'exec-oob': 'ks-oob', 'id': 1},        # allow-oob: either form
            {'execute': 'ks-oob'},
        ]
        bad = [
            {'execute': 'no-such-command'},
            {'execute': 'ks-no-args', 'arguments': {'extra': 1}},
            {'execute': 'ks-no-args', 'unknown': 1},
            {'execute': 'ks-inline-args'},          # mandatory arguments
            {'execute': 'ks-inline-args',
             'arguments': {'a': 1, 'colors': ['red'], 'extra': True}},
            {'execute': 'ks-inline-args',
             'arguments': {'a': 'one', 'colors': ['red']}},
            {'arguments': {}},
            {'exec-oob': 'ks-no-args'},             # not allow-oob
            {'execute': 'ks-oob', 'exec-oob': 'ks-oob'},
        ]
        for request in good:
            with self.subTest(request=request):
                self.assertTrue(root.is_valid(request))
        for request in bad:
            with self.subTest(request=request):
                self.assertFalse(root.is_valid(request))

    def test_replies_and_events(self) -> None:
        no_args = self.validator('reply:ks-no-args')
        self.assertTrue(no_args.is_valid({'return': {}, 'id': 1}))
        self.assertFalse(no_args.is_valid({'return': 5}))
        stamp = {'seconds': 1, 'microseconds': 0}
        event = self.validator('event:KS_EVENT_INLINE')
        self.assertTrue(event.is_valid({'event': 'KS_EVENT_INLINE',
                                        'data': {'a': 1, 'b': 'red'},
                                        'timestamp': stamp}))
        self.assertFalse(event.is_valid({'event': 'KS_EVENT_INLINE',
                                         'data': {'b': 'red'},
                                         'timestamp': stamp}))
        self.assertTrue(self.validator('event:KS_EVENT_NO_DATA').is_valid(
            {'event': 'KS_EVENT_NO_DATA', 'timestamp': stamp}))

    def test_2012_form(self) -> None:
        document = generate(COMPAT_2012, '--compat', '2012')
        Draft202012Validator.check_schema(document)
        self.assertTrue(document['oneOf'])

    def test_empty_data_and_annotated_values(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'small.json')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(SMALL)
            document = generate(path)
        Draft202012Validator.check_schema(document)

        def valid(ref: str, instance: Any) -> bool:
            return Draft202012Validator({
                '$schema': document['$schema'], '$defs': document['$defs'],
                '$ref': '#/$defs/%s' % ref}).is_valid(instance)

        stamp = {'seconds': 1, 'microseconds': 2}
        # An event whose data is empty has no 'data' (§3.6/2).
        self.assertTrue(valid('event:IMAGE_CHANGED',
                              {'event': 'IMAGE_CHANGED', 'timestamp': stamp}))
        self.assertTrue(valid('event:IMAGE_CHANGED',
                              {'event': 'IMAGE_CHANGED', 'timestamp': stamp,
                               'data': {'size': 1}}))
        self.assertFalse(valid('event:IMAGE_RESIZED',
                               {'event': 'IMAGE_RESIZED', 'timestamp': stamp}))
        # Arguments that are all optional may be left out.
        self.assertTrue(valid('request:set-accel', {'execute': 'set-accel'}))
        # Enum values carry their condition and deprecation.
        accel = document['$defs']['Accel']
        self.assertEqual(accel['oneOf'], [
            {'const': 'tcg'},
            {'const': 'kvm', '$comment': 'only if defined(CONFIG_KVM)'},
            {'const': 'old', 'deprecated': True}])
        self.assertTrue(valid('Accel', 'kvm'))
        self.assertFalse(valid('Accel', 'xen'))
        self.assertEqual(document['$defs']['Plain'],
                         {'type': 'string', 'enum': ['a', 'b']})
        # A struct closes itself (additionalProperties), so a recursive
        # one validates level by level: a backing chain of 60 images
        # (with unevaluatedProperties at every level, a validator
        # re-evaluates each level twice: 2^60 steps).
        self.assertIs(document['$defs']['Chain']['additionalProperties'],
                      False)
        chain: Dict[str, Any] = {'file': 'base'}
        for level in range(60):
            chain = {'file': 'f%d' % level, 'backing': chain}
        self.assertTrue(valid('reply:query-chain', {'return': chain}))
        deepest = chain
        while 'backing' in deepest['backing']:
            deepest = deepest['backing']
        deepest['backing']['extra'] = 1
        self.assertFalse(valid('reply:query-chain', {'return': chain}))

    def test_every_accepted_schema(self) -> None:
        """Every schema the generator cases accept (NAME.json with a
        NAME.out, in either form) gives a valid document whose root has a
        request per command and whose references all resolve."""
        cases = sorted(
            path for path in glob.glob(os.path.join(ROOT, 'tests',
                                                    'qapi-schema', '*.json'))
            if os.path.exists(path[:-len('.json')] + '.out'))
        self.assertGreater(len(cases), 100)
        for path in cases:
            name = os.path.basename(path)
            with self.subTest(case=name):
                compat = '2012' if name.startswith('compat-2012-') else None
                schema = QAPISchema(path, compat=compat)
                document = json.loads(json_schema(schema, name))
                Draft202012Validator.check_schema(document)
                commands = [e for e in schema.entities
                            if isinstance(e, Command)]
                self.assertEqual(len(document.get('oneOf', [])),
                                 len(commands))
                if not commands:
                    root = Draft202012Validator(document)
                    self.assertFalse(root.is_valid({'execute': 'x'}))
                refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"',
                                  json.dumps(document))
                self.assertEqual(set(refs) - set(document['$defs']), set())


if __name__ == '__main__':
    unittest.main()
