# SPDX-License-Identifier: MIT
"""qapi-gen.py --doc html|markdown|man (docs/spec/qapi-language.md §12.4):
the reference manual, checked with the real tools (Debian's tidy with
errors and warnings fatal, cmark for the CommonMark and its anchors,
man --warnings for the man page) on the kitchen sink, the daemon's QMP
reference and a schema that uses every piece of doc markup; what it
shows (deprecated features, optional members, links, conditions,
examples, contents, index); and the command line around it."""

import glob
import os
import re
import subprocess
import sys
import tempfile
import unittest
from html.parser import HTMLParser
from typing import Callable, Dict, List, Optional, Set, Tuple

from qapi.manual import manual_name, render
from qapi.manual.text import Bullets, Literal, Para, parse_blocks
from qapi.schema import QAPISchema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(ROOT, 'scripts', 'qapi-gen.py')
KITCHEN_SINK = os.path.join(ROOT, 'tests', 'qapi-schema',
                            'qapi-schema-test.json')
QMP_WIRE = os.path.join(ROOT, 'qapi', 'qmp-wire.json')
COMPAT_2012 = os.path.join(ROOT, 'tests', 'compat-2012', 'disks-2012.json')
FORMATS = {'html': 'html', 'markdown': 'md', 'man': '7'}

# Every piece of doc markup the manual recognises, and text that each
# format must escape.
RICH = r"""
##
# = Drawing reference
#
# What the *drawing* service offers: **every** command, ``code`` and a
# reference to @Point.
#
# == Shapes
#
# Points are written so::
#
#     { "x": 1, "y": 2 }
#
#     { "x": 3, "y": 4 }
#
# Two rules:
#
# - coordinates are integers, see @Point
# - colors are optional
##

##
# @Color:
#
# A color.  Escapes: <b>&amp; [x](y) \fB # _under_ 1. not a list
#
# @red: the red one
#
# @blue: the blue one
#
# Since: 1.2
##
{ 'enum': 'Color',
  'data': [ 'red',
            { 'name': 'blue',
              'if': { 'all': [ 'CONFIG_BLUE',
                               { 'not': 'CONFIG_NO_BLUE' } ] } } ] }

##
# @Point:
#
# A point of the plane.
#
# @x: abscissa
#
# @y: ordinate
#
# @color: its color
#
# @old-x: the abscissa, under its first name
#
# Features:
#
# @deprecated: use @x instead
##
{ 'struct': 'Point',
  'data': { 'x': 'int', 'y': 'int', '*color': 'Color',
            '*old-x': { 'type': 'int', 'features': [ 'deprecated' ] } } }

##
# == Commands
##

##
# @draw:
#
# Draw a point.
#
# .TH starts this paragraph, 'quote too; it is no request, and a
# backslash \ stays.
#
# @at: where to draw
#
# @shade: how dark, in percent
#
# Returns: the color drawn
#
# Example:
#
# -> { "execute": "draw",
#      "arguments": { "at": { "x": 1, "y": 2 } } }
# <- { "return": "red" }
#
# Since: 1.2
##
{ 'command': 'draw', 'data': { 'at': 'Point', '*shade': [ 'uint8' ] },
  'returns': 'Color', 'if': 'CONFIG_DRAW' }

##
# @erase:
#
# Erase everything.
#
# Features:
#
# @deprecated: draw in white instead::
#
#         -> { "execute": "draw" }
#
#         <- { "return": "red" }
#
# @unstable: may change
##
{ 'command': 'erase', 'features': [ 'deprecated', 'unstable' ] }
"""
RICH_PRAGMA = ("{ 'pragma': { 'command-returns-exceptions': "
               "[ 'draw' ] } }\n")

NO_DOCS = ("{ 'struct': 'Point', 'data': { 'x': 'int', '*y': 'int' } }\n"
           "{ 'command': 'move', 'data': { 'to': 'Point' } }\n"
           "{ 'event': 'MOVED', 'data': 'Point' }\n")


def gen(*args: str, cwd: Optional[str] = None) \
        -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, GEN, *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


