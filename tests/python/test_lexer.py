# SPDX-License-Identifier: MIT
"""Tests of the lexical layer (docs/spec/qapi-language.md §1):
qapi.parser.Lexer, qapi.parser.column and the file reading of
qapi.parser.read_schema.

    PYTHONPATH=scripts python3 -m unittest -v tests/python/test_lexer.py
"""

import os
import sys
import tempfile
import unittest
from typing import List, Optional, Tuple, Union

_SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, 'scripts')
if os.path.normpath(_SCRIPTS) not in map(os.path.normpath, sys.path):
    sys.path.insert(0, os.path.normpath(_SCRIPTS))

from qapi.error import QAPIError  # noqa: E402
from qapi.parser import Lexer, column, read_schema  # noqa: E402
from qapi.source import QAPISourceInfo  # noqa: E402

FNAME = 'lex-test.json'

# (tok, val, tok_line); val is None for tokens without a value.
Token = Tuple[str, Optional[Union[str, bool]], int]


def make_lexer(text: str) -> Lexer:
    return Lexer(text, QAPISourceInfo(FNAME, 1, None))


def tokens(text: str, top: bool = False) -> List[Token]:
    """All tokens of TEXT up to and including 'eof'."""
    lex = make_lexer(text)
    result: List[Token] = []
    while True:
        lex.next(top=top)
        val = lex.val if lex.tok in ('str', 'bool') else None
        result.append((lex.tok, val, lex.tok_line))
        if lex.tok == 'eof':
            return result
        if len(result) > 10000:
            raise AssertionError('lexer does not reach eof')


def kinds(text: str, top: bool = False) -> List[str]:
    return [tok for tok, _, _ in tokens(text, top)]


class LexerTestCase(unittest.TestCase):

    def lex_error(self, text: str, top: bool = False) -> QAPIError:
        """The error lexing TEXT to its end raises."""
        lex = make_lexer(text)
        with self.assertRaises(QAPIError) as ctx:
            for _ in range(10000):
                lex.next(top=top)
                if lex.tok == 'eof':
                    break
        return ctx.exception

    def assert_error_at(self, err: QAPIError, line: int, col: int) -> None:
        self.assertIsNotNone(err.info)
        assert err.info is not None
        self.assertEqual(err.info.fname, FNAME)
        self.assertEqual((err.info.line, err.col), (line, col), str(err))
        self.assertIn('%s:%d:%d: ' % (FNAME, line, col), str(err))

    def token_col(self, text: str, count: int) -> Tuple[str, int, int]:
        """Token COUNT (1-based) of TEXT: its kind, line and column."""
        lex = make_lexer(text)
        for _ in range(count):
            lex.next()
        err = lex.error('here')
        assert err.info is not None and err.col is not None
        return lex.tok, err.info.line, err.col

    def parse_error(self, text: str) -> QAPIError:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, FNAME)
            with open(path, 'w', encoding='utf-8', newline='') as file:
                file.write(text)
            with self.assertRaises(QAPIError) as ctx:
                read_schema(path)
        err = ctx.exception
        assert err.info is not None
        self.assertEqual(err.info.fname, path)
        return err


