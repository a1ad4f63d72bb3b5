# SPDX-License-Identifier: MIT
"""The manual as one HTML5 file: its style sheet inline, no script."""

import re
from html import escape
from typing import Sequence

from .layout import Layout, Row, toc_depths
from .model import Builtin, Entry, Manual, TocLine
from .text import Inline

STYLE = '''
body { margin: 0 auto; max-width: 52em; padding: 1em 1.5em 3em;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1f2328; background: #fff; }
h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.6em 0 .5em; }
h1 { font-size: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { font-size: 1.5em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h3 { font-size: 1.25em; }
h4, h5, h6 { font-size: 1.1em; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace;
            font-size: .9em; }
code { background: #f3f4f6; padding: .1em .3em; border-radius: 4px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px;
      padding: .8em 1em; overflow-x: auto; line-height: 1.4; }
pre code { background: none; padding: 0; font-size: 1em; }
a { color: #0969da; text-decoration: none; }
a:hover { text-decoration: underline; }
a code { color: #0969da; }
.entry { border-top: 1px solid #eaeef2; margin-top: 2em; }
.kind { color: #57606a; font-weight: normal; font-size: .8em;
        text-transform: uppercase; letter-spacing: .05em; }
.badge { display: inline-block; font-size: .75em; font-weight: bold;
         padding: .1em .5em; border-radius: 1em; vertical-align: middle;
         color: #fff; background: #bf8700; text-transform: uppercase; }
.badge-deprecated { background: #cf222e; }
.warning { border-left: 4px solid #bf8700; background: #fff8c5;
           padding: .2em 1em; margin: 1em 0; }
.warning-deprecated { border-color: #cf222e; background: #ffebe9; }
.label { font-weight: bold; margin-bottom: .3em; }
dl { margin: 0 0 1em; }
dt { margin-top: .6em; }
dd { margin-left: 1.5em; }
dd > p:first-child { margin-top: .2em; }
dd > p:last-child { margin-bottom: .2em; }
.cond { font-style: italic; color: #57606a; }
nav ul { list-style: none; padding-left: 1.2em; margin: 0; }
nav > ul { padding-left: 0; }
nav .toc-kind { color: #57606a; font-size: .85em; }
.index ul { columns: 16em; padding-left: 1.2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .3em .7em; text-align: left; }
footer { margin-top: 3em; color: #57606a; font-size: .85em; }
'''.strip('\n')


# A rendered block that is one paragraph.
_ONE_PARA = re.compile(r'<p>(?:(?!</?p>).)*</p>', re.S)


class HTMLLayout(Layout):
    def escape(self, text: str) -> str:
        return escape(text, quote=False)

    def code(self, text: str) -> str:
        return '<code>%s</code>' % escape(text, quote=False)

    def link(self, markup: str, anchor: str) -> str:
        return '<a href="#%s">%s</a>' % (escape(anchor), markup)

    def emph(self, markup: str) -> str:
        return '<em>%s</em>' % markup

    def strong(self, markup: str) -> str:
        return '<strong>%s</strong>' % markup

    def para(self, markup: str) -> str:
        return '<p>%s</p>' % markup

    def kind(self, word: str) -> str:
        return '<span class="kind">%s</span>' % self.esc(word)

    def label(self, title: str) -> str:
        return '<p class="label">%s</p>' % self.esc(title)

    def literal(self, text: str) -> str:
        return '<pre><code>%s</code></pre>' % escape(text, quote=False)

    def bullets(self, items: Sequence[str]) -> str:
        return '<ul>\n%s\n</ul>' % '\n'.join(
            '<li>%s</li>' % (item[3:-4] if _ONE_PARA.fullmatch(item)
                             else item)
            for item in items)

    def heading(self, level: int, markup: str, anchor: str) -> str:
        return '<h%d id="%s">%s</h%d>' % (level, escape(anchor), markup,
                                          level)

    def fields(self, rows: Sequence[Row]) -> str:
        if not rows:
            return ''
        out = ['<dl>']
        for term, body in rows:
            out.append('<dt>%s</dt>' % term)
            if body:
                out.append('<dd>\n%s\n</dd>' % body)
        out.append('</dl>')
        return '\n'.join(out)

    def warning(self, label: str, body: str) -> str:
        return self.join([
            '<div class="warning warning-%s">' % escape(label.lower()),
            '<p><strong>%s</strong></p>' % self.esc(label), body, '</div>'])

    def badge(self, word: str) -> str:
        return '<span class="badge badge-%s">%s</span>' % (
            escape(word), self.esc(word))

    def cond(self, cond: Sequence[Inline]) -> str:
        return '<span class="cond">Only if %s.</span>' % self.inlines(cond)

    def entry(self, entry: Entry) -> str:
        return '<section class="entry">\n%s\n</section>' % \
            super().entry(entry)

    def builtin_list(self, builtins: Sequence[Builtin],
                     rows: Sequence[Row]) -> str:
        out = ['<table>', '<thead><tr><th>Type</th><th>Values</th></tr>'
               '</thead>', '<tbody>']
        for builtin in builtins:
            out.append('<tr id="%s"><td>%s</td><td>%s</td></tr>'
                       % (escape(builtin.anchor), self.code(builtin.name),
                          self.esc(builtin.meaning)))
        out += ['</tbody>', '</table>']
        return '\n'.join(out)

    def index(self) -> str:
        return '<section class="index">\n%s\n</section>' % super().index()

    def toc(self, lines: Sequence[TocLine]) -> str:
        out = ['<nav aria-labelledby="contents">',
               '<h2 id="contents">Contents</h2>']
        depth = -1
        for line, new in zip(lines, toc_depths(lines)):
            if new > depth:
                out += ['<ul>', '<li>'] * (new - depth)
            else:
                out.append('</li>')
                out += ['</ul>', '</li>'] * (depth - new)
                out.append('<li>')
            depth = new
            if line.kind:
                out.append('<a href="#%s"><code>%s</code></a> '
                           '<span class="toc-kind">%s</span>'
                           % (escape(line.anchor), self.esc(line.title),
                              line.kind))
            else:
                out.append('<a href="#%s">%s</a>' % (escape(line.anchor),
                                                    self.esc(line.title)))
        out += ['</li>', '</ul>'] * (depth + 1)
        out.append('</nav>')
        return '\n'.join(out)

    def frame(self, body: str) -> str:
        manual = self.manual
        return '''<!DOCTYPE html>
<!-- Generated by qapi-gen.py (qapikit {version}) from {source}; do not edit. -->
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="qapi-gen.py (qapikit {version})">
<title>{title}</title>
<style>
{style}
</style>
</head>
<body>
<header>
<h1 id="top">{title}</h1>{intro}
</header>
{toc}
<main>
{body}
</main>
<footer>
<p>Generated by qapi-gen.py (qapikit {version}) from <code>{source}</code>.</p>
</footer>
</body>
</html>
'''.format(version=escape(self.version), source=escape(manual.source),
           title=self.esc(manual.title), style=STYLE,
           intro=''.join('\n' + part for part in [self.intro()] if part),
           toc=self.toc(manual.toc()), body=body)


def render_html(manual: Manual, version: str) -> str:
    return HTMLLayout(manual, version).render()