class _Anchors(HTMLParser):
    """The ids and the internal links (#anchor) of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: Set[str] = set()
        self.links: List[str] = []

    def handle_starttag(self, tag: str,
                        attrs: List[Tuple[str, Optional[str]]]) -> None:
        for name, value in attrs:
            if name == 'id' and value:
                self.ids.add(value)
            if tag == 'a' and name == 'href' and value \
                    and value.startswith('#'):
                self.links.append(value[1:])


def anchors(html: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    return parser


class Manual(unittest.TestCase):
    """Renders schemas in the three formats and checks each with its
    tool.  OUT[schema name][format] is the text written."""
    tmp: str
    out: Dict[str, Dict[str, str]]

    @classmethod
    def setUpClass(cls) -> None:
        cls._tmp = tempfile.TemporaryDirectory()
        cls.tmp = cls._tmp.name
        rich = os.path.join(cls.tmp, 'drawing.json')
        with open(rich, 'w', encoding='utf-8') as f:
            f.write(RICH_PRAGMA + RICH)
        no_docs = os.path.join(cls.tmp, 'plain.json')
        with open(no_docs, 'w', encoding='utf-8') as f:
            f.write(NO_DOCS)
        cls.out = {}
        for schema in (KITCHEN_SINK, QMP_WIRE, rich, no_docs):
            name = os.path.basename(schema)[:-len('.json')]
            out_dir = os.path.join(cls.tmp, 'out-' + name)
            cls.out[name] = {}
            for fmt, ext in FORMATS.items():
                result = gen('--doc', fmt, '-o', out_dir, schema)
                if result.returncode != 0:
                    raise AssertionError('%s --doc %s failed:\n%s'
                                         % (schema, fmt, result.stderr))
                with open(os.path.join(out_dir, '%s.%s' % (name, ext)),
                          encoding='utf-8') as f:
                    cls.out[name][fmt] = f.read()

    @classmethod
    def tearDownClass(cls) -> None:
        cls._tmp.cleanup()

    def path(self, name: str, fmt: str) -> str:
        return os.path.join(self.tmp, 'out-' + name,
                            '%s.%s' % (name, FORMATS[fmt]))

    # The tools

    def test_html_is_valid_for_tidy(self) -> None:
        for name in self.out:
            with self.subTest(schema=name):
                result = subprocess.run(
                    ['tidy', '-q', '-e', self.path(name, 'html')],
                    capture_output=True, text=True, check=False)
                # 0: no error and no warning (1: warnings, 2: errors).
                self.assertEqual((result.returncode, result.stderr),
                                 (0, ''))

    def test_html_is_self_contained_and_its_links_resolve(self) -> None:
        for name, out in self.out.items():
            with self.subTest(schema=name):
                html = out['html']
                self.assertNotIn('<script', html)
                self.assertNotIn('<link', html)
                self.assertNotRegex(html, r'(src|href)="(?!#)')
                self.assertIn('<style>', html)
                found = anchors(html)
                self.assertTrue(found.links)
                self.assertEqual(set(found.links) - found.ids, set())

    def cmark(self, name: str) -> str:
        result = subprocess.run(
            ['cmark', '--unsafe', self.path(name, 'markdown')],
            capture_output=True, text=True, check=True)
        self.assertEqual(result.stderr, '')
        return result.stdout

    def test_markdown_anchors_resolve_under_cmark(self) -> None:
        for name in self.out:
            with self.subTest(schema=name):
                found = anchors(self.cmark(name))
                self.assertTrue(found.links)
                self.assertEqual(set(found.links) - found.ids, set())

    def test_markdown_reads_as_intended_under_cmark(self) -> None:
        html = self.cmark('drawing')
        # Escaped text stays text; markup becomes markup.
        self.assertIn('&lt;b&gt;&amp;amp; [x](y) \\fB # _under_ 1. not a '
                      'list', html)
        self.assertIn('<em>drawing</em>', html)
        self.assertIn('<strong>every</strong>', html)
        self.assertIn('<code>code</code>', html)
        self.assertIn('<a href="#type-Point"><code>Point</code></a>', html)
        self.assertIn('<pre><code>-&gt; { &quot;execute&quot;: '
                      '&quot;draw&quot;,\n     &quot;arguments&quot;', html)
        self.assertIn('<pre><code>{ &quot;x&quot;: 1', html)
        self.assertIn('<li>coordinates are integers, see', html)
        self.assertIn('<blockquote>\n<p><strong>Deprecated.</strong></p>',
                      html)
        self.assertRegex(html, r'<h\d><a id="command-draw"></a>Command '
                         r'<code>draw</code></h\d>')

    def man(self, name: str) -> str:
        result = subprocess.run(
            ['man', '--warnings', '-E', 'UTF-8', '-l',
             self.path(name, 'man')],
            capture_output=True, text=True, check=False,
            env=dict(os.environ, MANWIDTH='80'))
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        return re.sub('.\b', '', result.stdout)     # no overstriking

    def test_man_renders_without_warnings(self) -> None:
        for name in self.out:
            with self.subTest(schema=name):
                text = self.man(name)
                for section in ('NAME', 'DESCRIPTION', 'CONTENTS',
                                'Index'):
                    self.assertRegex(text, r'(?m)^%s$' % section)

    def test_man_page_text(self) -> None:
        page = self.out['drawing']['man']
        self.assertTrue(page.startswith('.\\" Generated by qapi-gen.py'))
        self.assertIn('.TH "DRAWING" 7 ', page)
        self.assertIn("\\&.TH starts this paragraph, 'quote too", page)
        self.assertIn('.EX\n\\-> { "execute": "draw",', page)
        text = self.man('drawing')
        self.assertIn(".TH starts this paragraph, 'quote too; it is no "
                      'request, and a backslash \\ stays.',
                      ' '.join(text.split()))
        self.assertIn('DEPRECATED:', text)
        self.assertIn('color: Color (optional)', text)
        self.assertIn('Only if CONFIG_BLUE and not CONFIG_NO_BLUE.', text)
        self.assertIn('-> { "execute": "draw",', text)

    # What the manual shows

    def entry(self, html: str, anchor: str) -> str:
        """The HTML of the entry whose heading has id ANCHOR."""
        match = re.search(r'<section class="entry">\n<h\d id="%s">.*?'
                          r'</section>' % re.escape(anchor), html, re.S)
        assert match, anchor
        return match.group(0)

    def test_deprecated_and_unstable_are_prominent(self) -> None:
        html = self.out['drawing']['html']
        erase = self.entry(html, 'command-erase')
        heading = erase.split('\n')[1]
        self.assertIn('<span class="badge badge-deprecated">deprecated'
                      '</span>', heading)
        self.assertIn('<span class="badge badge-unstable">unstable</span>',
                      heading)
        self.assertIn('<div class="warning warning-deprecated">\n'
                      '<p><strong>Deprecated</strong></p>\n'
                      '<p>draw in white instead:</p>', erase)
        self.assertIn('<div class="warning warning-unstable">', erase)
        point = self.entry(html, 'type-Point')
        self.assertIn('<dt><code>old-x</code>: <a href="#builtin-int">'
                      '<code>int</code></a> (optional) <span class="badge '
                      'badge-deprecated">deprecated</span></dt>', point)
        # The kitchen sink's deprecated command, in every format.
        ks = self.out['qapi-schema-test']
        self.assertIn('<div class="warning warning-deprecated">',
                      self.entry(ks['html'], 'command-ks-deprecated-cmd'))
        self.assertIn('> **Deprecated.**', ks['markdown'])
        self.assertIn('\\fBDEPRECATED:\\fR', ks['man'])

    def test_members_types_optional_and_links(self) -> None:
        html = self.out['drawing']['html']
        point = self.entry(html, 'type-Point')
        self.assertIn('<dt><code>x</code>: <a href="#builtin-int"><code>int'
                      '</code></a></dt>\n<dd>\n<p>abscissa</p>', point)
        self.assertIn('<dt><code>color</code>: <a href="#type-Color"><code>'
                      'Color</code></a> (optional)</dt>', point)
        draw = self.entry(html, 'command-draw')
        # An implicit argument type's members are the command's.
        self.assertIn('<p class="label">Arguments</p>', draw)
        self.assertIn('<dt><code>shade</code>: array of <a href="#builtin-'
                      'uint8"><code>uint8</code></a> (optional)</dt>', draw)
        self.assertIn('<p class="label">Returns</p>\n<p><a href="#type-'
                      'Color"><code>Color</code></a></p>\n<p>the color '
                      'drawn</p>', draw)
        self.assertNotIn('q_obj_', html)
        self.assertIn('<tr id="builtin-uint8"><td><code>uint8</code></td>',
                      html)
        # A struct with a base, a command whose data names a type.
        ks = self.out['qapi-schema-test']['html']
        self.assertIn('<p>The members of <a href="#type-KsMiddle"><code>'
                      'KsMiddle</code></a>, then:</p>',
                      self.entry(ks, 'type-KsDerived'))
        self.assertIn('<dt>when <code>kind</code> is <code>derived</code>'
                      '</dt>', self.entry(ks, 'type-KsFlatUnion'))
        self.assertNotIn('q_obj_', ks)

    def test_conditions_read_only_if(self) -> None:
        html = self.out['drawing']['html']
        self.assertIn('<span class="cond">Only if <code>CONFIG_BLUE</code> '
                      'and not <code>CONFIG_NO_BLUE</code>.</span>',
                      self.entry(html, 'type-Color'))
        self.assertIn('<p><span class="cond">Only if <code>CONFIG_DRAW'
                      '</code>.</span></p>', self.entry(html, 'command-draw'))
        self.assertIn('*Only if `CONFIG_BLUE` and not `CONFIG_NO_BLUE`.*',
                      self.out['drawing']['markdown'])
        self.assertIn('Only if', self.out['qapi-schema-test']['html'])

    def test_examples_and_literal_blocks_are_code(self) -> None:
        html = self.out['drawing']['html']
        draw = self.entry(html, 'command-draw')
        self.assertIn('<p class="label">Example</p>\n<pre><code>-&gt; '
                      '{ "execute": "draw",\n     "arguments": { "at": '
                      '{ "x": 1, "y": 2 } } }\n&lt;- { "return": "red" }'
                      '</code></pre>', draw)
        self.assertIn('<p>Points are written so:</p>\n<pre><code>'
                      '{ "x": 1, "y": 2 }\n\n{ "x": 3, "y": 4 }</code></pre>',
                      html)
        # Blank lines inside a literal block stay, in a warning too.
        self.assertIn('<pre><code>-&gt; { "execute": "draw" }\n\n&lt;- '
                      '{ "return": "red" }</code></pre>\n</div>', html)
        cmark = self.cmark('drawing')
        self.assertIn('<pre><code>{ &quot;x&quot;: 1, &quot;y&quot;: 2 }\n'
                      '\n{ &quot;x&quot;: 3', cmark)
        self.assertIn('<blockquote>\n<p><strong>Deprecated.</strong></p>\n'
                      '<p>draw in white instead:</p>\n<pre><code>-&gt; '
                      '{ &quot;execute&quot;: &quot;draw&quot; }\n\n&lt;- ',
                      cmark)
        man = self.man('drawing')
        self.assertRegex(man, r'\{ "x": 1, "y": 2 \}\n\n +\{ "x": 3')
        self.assertIn('```\n-> { "execute": "draw",',
                      self.out['drawing']['markdown'])

    def test_text_markup_and_escaping(self) -> None:
        html = self.out['drawing']['html']
        self.assertIn('<em>drawing</em>', html)
        self.assertIn('<strong>every</strong>', html)
        self.assertIn('<code>code</code>', html)
        self.assertIn('reference to <a href="#type-Point"><code>Point'
                      '</code></a>', html)
        self.assertIn('&lt;b&gt;&amp;amp;', html)
        self.assertNotIn('<b>', html)
        self.assertIn('<li>coordinates are integers, see <a href="#type-'
                      'Point"><code>Point</code></a></li>', html)
        # An @name that names no definition is code, not a link.
        self.assertIn('use <code>x</code> instead', html)

    def test_order_title_contents_and_index(self) -> None:
        html = self.out['drawing']['html']
        self.assertIn('<title>Drawing reference</title>', html)
        self.assertIn('<h1 id="top">Drawing reference</h1>', html)
        positions = [html.index(marker) for marker in (
            '<nav', 'id="sec-shapes"', 'id="type-Color"', 'id="type-Point"',
            'id="sec-commands"', 'id="command-draw"', 'id="command-erase"',
            'id="builtin-types"', 'id="index"')]
        self.assertEqual(positions, sorted(positions))
        nav = html[html.index('<nav'):html.index('</nav>')]
        for anchor in ('sec-shapes', 'type-Color', 'command-draw',
                       'builtin-types', 'index'):
            self.assertIn('href="#%s"' % anchor, nav)
        index = html[html.index('id="index"'):]
        self.assertLess(index.index('href="#type-Color"'),
                        index.index('href="#command-draw"'))
        self.assertLess(index.index('href="#command-erase"'),
                        index.index('href="#type-Point"'))
        # The daemon's reference: modules in reading order, the 2012-form
        # doc blocks of qapi/block.json read too.
        wire = self.out['qmp-wire']['html']
        self.assertIn('<title>qapikit-blockd QMP</title>', wire)
        self.assertLess(wire.index('id="command-quit"'),
                        wire.index('id="command-blockdev-group-snapshot-'
                                   'sync"'))
        self.assertLess(wire.index('id="command-query-block"'),
                        wire.index('id="command-qmp_capabilities"'))
        self.assertIn('<dt><code>format</code>: <a href="#builtin-str">'
                      '<code>str</code></a> (optional)</dt>\n<dd>\n<p>the '
                      'format of the overlay', wire)

    def test_schema_without_docs(self) -> None:
        html = self.out['plain']['html']
        self.assertIn('<title>Reference of plain.json</title>', html)
        self.assertIn('<dt><code>y</code>: <a href="#builtin-int"><code>int'
                      '</code></a> (optional)</dt>', html)
        self.assertIn('<p>The members of <a href="#type-Point"><code>Point'
                      '</code></a>.</p>', self.entry(html, 'event-MOVED'))


class EveryAcceptedSchema(unittest.TestCase):
    """Every schema the generator tests accept (tests/qapi-schema/NAME.json
    with a NAME.out, today's form) renders in the three formats, and each
    result passes its tool: tidy, cmark's anchors, man --warnings."""

    def test_every_case_renders_for_every_tool(self) -> None:
        cases = sorted(
            path for path in glob.glob(os.path.join(ROOT, 'tests',
                                                    'qapi-schema', '*.json'))
            if os.path.exists(path[:-len('.json')] + '.out')
            and not os.path.basename(path).startswith('compat-2012-'))
        self.assertGreater(len(cases), 100)
        with tempfile.TemporaryDirectory() as out:
            for path in cases:
                name = manual_name(path)
                schema = QAPISchema(path)
                for fmt, ext in FORMATS.items():
                    with open(os.path.join(out, '%s.%s' % (name, ext)), 'w',
                              encoding='utf-8') as f:
                        f.write(render(schema, fmt, path, '0'))
            self.check_tool(cases, out, 'html',
                            lambda f: ['tidy', '-q', '-e', f])
            self.check_tool(cases, out, 'md',
                            lambda f: ['cmark', '--unsafe', f],
                            check_links=True)
            self.check_tool(cases, out, '7',
                            lambda f: ['man', '--warnings', '-E', 'UTF-8',
                                       '-l', f])

    def check_tool(self, cases: List[str], out: str, ext: str,
                   command: Callable[[str], List[str]],
                   check_links: bool = False) -> None:
        for path in cases:
            page = os.path.join(out, '%s.%s' % (manual_name(path), ext))
            with self.subTest(case=os.path.basename(path), format=ext):
                result = subprocess.run(
                    command(page), capture_output=True, text=True,
                    check=False, env=dict(os.environ, MANWIDTH='80'))
                self.assertEqual((result.returncode, result.stderr), (0, ''))
                if check_links:
                    found = anchors(result.stdout)
                    self.assertEqual(set(found.links) - found.ids, set())


def render_text(test: unittest.TestCase, text: str,
                name: str = 'case') -> Dict[str, str]:
    """The manual of schema TEXT in each format, checked with tidy;
    the HTML also as OUT['tidy']."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name + '.json')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        schema = QAPISchema(path)
        out = {fmt: render(schema, fmt, path, '0') for fmt in FORMATS}
        html = os.path.join(tmp, name + '.html')
        with open(html, 'w', encoding='utf-8') as f:
            f.write(out['html'])
        result = subprocess.run(['tidy', '-q', '-e', html],
                                capture_output=True, text=True, check=False)
        test.assertEqual((result.returncode, result.stderr), (0, ''))
    return out


def html_headings(html: str) -> List[Tuple[int, str]]:
    """The level and id of each heading of HTML, in order."""
    return [(int(level), anchor) for level, anchor
            in re.findall(r'<h(\d) id="([^"]*)"', html)]


class Outline(unittest.TestCase):
    """Heading levels, the contents' nesting and the anchors."""

    def test_entry_before_any_heading(self) -> None:
        out = render_text(self, "##\n# @Deep:\n#\n# A struct.\n##\n"
                          "{ 'struct': 'Deep', 'data': {} }\n"
                          "##\n# == Later section\n##\n")
        self.assertEqual(html_headings(out['html']), [
            (1, 'top'), (2, 'contents'), (2, 'type-Deep'),
            (2, 'sec-later-section'), (2, 'index')])
        self.assertIn('## <a id="type-Deep"></a>Struct `Deep`',
                      out['markdown'])
        self.assertIn('- [`Deep`](#type-Deep) (struct)\n'
                      '- [Later section](#sec-later-section)\n'
                      '- [Index](#index)\n', out['markdown'])

    def test_levels_are_clamped(self) -> None:
        out = render_text(self, "##\n# = Manual\n##\n"
                          "##\n# @Deep:\n##\n"
                          "{ 'struct': 'Deep', 'data': {} }\n"
                          "##\n# === Skipped\n#\n# ==== Below\n##\n"
                          "##\n# @Deeper:\n##\n"
                          "{ 'struct': 'Deeper', 'data': {} }\n"
                          "##\n# == Second\n##\n"
                          "##\n# @Last:\n##\n"
                          "{ 'struct': 'Last', 'data': { 'a': 'int' } }\n")
        self.assertEqual(html_headings(out['html']), [
            (1, 'top'), (2, 'contents'), (2, 'type-Deep'),
            (2, 'sec-skipped'), (3, 'sec-below'), (4, 'type-Deeper'),
            (2, 'sec-second'), (3, 'type-Last'), (2, 'builtin-types'),
            (2, 'index')])
        self.assertIn('- [`Deep`](#type-Deep) (struct)\n'
                      '- [Skipped](#sec-skipped)\n'
                      '  - [Below](#sec-below)\n'
                      '    - [`Deeper`](#type-Deeper) (struct)\n'
                      '- [Second](#sec-second)\n'
                      '  - [`Last`](#type-Last) (struct)\n'
                      '- [Built-in types](#builtin-types)\n'
                      '- [Index](#index)\n', out['markdown'])

    def test_heading_anchors_are_unique(self) -> None:
        for text in ('##\n# == Setup\n#\n# == Setup\n#\n# == Setup 2\n'
                     '##\n',
                     '##\n# = Foo\n##\n##\n# == Foo\n#\n# == Foo 2\n'
                     '#\n# == Index\n#\n# == Foo 2\n##\n'):
            with self.subTest(text=text):
                ids = [anchor for _, anchor
                       in html_headings(render_text(self, text)['html'])]
                self.assertEqual(len(ids), len(set(ids)))
                self.assertEqual(len(ids), 6 if 'Setup' in text else 7)


LEGACY = """##
# @Snap
#
# @Snap: what a snapshot needs
#
# @device: the device
#
# @device: described twice
#
# Since: 1.1
# Since: 1.2
##
{ 'type': 'Snap', 'data': { 'device': 'str' } }

##
# @snap-all
#
# Snapshots a group of devices.
#
# List of:
# @Snap: information needed for the device snapshot
#
# @other: no such argument
#
# Returns: nothing on success
#
# Returns: DeviceNotFound
##
{ 'command': 'snap-all', 'data': { 'devlist': [ 'Snap' ] } }
"""


class LegacyDocs(unittest.TestCase):
    """A 2012 doc block (§11/5) is split without losing any text."""

    def test_no_text_is_dropped(self) -> None:
        out = render_text(self, LEGACY)
        markdown = out['markdown']
        self.assertIn('## <a id="type-Snap"></a>Struct `Snap`\n\n'
                      'what a snapshot needs\n', markdown)
        self.assertIn('- `device`: [`str`](#builtin-str)\n\n  the device'
                      '\n\n  described twice\n', markdown)
        self.assertIn('**Since:** 1.1; 1.2\n', markdown)
        self.assertIn('Snapshots a group of devices.\n\nList of: '
                      '[`Snap`](#type-Snap): information needed for the '
                      'device snapshot\n\n`other`: no such argument\n',
                      markdown)
        self.assertIn('**Returns**\n\nnothing on success\n\n'
                      'DeviceNotFound\n', markdown)
        self.assertIn('List of: <a href="#type-Snap"><code>Snap</code></a>'
                      ': information needed', out['html'])
        self.assertIn('described twice', out['man'])


LONG_STRUCT = ('ThisStructHasANameOfSeventyCharacters'
               'OrMoreWhichNoTerminalLineHolds')
LONG_MEMBER = ('a-member-whose-name-is-long-enough-'
               'to-overflow-a-line-of-any-width')
LONG_URL = 'https://gitlab.com/qemu-project/qemu/-/blob/master/docs/interop/'
LONG_EXAMPLE = ('-> { "execute": "thing", "arguments": '
                '{ "a-very-long-argument-name": "a-very-long-value" } }')
LONG_WORDS = """##
# = Long words
##

##
# @%(struct)s:
#
# See %(url)sqemu-qmp-ref-and-more.rst
# or %(xs)s.
#
# @%(member)s: see
#     %(url)sqemu-qmp-ref.rst
#
# Example:
#
#     %(example)s
##
{ 'struct': '%(struct)s',
  'data': { '%(member)s': 'str' } }
""" % {'struct': LONG_STRUCT, 'member': LONG_MEMBER, 'url': LONG_URL,
       'xs': 'x' * 72, 'example': LONG_EXAMPLE}


class ManLongWords(unittest.TestCase):
    """A word no line can hold (a URL, a long name) breaks in a man
    page; a literal block keeps its lines."""

    def test_long_words_break_without_warnings(self) -> None:
        page = render_text(self, LONG_WORDS, 'long')['man']
        self.assertIn('.EX\n%s\n.EE' % LONG_EXAMPLE.replace('-', '\\-'),
                      page)
        self.assertIn('https://\\:gitlab.\\:com/\\:', page)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'long.7')
            with open(path, 'w', encoding='utf-8') as f:
                f.write(page)
            for width in ('80', '60'):
                with self.subTest(width=width):
                    result = subprocess.run(
                        ['man', '--warnings', '-E', 'UTF-8', '-l', path],
                        capture_output=True, text=True, check=False,
                        env=dict(os.environ, MANWIDTH=width))
                    self.assertEqual((result.returncode, result.stderr),
                                     (0, ''))
                    text = re.sub('.\b', '', result.stdout)
                    self.assertIn(LONG_EXAMPLE, text)
                    self.assertIn('https://gitlab.com/', text)