class TokenTest(LexerTestCase):
    """§1/1, §1/3: the tokens and their values."""

    def test_structural(self) -> None:
        self.assertEqual(kinds('{}[]:,'),
                         ['{', '}', '[', ']', ':', ',', 'eof'])

    def test_empty_text(self) -> None:
        self.assertEqual(tokens(''), [('eof', None, 1)])
        self.assertEqual(tokens('', top=True), [('eof', None, 1)])

    def test_only_whitespace(self) -> None:
        self.assertEqual(tokens(' \t\n\r\n  \n'), [('eof', None, 4)])

    def test_strings(self) -> None:
        self.assertEqual(tokens("'abc' 'x-y_z.1' ''"),
                         [('str', 'abc', 1), ('str', 'x-y_z.1', 1),
                          ('str', '', 1), ('eof', None, 1)])

    def test_booleans(self) -> None:
        self.assertEqual(tokens('true false'),
                         [('bool', True, 1), ('bool', False, 1),
                          ('eof', None, 1)])

    def test_bool_values_are_bool(self) -> None:
        lex = make_lexer('true')
        lex.next()
        self.assertIs(lex.val, True)
        lex = make_lexer('false')
        lex.next()
        self.assertIs(lex.val, False)

    def test_quoted_true_is_a_string(self) -> None:
        self.assertEqual(tokens("'true'")[0], ('str', 'true', 1))

    def test_expression(self) -> None:
        text = "{ 'enum': 'Foo', 'data': [ 'a', 'b' ], 'x': true }"
        self.assertEqual(tokens(text), [
            ('{', None, 1), ('str', 'enum', 1), (':', None, 1),
            ('str', 'Foo', 1), (',', None, 1), ('str', 'data', 1),
            (':', None, 1), ('[', None, 1), ('str', 'a', 1), (',', None, 1),
            ('str', 'b', 1), (']', None, 1), (',', None, 1),
            ('str', 'x', 1), (':', None, 1), ('bool', True, 1),
            ('}', None, 1), ('eof', None, 1)])

    def test_no_whitespace_needed(self) -> None:
        self.assertEqual(tokens("{'a':['b',true]}"), [
            ('{', None, 1), ('str', 'a', 1), (':', None, 1), ('[', None, 1),
            ('str', 'b', 1), (',', None, 1), ('bool', True, 1),
            (']', None, 1), ('}', None, 1), ('eof', None, 1)])

    def test_tok_line(self) -> None:
        text = "{\n  'a':\n\n   'b'\n}\n"
        self.assertEqual(tokens(text), [
            ('{', None, 1), ('str', 'a', 2), (':', None, 2),
            ('str', 'b', 4), ('}', None, 5), ('eof', None, 6)])

    def test_crlf_line_ends(self) -> None:
        text = "{\r\n'a'\r\n:\r\n'b'\r\n}\r\n"
        self.assertEqual(tokens(text), [
            ('{', None, 1), ('str', 'a', 2), (':', None, 3),
            ('str', 'b', 4), ('}', None, 5), ('eof', None, 6)])

    def test_missing_final_newline(self) -> None:
        self.assertEqual(tokens("{\n}"), [
            ('{', None, 1), ('}', None, 2), ('eof', None, 2)])

    def test_escaped_backslash(self) -> None:
        # Schema text 'a\\b' is the three characters a, backslash, b.
        self.assertEqual(tokens(r"'a\\b'")[0], ('str', 'a\\b', 1))
        self.assertEqual(tokens(r"'\\'")[0], ('str', '\\', 1))
        self.assertEqual(tokens(r"'\\\\'")[0], ('str', '\\\\', 1))
        self.assertEqual(len(tokens(r"'\\'")[0][1] or ''), 1)

    def test_every_printable_character(self) -> None:
        chars = ''.join(chr(c) for c in range(32, 127)
                        if chr(c) not in "'\\")
        self.assertEqual(tokens("'" + chars + "'")[0], ('str', chars, 1))

    def test_special_characters_are_plain_text_in_strings(self) -> None:
        # §1/3: '{', '#', '"' and the like inside a string are plain text.
        for text in ('{', '}', '[', ']', ':', ',', '#', '##', '"', 'a # b',
                     'true', 'null', '1.5'):
            with self.subTest(text=text):
                self.assertEqual(tokens("'%s'" % text),
                                 [('str', text, 1), ('eof', None, 1)])


