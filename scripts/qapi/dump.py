# SPDX-License-Identifier: MIT
"""The --dump-model backend: the checked model as stable text.

The format is documented in tests/qapi-schema/README.md; golden tests
compare it byte for byte, so change both together.
"""

from typing import List, Optional, Sequence

from .doc import QAPIDoc, Section
from .schema import (AlternateType, ArrayType, Command, EnumType, Event,
                     Feature, IfCond, Module, ObjectMember, ObjectType,
                     QAPISchema, SchemaVisitor, UnionType, Variant)

INDENT = '  '


class ModelDumper(SchemaVisitor):
    def __init__(self) -> None:
        self.lines: List[str] = []
        self.schema: Optional[QAPISchema] = None
        self.module: Optional[Module] = None

    def text(self) -> str:
        return ''.join(line + '\n' for line in self.lines)

    def out(self, depth: int, text: str) -> None:
        self.lines.append(INDENT * depth + text)

    # Pieces

    def _ifcond(self, depth: int, ifcond: IfCond) -> None:
        if ifcond.is_present():
            self.out(depth, 'if %s' % ifcond.cgen())

    def _features(self, depth: int, features: Sequence[Feature]) -> None:
        for feat in features:
            self.out(depth, 'feature %s' % feat.name)
            self._ifcond(depth + 1, feat.ifcond)

    def _head(self, entity_line: str, ifcond: IfCond,
              features: Sequence[Feature]) -> None:
        self.out(0, entity_line)
        self._ifcond(1, ifcond)
        self._features(1, features)

    def _member(self, member: ObjectMember) -> None:
        assert member.type is not None
        self.out(1, 'member %s: %s%s' % (member.name, member.type.name,
                                          ' optional' if member.optional
                                          else ''))
        self._ifcond(2, member.ifcond)
        self._features(2, member.features)

    def _branch(self, variant: Variant) -> None:
        assert variant.type is not None
        self.out(1, 'branch %s: %s%s' % (variant.name, variant.type.name,
                                          ' (implicit)' if variant.implicit
                                          else ''))
        self._ifcond(2, variant.ifcond)

    def _section(self, depth: int, title: str, section: Section) -> None:
        text = section.text()
        self.out(depth, title)
        for line in text.split('\n') if text else []:
            self.out(depth + 1, ('| ' + line).rstrip())

    def _doc(self, depth: int, doc: Optional[QAPIDoc]) -> None:
        if doc is None:
            return
        if doc.symbol is None:
            self.out(depth, 'doc free-form')
        elif doc.legacy:
            self.out(depth, 'doc 2012-form')
        else:
            self.out(depth, 'doc')
        if doc.body.text():
            self._section(depth + 1, 'body', doc.body)
        for name, section in doc.args.items():
            self._section(depth + 1, '@%s' % name, section)
        for name, section in doc.features.items():
            self._section(depth + 1, 'feature @%s' % name, section)
        for section in doc.sections:
            if section.tag is None:
                title = 'untitled'
            elif section.tag.startswith('='):
                title = 'heading %d' % len(section.tag)
            else:
                title = section.tag + ':'
            self._section(depth + 1, title, section)

    # Visitor

    def visit_begin(self, schema: QAPISchema) -> None:
        self.schema = schema
        pragmas = schema.pragmas
        if pragmas.doc_required:
            self.out(0, 'pragma doc-required')
        for name, values in pragmas.lists.items():
            if values:
                self.out(0, 'pragma %s: %s' % (name, ' '.join(values)))

    def visit_module(self, module: Module) -> None:
        self._end_module()
        self.module = module
        if module.is_builtin():
            return
        self.out(0, 'module %s' % module.name)
        for inc in module.includes:
            self.out(1, 'include %s' % inc.name)

    def visit_end(self) -> None:
        self._end_module()

    def _end_module(self) -> None:
        """Free-form doc blocks go at the end of their module."""
        if self.module is None or self.module.is_builtin():
            return
        assert self.schema is not None
        for doc in self.schema.free_docs:
            if self.schema.module_name(doc.info.fname) == self.module.name:
                self._doc(0, doc)

    def visit_enum_type(self, entity: EnumType) -> None:
        if self.module is not None and self.module.is_builtin():
            return
        self._head('enum %s' % entity.name, entity.ifcond, entity.features)
        if entity.prefix is not None:
            self.out(1, 'prefix %s' % entity.prefix)
        for member in entity.members:
            self.out(1, 'value %s' % member.name)
            self._ifcond(2, member.ifcond)
            self._features(2, member.features)
        self._doc(1, entity.doc)

    def visit_array_type(self, entity: ArrayType) -> None:
        if self.module is not None and self.module.is_builtin():
            return
        self.out(0, 'array %s of %s' % (entity.name,
                                         entity.element_type_name))
        self._ifcond(1, entity.ifcond)

    def visit_object_type(self, entity: ObjectType) -> None:
        if self.module is not None and self.module.is_builtin():
            return
        kind = 'union' if isinstance(entity, UnionType) else 'struct'
        line = '%s %s' % (kind, entity.name)
        if entity.implicit_of:
            line += ' (implicit: %s)' % entity.implicit_of
        self._head(line, entity.ifcond, entity.features)
        if entity.base is not None:
            self.out(1, 'base %s' % entity.base.name)
        for member in entity.local_members:
            self._member(member)
        if isinstance(entity, UnionType):
            if entity.simple:
                self.out(1, '2012-form simple union')
            self.out(1, 'tag %s' % entity.tag_name)
            for variant in entity.variants:
                self._branch(variant)
        self._doc(1, entity.doc)

    def visit_alternate_type(self, entity: AlternateType) -> None:
        self._head('alternate %s' % entity.name, entity.ifcond,
                   entity.features)
        for variant in entity.variants:
            self._branch(variant)
        self._doc(1, entity.doc)

    def visit_command(self, entity: Command) -> None:
        self._head('command %s' % entity.name, entity.ifcond,
                   entity.features)
        if entity.arg_type is not None:
            self.out(1, 'data %s' % entity.arg_type.name)
        if entity.ret_type is not None:
            self.out(1, 'returns %s' % entity.ret_type.name)
        flags = [name for name, on in (
            ('boxed', entity.boxed), ('no-gen', not entity.gen),
            ('no-success-response', not entity.success_response),
            ('allow-oob', entity.allow_oob),
            ('allow-preconfig', entity.allow_preconfig),
            ('coroutine', entity.coroutine),
            ('unchecked', entity.unchecked)) if on]
        if flags:
            self.out(1, 'flags %s' % ' '.join(flags))
        self._doc(1, entity.doc)

    def visit_event(self, entity: Event) -> None:
        self._head('event %s' % entity.name, entity.ifcond, entity.features)
        if entity.arg_type is not None:
            self.out(1, 'data %s' % entity.arg_type.name)
        if entity.boxed:
            self.out(1, 'flags boxed')
        self._doc(1, entity.doc)


def dump_model(schema: QAPISchema) -> str:
    dumper = ModelDumper()
    schema.visit(dumper)
    return dumper.text()