class CommandLine(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def test_file_names(self) -> None:
        out = os.path.join(self.tmp, 'out')
        for fmt in FORMATS:
            self.assertEqual(gen('--doc', fmt, '-p', 'qapikit-', '-o', out,
                                 QMP_WIRE).returncode, 0)
        self.assertEqual(sorted(os.listdir(out)),
                         ['qapikit-qmp-wire.7', 'qapikit-qmp-wire.html',
                          'qapikit-qmp-wire.md'])

    def test_compat_2012_is_refused(self) -> None:
        for fmt in FORMATS:
            result = gen('--doc', fmt, '--compat', '2012', '-o', self.tmp,
                         COMPAT_2012)
            self.assertEqual(result.returncode, 2)
            self.assertIn('usage:', result.stderr)
            self.assertIn('--doc needs doc comments, which --compat 2012 '
                          'does not read', result.stderr)
            self.assertEqual(os.listdir(self.tmp), [])

    def test_modes_exclude_each_other(self) -> None:
        for other in ('--dump-model', '--json-schema'):
            result = gen('--doc', 'html', other, KITCHEN_SINK)
            self.assertEqual(result.returncode, 2)
            self.assertIn('exclude each other', result.stderr)
        result = gen('--doc', 'pdf', KITCHEN_SINK)
        self.assertEqual(result.returncode, 2)
        self.assertIn("invalid choice: 'pdf'", result.stderr)

    def test_schema_error_writes_nothing(self) -> None:
        bad = os.path.join(self.tmp, 'bad.json')
        with open(bad, 'w', encoding='utf-8') as f:
            f.write("{ 'struct': 'Point',\n  'data': { 'x': 'Nowhere' } }\n")
        out = os.path.join(self.tmp, 'out')
        result = gen('--doc', 'html', '-o', out, 'bad.json', cwd=self.tmp)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"(?m)^bad\.json:1: member 'x' "
                         r"refers to unknown type 'Nowhere'$")
        self.assertNotIn('Traceback', result.stderr)
        self.assertFalse(os.path.exists(out))