class CommentTest(LexerTestCase):
    """§1/4: comments."""

    def test_comment_lines_skipped(self) -> None:
        text = "# comment { [ 'x\n{ # after code ] 'y\n# more\n}\n# last"
        self.assertEqual(tokens(text), [
            ('{', None, 2), ('}', None, 4), ('eof', None, 5)])

    def test_comment_right_after_token(self) -> None:
        self.assertEqual(tokens("'a'#c\n'b'"), [
            ('str', 'a', 1), ('str', 'b', 2), ('eof', None, 2)])

    def test_comment_at_end_without_newline(self) -> None:
        self.assertEqual(tokens('{}# end'),
                         [('{', None, 1), ('}', None, 1), ('eof', None, 1)])

    def test_comment_with_crlf(self) -> None:
        self.assertEqual(tokens("# c\r\n{\r\n# d\r\n}"), [
            ('{', None, 2), ('}', None, 4), ('eof', None, 4)])

    def test_comment_with_non_ascii(self) -> None:
        # Only strings are restricted to printable ASCII.
        self.assertEqual(kinds('# caf\u00e9 \t\x01\n{}'), ['{', '}', 'eof'])

    def test_double_hash_is_comment_when_not_top(self) -> None:
        text = "##\n# @Foo:\n##\n{}"
        self.assertEqual(tokens(text), [
            ('{', None, 4), ('}', None, 4), ('eof', None, 4)])
        self.assertEqual(kinds("## text on the line\n{}"),
                         ['{', '}', 'eof'])

    def test_double_hash_inside_expression(self) -> None:
        # Inside an expression the parser calls next() without top.
        text = "{ ## not a doc block\n  'a': 'b' ##\n}"
        self.assertEqual(tokens(text), [
            ('{', None, 1), ('str', 'a', 2), (':', None, 2),
            ('str', 'b', 2), ('}', None, 3), ('eof', None, 3)])

    def test_double_hash_inside_expression_of_schema(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'doc-inside.json')
            with open(path, 'w', encoding='utf-8') as file:
                file.write("{ 'enum': 'Foo', ## not a doc\n"
                           "  'data': [ 'a' ] ## neither\n}\n")
            parsed = read_schema(path)
        self.assertEqual(len(parsed.definitions), 1)
        self.assertEqual(parsed.definitions[0].expr,
                         {'enum': 'Foo', 'data': ['a']})
        self.assertEqual(parsed.free_docs, [])


class DocBlockTest(LexerTestCase):
    """§1/4: '##' between top-level expressions opens a doc block."""

    def test_doc_block(self) -> None:
        text = ("# plain comment\n"
                "##\n"
                "# @Foo:\n"
                "#\n"
                "# Some text.\n"
                "#   indented\n"
                "##\n"
                "{ 'enum': 'Foo', 'data': [] }\n")
        lex = make_lexer(text)
        lex.next(top=True)
        self.assertEqual(lex.tok, 'doc')
        self.assertEqual(lex.tok_line, 2)
        self.assertEqual([(d.line, d.text) for d in lex.doc_lines], [
            (3, '@Foo:'), (4, ''), (5, 'Some text.'), (6, '  indented')])
        lex.next(top=True)
        self.assertEqual((lex.tok, lex.tok_line), ('{', 8))

    def test_doc_line_columns(self) -> None:
        text = "##\n# @Foo:\n  # text\n\t# tab\n##\n"
        lex = make_lexer(text)
        lex.next(top=True)
        self.assertEqual(lex.tok, 'doc')
        texts = [(d.line, d.text) for d in lex.doc_lines]
        self.assertEqual(texts, [(2, '@Foo:'), (3, 'text'), (4, 'tab')])
        cols = [d.col for d in lex.doc_lines]
        self.assertEqual(cols, [3, 5, 11])

    def test_doc_block_crlf(self) -> None:
        text = "##\r\n# @Foo:\r\n#\r\n# text\r\n##\r\n{}\r\n"
        lex = make_lexer(text)
        lex.next(top=True)
        self.assertEqual(lex.tok, 'doc')
        self.assertEqual([(d.line, d.text) for d in lex.doc_lines],
                         [(2, '@Foo:'), (3, ''), (4, 'text')])
        lex.next(top=True)
        self.assertEqual((lex.tok, lex.tok_line), ('{', 6))

    def test_two_doc_blocks(self) -> None:
        text = "##\n# = Title\n##\n\n##\n# @Foo:\n##\n{}"
        self.assertEqual(tokens(text, top=True), [
            ('doc', None, 1), ('doc', None, 5), ('{', None, 8),
            ('}', None, 8), ('eof', None, 8)])

    def test_doc_block_indented(self) -> None:
        text = "  ##\n  # @Foo:\n  ##\n{}"
        lex = make_lexer(text)
        lex.next(top=True)
        self.assertEqual((lex.tok, lex.tok_line), ('doc', 1))
        self.assertEqual([(d.line, d.text) for d in lex.doc_lines],
                         [(2, '@Foo:')])

    def test_single_hash_not_a_doc_block_at_top(self) -> None:
        self.assertEqual(kinds("# @Foo:\n#\n{}", top=True),
                         ['{', '}', 'eof'])

    def test_unclosed_doc_block_at_eof(self) -> None:
        err = self.lex_error("##\n# @Foo:\n# text", top=True)
        self.assert_error_at(err, 3, 7)

    def test_unclosed_doc_block_at_eof_newline(self) -> None:
        err = self.lex_error("##\n# @Foo:\n# text\n", top=True)
        self.assert_error_at(err, 3, 7)


class ColumnTest(LexerTestCase):
    """§1/7: columns from 1, tab stops 1, 9, 17, ..."""

    def test_column_function(self) -> None:
        cases = [
            ('abc', 0, 1),
            ('abc', 2, 3),
            ('abc', 3, 4),
            ('\t{', 1, 9),
            (' \t{', 2, 9),
            ('ab\t\t{', 4, 17),
            ('1234567\tx', 8, 9),
            ('12345678\tx', 9, 17),
            ('\t\t\tx', 3, 25),
            ('\t \tx', 3, 17),
            ('a\tb\tc', 4, 17),
            ('', 0, 1),
        ]
        for text, index, expected in cases:
            with self.subTest(text=text, index=index):
                self.assertEqual(column(text, index), expected)

    def test_token_columns(self) -> None:
        cases = [
            ('{', 1, 1),
            ('   {', 1, 4),
            ('\t{', 1, 9),
            (' \t{', 1, 9),
            ('       \t{', 1, 9),
            ('        \t{', 1, 17),
            ('[]\t\t{', 3, 17),
            ("'ab'\t\t{", 2, 17),
            ("{ 'a': 'b' }", 4, 8),
        ]
        for text, count, col in cases:
            with self.subTest(text=text):
                self.assertEqual(self.token_col(text, count)[2], col)

    def test_token_columns_on_later_lines(self) -> None:
        self.assertEqual(self.token_col("{\n\t'a'", 2), ('str', 2, 9))
        self.assertEqual(self.token_col("{\r\n\t'a'", 2), ('str', 2, 9))
        self.assertEqual(self.token_col("{\r\n  'a'\r\n :", 3), (':', 3, 2))

    def test_stray_after_tab(self) -> None:
        self.assert_error_at(self.lex_error('\tnull'), 1, 9)
        self.assert_error_at(self.lex_error(' \tnull'), 1, 9)
        self.assert_error_at(self.lex_error('[]\t\tnull'), 1, 17)
        self.assert_error_at(self.lex_error('{\n  \t  null'), 2, 11)