class Markup(unittest.TestCase):
    """text.py on its own: the blocks a doc section's text becomes."""

    @staticmethod
    def resolve(name: str) -> Optional[str]:
        return 'type-' + name if name[:1].isupper() else None

    def test_transcript_literal_and_bullets(self) -> None:
        blocks = parse_blocks(
            'Intro::\n\n    {\n      "a": 1\n    }\n\nThen:\n\n'
            '- one\n  more\n- two\n\n-> {}\n<- { "return":\n     {} }\n'
            'after', self.resolve)
        self.assertEqual([type(b) for b in blocks],
                         [Para, Literal, Para, Bullets, Literal, Para])
        literal = blocks[1]
        assert isinstance(literal, Literal)
        self.assertEqual(literal.text, '{\n  "a": 1\n}')
        bullets = blocks[3]
        assert isinstance(bullets, Bullets)
        self.assertEqual(len(bullets.items), 2)
        first = bullets.items[0][0]
        assert isinstance(first, Para)
        self.assertEqual(first.inlines, [('text', 'one more', '')])
        transcript = blocks[4]
        assert isinstance(transcript, Literal)
        self.assertEqual(transcript.text,
                         '-> {}\n<- { "return":\n     {} }')

    def test_inlines(self) -> None:
        blocks = parse_blocks('See @Point and @x, *a* **b** ``c`` `d`, '
                              'mail a@Point, 2 * 3 * 4.', self.resolve)
        para = blocks[0]
        assert isinstance(para, Para)
        self.assertEqual(para.inlines, [
            ('text', 'See ', ''), ('ref', 'Point', 'type-Point'),
            ('text', ' and ', ''), ('code', 'x', ''), ('text', ', ', ''),
            ('emph', 'a', ''), ('text', ' ', ''), ('strong', 'b', ''),
            ('text', ' ', ''), ('code', 'c', ''), ('text', ' ', ''),
            ('code', 'd', ''), ('text', ', mail a@Point, 2 * 3 * 4.', '')])


if __name__ == '__main__':
    unittest.main()