class StringErrorTest(LexerTestCase):
    """§1/3, §1/7: a faulty string is an error at its opening quote."""

    def test_unterminated(self) -> None:
        self.assert_error_at(self.lex_error("'abc"), 1, 1)
        self.assert_error_at(self.lex_error("{ 'a': 'abc"), 1, 8)
        self.assert_error_at(self.lex_error("{\n\t'abc"), 2, 9)

    def test_string_ends_on_its_line(self) -> None:
        # The quote on the next line does not close it.
        self.assert_error_at(self.lex_error("  'abc\n'"), 1, 3)
        self.assert_error_at(self.lex_error("  'abc\r\n'"), 1, 3)
        self.assert_error_at(self.lex_error("{\n 'a\n' }"), 2, 2)

    def test_quote_after_escaped_backslash(self) -> None:
        # The quote after the escape '\\' closes the string: 'a\\' is
        # fine; 'a\\ is not closed; in 'a\\\' the third backslash
        # starts the invalid escape \'.
        self.assertEqual(tokens(r"'a\\'")[0], ('str', 'a\\', 1))
        self.assert_error_at(self.lex_error(r" 'a\\"), 1, 2)
        err = self.lex_error(r" 'a\\\'")
        self.assert_error_at(err, 1, 2)
        self.assertIn("\\'", err.msg)

    def test_bad_escape(self) -> None:
        err = self.lex_error(r"{ 'a': 'x\ny' }")
        self.assert_error_at(err, 1, 8)
        self.assertIn('\\n', err.msg)       # names the sequence

    def test_other_bad_escapes(self) -> None:
        for seq in ('\\t', "\\'", '\\"', '\\u0041', '\\x41', '\\ ', '\\0',
                    '\\/'):
            with self.subTest(seq=seq):
                err = self.lex_error("[ 'a%sb' ]" % seq)
                self.assert_error_at(err, 1, 3)
                self.assertIn(seq[:2], err.msg)

    def test_tab_in_string(self) -> None:
        self.assert_error_at(self.lex_error("\t'a\tb'"), 1, 9)

    def test_non_ascii_in_string(self) -> None:
        err = self.lex_error("{ 'caf\u00e9': 'x' }")
        self.assert_error_at(err, 1, 3)
        err = self.lex_error("{\n  'a': '\u00e9' }")
        self.assert_error_at(err, 2, 8)

    def test_control_characters_in_string(self) -> None:
        for ch in ('\x00', '\x01', '\x1f', '\x7f', '\x0b', '\x0c', '\u2028',
                   '\U0001f600'):
            with self.subTest(ch=repr(ch)):
                self.assert_error_at(self.lex_error("  'a%sb'" % ch), 1, 3)

    def test_cr_in_string(self) -> None:
        self.assert_error_at(self.lex_error("  'a\rb'"), 1, 3)

    def test_error_after_good_tokens(self) -> None:
        text = "{ 'enum': 'Foo',\n  'data': [ 'ok', 'b\\ad' ] }"
        self.assert_error_at(self.lex_error(text), 2, 19)


class StrayTest(LexerTestCase):
    """§1/2: stray text, quoted up to whitespace, structural character or
    quote."""

    def check_stray(self, text: str, line: int, col: int, run: str) -> None:
        err = self.lex_error(text)
        self.assert_error_at(err, line, col)
        self.assertIn("'%s'" % run, err.msg)
        return None

    def test_number(self) -> None:
        self.check_stray('42', 1, 1, '42')
        self.check_stray("{ 'a': 42 }", 1, 8, '42')
        self.check_stray("[ -1, 2 ]", 1, 3, '-1')
        self.check_stray("[3.14]", 1, 2, '3.14')
        self.check_stray("{'a':1}", 1, 6, '1')

    def test_null(self) -> None:
        self.check_stray('null', 1, 1, 'null')
        self.check_stray("{ 'a': null, 'b': 'c' }", 1, 8, 'null')
        self.check_stray("[null]", 1, 2, 'null')

    def test_bare_word(self) -> None:
        self.check_stray("{ enum: 'Foo' }", 1, 3, 'enum')
        self.check_stray("{ 'a': Foo}", 1, 8, 'Foo')
        for word in ('True', 'FALSE', 'truex', 'xtrue', 'none'):
            with self.subTest(word=word):
                self.check_stray('[ %s ]' % word, 1, 3, word)

    def test_double_quoted_string(self) -> None:
        self.check_stray('{ "a": "b" }', 1, 3, '"a"')
        self.check_stray('{ \'a\': "b" }', 1, 8, '"b"')

    def test_run_cut_at_whitespace(self) -> None:
        err = self.lex_error('[ "abc def" ]')
        self.assert_error_at(err, 1, 3)
        self.assertIn("'\"abc'", err.msg)
        self.assertNotIn('def', err.msg)
        err = self.lex_error('"abc\tdef"')
        self.assertIn("'\"abc'", err.msg)
        self.assertNotIn('def', err.msg)
        err = self.lex_error('"abc\ndef"')
        self.assertIn("'\"abc'", err.msg)
        self.assertNotIn('def', err.msg)
        err = self.lex_error('"abc\r\ndef"')
        self.assertIn("'\"abc'", err.msg)
        self.assertNotIn('def', err.msg)

    def test_run_cut_at_structural(self) -> None:
        for sep in '{}[]:,':
            with self.subTest(sep=sep):
                err = self.lex_error('"abc%sdef"' % sep)
                self.assert_error_at(err, 1, 1)
                self.assertIn("'\"abc'", err.msg)
                self.assertNotIn('def', err.msg)

    def test_run_cut_at_quote(self) -> None:
        err = self.lex_error('"abc\'def\'"')
        self.assert_error_at(err, 1, 1)
        self.assertIn("'\"abc'", err.msg)
        self.assertNotIn('def', err.msg)

    def test_stray_on_later_line(self) -> None:
        self.check_stray("{ 'a':\n\n    12 }", 3, 5, '12')
        self.check_stray("{\r\n  'a':\r\n\tnull }", 3, 9, 'null')

    def test_stray_non_ascii(self) -> None:
        err = self.lex_error("{ 'a': \u00e9t\u00e9 }")
        self.assert_error_at(err, 1, 8)
        self.assertIn('stray', err.msg)


class EndOfFileTest(LexerTestCase):
    """§1/7: end of file sits just after the last character of the last
    line."""

    def eof_pos(self, text: str) -> Tuple[int, Optional[int]]:
        lex = make_lexer(text)
        while lex.tok != 'eof':
            lex.next()
        err = lex.eof_error('end')
        assert err.info is not None
        return err.info.line, err.col

    def test_eof_error(self) -> None:
        cases = [
            ("{ 'a': 'b'", (1, 11)),
            ("{ 'a': 'b'\n", (1, 11)),
            ("{ 'a': 'b'\r\n", (1, 11)),
            ("{\n  'a': 'b'", (2, 11)),
            ("{\n  'a': 'b'\n", (2, 11)),
            ("{\r\n  'a': 'b'\r\n", (2, 11)),
            ("{ 'a': 'b' # c\n", (1, 15)),
            ("{\n\t'a'\n", (2, 12)),
            ('', (1, 1)),
            ('\n', (1, 1)),
        ]
        for text, pos in cases:
            with self.subTest(text=text):
                self.assertEqual(self.eof_pos(text), pos)

    def test_grammar_error_at_eof(self) -> None:
        cases = [
            ("{ 'enum': 'Foo'", (1, 16)),
            ("{ 'enum': 'Foo'\n", (1, 16)),
            ("{ 'enum': 'Foo'\r\n", (1, 16)),
            ("{ 'enum': 'Foo',\n  'data': [ 'a'\n", (2, 16)),
            ("{ 'enum':\n", (1, 10)),
            ("{\n", (1, 2)),
            ("{ 'enum': 'Foo' # comment\n", (1, 26)),
        ]
        for text, (line, col) in cases:
            with self.subTest(text=text):
                err = self.parse_error(text)
                self.assertEqual((err.info.line, err.col),  # type: ignore
                                 (line, col), str(err))
                self.assertIn('end of file', err.msg)


class GrammarPositionTest(LexerTestCase):
    """§1/5-7: grammar errors point at the token being examined and say
    what would have been accepted; a top-level non-object is an error at
    its line without column."""

    def test_positions(self) -> None:
        cases = [
            # text, line, col, a word of what is expected
            ("{ 'a' 'b' }", 1, 7, "':'"),
            ("{ 'a': }", 1, 8, 'value'),
            ("{ 'a': [ 'x', ] }", 1, 15, 'value'),
            ("{ 'a': [ , 'x' ] }", 1, 10, 'value'),
            ("{ 'a': [ 'x',, 'y' ] }", 1, 14, 'value'),
            ("{ 'a': 'b', }", 1, 13, 'string'),
            ("{ , 'a': 'b' }", 1, 3, 'string'),
            ("{ 'a': 'b' ]", 1, 12, "'}'"),
            ("{ 'a': [ 'b' }", 1, 14, "']'"),
            ("{ true: 'b' }", 1, 3, 'string'),
            ("{\r\n  'a'\r\n\t'b' }", 3, 9, "':'"),
        ]
        for text, line, col, word in cases:
            with self.subTest(text=text):
                err = self.parse_error(text)
                self.assertEqual((err.info.line, err.col),  # type: ignore
                                 (line, col), str(err))
                self.assertIn(word, err.msg)

    def test_duplicate_key_at_value(self) -> None:
        # §1/7: the token after the colon of a repeated key.
        err = self.parse_error("{ 'a': 'b',\n  'a': \t'c' }")
        self.assertEqual((err.info.line, err.col), (2, 9))  # type: ignore
        self.assertIn("'a'", err.msg)

    def test_top_level_not_object(self) -> None:
        # §1/6: at its first line, no column.
        for text, line in (("\n\n  'str'", 3), ('{}\n[ ]', 2),
                           ('{}\n}', 2), ('true', 1)):
            with self.subTest(text=text):
                err = self.parse_error(text)
                self.assertEqual(err.info.line, line)  # type: ignore
                self.assertIsNone(err.col)


class ReadSchemaTest(LexerTestCase):
    """§1/1: reading files."""

    def read_error(self, data: bytes) -> Tuple[QAPIError, str]:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'bad-utf8.json')
            with open(path, 'wb') as file:
                file.write(data)
            with self.assertRaises(QAPIError) as ctx:
                read_schema(path)
        return ctx.exception, path

    def check_bad_utf8(self, data: bytes, line: int, col: int) -> None:
        err, path = self.read_error(data)
        assert err.info is not None
        self.assertEqual(err.info.fname, path)
        self.assertEqual((err.info.line, err.col), (line, col), str(err))
        self.assertIn('%s:%d:%d' % (path, line, col), str(err))
        self.assertIn('UTF-8', str(err))

    def test_non_utf8_in_string(self) -> None:
        self.check_bad_utf8(b"{ 'enum': 'Foo',\n  'data': [ '\xff' ] }\n",
                            2, 14)

    def test_non_utf8_first_byte(self) -> None:
        self.check_bad_utf8(b"\xfe{}", 1, 1)

    def test_non_utf8_in_comment(self) -> None:
        self.check_bad_utf8(b"# ok\n# latin-1 caf\xe9\n{}\n", 2, 14)

    def test_non_utf8_after_tab(self) -> None:
        # \xc3 followed by a quote is a bad sequence starting at \xc3
        self.check_bad_utf8(b"{\n\t'\xc3' }", 2, 10)

    def test_non_utf8_crlf(self) -> None:
        self.check_bad_utf8(b"{\r\n  'a': 'b',\r\n  \x80 }", 3, 3)

    def test_truncated_sequence_at_eof(self) -> None:
        self.check_bad_utf8(b"{}\n\xc3", 2, 1)

    def test_unreadable_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'missing.json')
            with self.assertRaises(QAPIError) as ctx:
                read_schema(path)
        self.assertIn(path, str(ctx.exception))

    def test_good_file(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'good.json')
            with open(path, 'wb') as file:
                file.write(b"# caf\xc3\xa9\r\n{ 'enum': 'Foo',\r\n"
                           b"  'data': [ 'a', 'b\\\\c' ] }")
            parsed = read_schema(path)
        self.assertEqual([d.expr for d in parsed.definitions],
                         [{'enum': 'Foo', 'data': ['a', 'b\\c']}])
        self.assertEqual(parsed.definitions[0].info.line, 2)

    def test_empty_file(self) -> None:
        # §1/6: an empty file is a valid, empty schema.
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'empty.json')
            with open(path, 'wb'):
                pass
            parsed = read_schema(path)
        self.assertEqual(parsed.definitions, [])


if __name__ == '__main__':
    unittest.main()
